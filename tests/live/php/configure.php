<?php
// Set a freshly loaded site up for moodle-sync exactly as docs/admin-guide.md says, from the
// same registry the guide is generated from (tests/live/site.py writes the JSON):
// - web services and the REST protocol on;
// - an external service holding exactly the registry's functions;
// - a system role holding exactly the registry's capabilities, assigned to the integration user;
// - a token for the integration user on that service, and one for the user with no role;
// - for the tests only: an admin token on a service with every function the tests look up, and
//   a token per student on a service that reads that student's own messages.
//
// Usage: MOODLE_DIRROOT=... php configure.php SETUP.json    Prints the tokens as JSON on stdout.

define('CLI_SCRIPT', true);
$setupfile = $argv[1];
require(getenv('MOODLE_DIRROOT') . '/config.php');

$setup = json_decode(file_get_contents($setupfile), true, 512, JSON_THROW_ON_ERROR);
$admin = get_admin();
\core\session\manager::set_user($admin);
$system = context_system::instance();

set_config('enablewebservices', 1);
set_config('webserviceprotocols', 'rest');
set_config('auth', 'webservice');  // the integration user's auth method, as the guide says

function service(string $shortname, array $functions): stdClass {
    global $DB;
    $id = $DB->insert_record('external_services', [
        'name' => $shortname, 'shortname' => $shortname, 'enabled' => 1, 'restrictedusers' => 0,
        'requiredcapability' => '', 'timecreated' => time(), 'downloadfiles' => 0, 'uploadfiles' => 0,
    ]);
    foreach (array_unique($functions) as $function) {
        $DB->insert_record('external_services_functions',
            ['externalserviceid' => $id, 'functionname' => $function]);
    }
    return $DB->get_record('external_services', ['id' => $id]);
}

function system_role(string $shortname, array $capabilities): int {
    $roleid = create_role($shortname, $shortname, 'Created by the moodle-sync live tests');
    set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);
    foreach ($capabilities as $capability) {
        assign_capability($capability, CAP_ALLOW, $roleid, context_system::instance()->id);
    }
    return $roleid;
}

function token(stdClass $service, int $userid, string $name): string {
    return \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, $userid,
        context_system::instance(), 0, '', $name);
}

function user_id(string $username): int {
    global $DB, $CFG;
    return (int) $DB->get_field('user', 'id',
        ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id], MUST_EXIST);
}

$missing = array_filter($setup['capabilities'], fn($c) => !get_capability_info($c));
if ($missing) {
    fwrite(STDERR, 'capabilities unknown to this Moodle: ' . implode(', ', $missing) . "\n");
    exit(3);
}
$integration = user_id($setup['integration_user']);
$roleid = system_role($setup['role'], $setup['capabilities']);
role_assign($roleid, $integration, $system->id);
$service = service($setup['service'], $setup['functions']);

$tokens = [
    'token' => token($service, $integration, 'moodle-sync live tests'),
    'no_capability_token' => token($service, user_id($setup['no_capability_user']), 'no role'),
    'admin_token' => token(service($setup['admin_service'], $DB->get_fieldset_select(
        'external_functions', 'name', '')), (int) $admin->id, 'live tests: admin look-ups'),
    'student_tokens' => [],
];
$wsrole = system_role('live_tests_student_ws', ['webservice/rest:use']);
$studentservice = service('live_tests_student', $setup['student_functions']);
foreach ($setup['students'] as $username) {
    $userid = user_id($username);
    role_assign($wsrole, $userid, $system->id);
    $tokens['student_tokens'][$username] = token($studentservice, $userid, 'live tests: own messages');
}
purge_all_caches();
echo json_encode($tokens), "\n";
