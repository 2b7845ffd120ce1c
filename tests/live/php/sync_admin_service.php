<?php
// Add every installed web-service function (a plugin's new ones, after an upgrade) to the
// tests' admin service, so the admin token can call them.
// Usage: MOODLE_DIRROOT=... php sync_admin_service.php ADMIN_SERVICE_SHORTNAME

define('CLI_SCRIPT', true);
require(getenv('MOODLE_DIRROOT') . '/config.php');

$serviceid = $DB->get_field('external_services', 'id', ['shortname' => $argv[1]], MUST_EXIST);
$have = $DB->get_fieldset_select('external_services_functions', 'functionname',
    'externalserviceid = ?', [$serviceid]);
foreach (array_diff($DB->get_fieldset_select('external_functions', 'name', ''), $have) as $name) {
    $DB->insert_record('external_services_functions',
        ['externalserviceid' => $serviceid, 'functionname' => $name]);
}
