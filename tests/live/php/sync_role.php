<?php
// Give a system role exactly the listed capabilities: allow the missing ones, remove the rest.
// Usage: MOODLE_DIRROOT=... php sync_role.php ROLE_SHORTNAME CAPABILITY...
// Prints {"added": [...], "removed": [...]} on stdout.

define('CLI_SCRIPT', true);
require(getenv('MOODLE_DIRROOT') . '/config.php');

[$shortname, $wanted] = [$argv[1], array_slice($argv, 2)];
$unknown = array_filter($wanted, fn($c) => !get_capability_info($c));
if ($unknown) {
    fwrite(STDERR, 'capabilities unknown to this Moodle: ' . implode(', ', $unknown) . "\n");
    exit(3);
}
$roleid = $DB->get_field('role', 'id', ['shortname' => $shortname], MUST_EXIST);
$system = context_system::instance();
$have = $DB->get_fieldset_select('role_capabilities', 'capability',
    'roleid = ? AND contextid = ? AND permission = ?', [$roleid, $system->id, CAP_ALLOW]);
$added = array_values(array_diff($wanted, $have));
$removed = array_values(array_diff($have, $wanted));
foreach ($added as $capability) {
    assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
}
foreach ($removed as $capability) {
    unassign_capability($capability, $roleid, $system->id);
}
if ($added || $removed) {
    accesslib_clear_all_caches(true);
    purge_all_caches();
}
echo json_encode(['added' => $added, 'removed' => $removed]), "\n";
