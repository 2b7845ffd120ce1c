<?php
// Test helper for tests/live/test_privacy.py. Usage: php privacy_fixture.php DIRROOT COMMAND ARGS;
// prints one JSON document on its last line. Never run it on a real site: it deletes data.
//
//   delete USERID   Moodle's privacy API deletes the user's local_cetadsync data, as an approved
//                   deletion request does (core_privacy\manager, the plugin's contexts only)
//   record USERID   her programme record's status ('' when none) and the records epoch

define('CLI_SCRIPT', true);
require($argv[1] . '/config.php');
\core\session\manager::set_user(get_admin());

$command = $argv[2];
$userid = (int)$argv[3];
$out = match ($command) {
    'delete' => delete_for_user($userid),
    'record' => ['status' => (string)$DB->get_field('local_cetadsync_progress', 'status', ['userid' => $userid, 'courseid' => SITEID]),
        'epoch' => (int)get_config('local_cetadsync', 'recordsepoch')],
    default => throw new coding_exception("unknown command $command"),
};
echo json_encode($out), "\n";

/** The privacy API's deletion of one user's data in this plugin's contexts. */
function delete_for_user(int $userid): array {
    $user = core_user::get_user($userid, '*', MUST_EXIST);
    $manager = new \core_privacy\manager();
    $found = $manager->get_contexts_for_userid($userid);
    $approved = new \core_privacy\local\request\contextlist_collection($userid);
    foreach ($found as $component => $contexts) {
        if ($component === 'local_cetadsync') {
            $approved->add_contextlist(new \core_privacy\local\request\approved_contextlist(
                $user, $component, $contexts->get_contextids()));
        }
    }
    $manager->delete_data_for_user($approved);
    return ['contexts' => $approved->get_contextlist_for_component('local_cetadsync')?->count() ?? 0];
}
