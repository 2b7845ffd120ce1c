<?php
// Test helper for tests/live/test_plugin.py: builds data and inspects a throwaway Moodle site.
// Usage: php cetadsync_fixture.php DIRROOT COMMAND [ARGS...]; prints one JSON document.
// Never run it on a real site: it creates users, courses and tokens with Moodle's test generator.

define('CLI_SCRIPT', true);
require($argv[1] . '/config.php');
require_once($CFG->dirroot . '/lib/phpunit/classes/util.php');
require_once($CFG->dirroot . '/mod/assign/locallib.php');
\core\session\manager::set_user(get_admin());

$command = $argv[2];
$args = array_slice($argv, 3);
$out = match ($command) {
    'data' => make_data($args[0]),
    'nocap' => token_without_capability($args[0]),
    'override' => add_user_override((int)$args[0], (int)$args[1], (int)$args[2]),
    'sentcount' => ['notifications' => $DB->count_records('notifications',
        ['useridto' => (int)$args[0], 'component' => 'local_cetadsync'])],
    'privacy' => privacy_round_trip((int)$args[0]),
    'rolecaps' => $DB->get_fieldset_sql("SELECT rc.capability FROM {role_capabilities} rc JOIN {role} r ON r.id = rc.roleid
        WHERE r.shortname = ? AND rc.permission = ? ORDER BY rc.capability", [$args[0], CAP_ALLOW]),
    'providers' => array_combine(['studentreminder', 'tutordigest', 'adminalert'], array_map(
        fn($name) => get_config('message', "message_provider_local_cetadsync_{$name}_enabled"),
        ['studentreminder', 'tutordigest', 'adminalert'])),
    'enrol' => ['enrolled' => phpunit_util::get_data_generator()->enrol_user((int)$args[0], (int)$args[1], 'student')],
    'scale' => make_scale((int)$args[0], (int)$args[1], $args[2]),
    'downgrade' => downgrade((int)$args[0], $args[1]),
    'progresscount' => ['progress' => $DB->count_records('local_cetadsync_progress'),
        'version' => (int)get_config('local_cetadsync', 'version')],
    'progress' => ['row' => $DB->get_record('local_cetadsync_progress', ['userid' => (int)$args[0], 'courseid' => 1]),
        'lastsync' => (int)get_config('local_cetadsync', 'lastsync')],
    'fields' => array_values($DB->get_fieldset_select('user_info_field', 'shortname', '1 = 1')),
    default => throw new coding_exception("unknown command $command"),
};
echo json_encode($out), "\n";

/**
 * Two courses, students in every enrolment state, an assignment with user and group overrides
 * and an extension. $tag keeps names unique when the test runs again on the same site.
 */
function make_data(string $tag): array {
    global $DB;
    $gen = phpunit_util::get_data_generator();
    $now = time();
    $courses = [$gen->create_course(['shortname' => "CS-A-$tag"]), $gen->create_course(['shortname' => "CS-B-$tag"])];
    [$a, $b] = $courses;
    $u = [];
    foreach (['active', 'suspended', 'ended', 'future', 'selfdisabled', 'grouped', 'extended', 'teacher'] as $name) {
        $u[$name] = $gen->create_user(['username' => "cs_{$name}_$tag", 'firstname' => ucfirst($name), 'lastname' => $tag]);
    }
    $gen->enrol_user($u['active']->id, $a->id, 'student');
    $gen->enrol_user($u['suspended']->id, $a->id, 'student', 'manual', 0, 0, ENROL_USER_SUSPENDED);
    $gen->enrol_user($u['ended']->id, $a->id, 'student', 'manual', $now - 20 * DAYSECS, $now - DAYSECS);
    $gen->enrol_user($u['future']->id, $a->id, 'student', 'manual', $now + 5 * DAYSECS);
    $gen->enrol_user($u['grouped']->id, $a->id, 'student');
    $gen->enrol_user($u['extended']->id, $a->id, 'student');
    $gen->enrol_user($u['teacher']->id, $a->id, 'editingteacher');
    $gen->enrol_user($u['active']->id, $b->id, 'student');
    $gen->enrol_user($u['teacher']->id, $b->id, 'teacher');
    // A disabled self-enrolment method: the enrolment is active but not current.
    $self = enrol_get_plugin('self');
    $instanceid = $self->add_instance($a, ['status' => ENROL_INSTANCE_DISABLED]);
    $self->enrol_user($DB->get_record('enrol', ['id' => $instanceid]), $u['selfdisabled']->id,
        $DB->get_field('role', 'id', ['shortname' => 'student']));

    $due = $now + 10 * DAYSECS;
    $assign = $gen->get_plugin_generator('mod_assign')->create_instance(['course' => $a->id,
        'duedate' => $due, 'cutoffdate' => $due + 2 * DAYSECS, 'allowsubmissionsfromdate' => $now - DAYSECS]);
    $agen = $gen->get_plugin_generator('mod_assign');
    $agen->create_override(['assignid' => $assign->id, 'userid' => $u['active']->id, 'duedate' => $due + DAYSECS]);
    $group = $gen->create_group(['courseid' => $a->id, 'name' => "G-$tag"]);
    $gen->create_group_member(['groupid' => $group->id, 'userid' => $u['grouped']->id]);
    $gen->create_group_member(['groupid' => $group->id, 'userid' => $u['active']->id]);
    $agen->create_override(['assignid' => $assign->id, 'groupid' => $group->id, 'sortorder' => 1,
        'duedate' => $due + 3 * DAYSECS, 'cutoffdate' => $due + 4 * DAYSECS]);
    $cm = get_coursemodule_from_instance('assign', $assign->id);
    $assignobj = new assign(context_module::instance($cm->id), $cm, $a);
    $assignobj->save_user_extension($u['extended']->id, $due + 7 * DAYSECS);
    $plain = $gen->get_plugin_generator('mod_assign')->create_instance(['course' => $b->id, 'duedate' => $due]);
    // A relative-dates course: a student who started five days after the course has five more days.
    set_config('enablecourserelativedates', 1);
    $r = $gen->create_course(['shortname' => "CS-R-$tag", 'relativedatesmode' => 1, 'startdate' => $now - 20 * DAYSECS]);
    $gen->enrol_user($u['active']->id, $r->id, 'student', 'manual', $now - 15 * DAYSECS);
    $gen->enrol_user($u['grouped']->id, $r->id, 'student', 'manual', $now - 20 * DAYSECS);
    $relative = $agen->create_instance(['course' => $r->id, 'duedate' => $due]);
    return ['courses' => [(int)$a->id, (int)$b->id], 'assignid' => (int)$assign->id, 'plainassignid' => (int)$plain->id,
        'relativeassignid' => (int)$relative->id,
        'groupid' => (int)$group->id, 'users' => array_map(fn($user) => (int)$user->id, $u), 'siteid' => SITEID];
}

/** A user allowed to use REST on the plugin's service, without any of the plugin's capabilities. */
function token_without_capability(string $tag): array {
    global $DB;
    $user = phpunit_util::get_data_generator()->create_user(['username' => "cs_nocap_$tag"]);
    $roleid = $DB->get_field('role', 'id', ['shortname' => 'cetadsync_restonly'])
        ?: create_role('REST only', 'cetadsync_restonly', 'Test role: REST, nothing else');
    $system = context_system::instance();
    assign_capability('webservice/rest:use', CAP_ALLOW, $roleid, $system->id, true);
    role_assign($roleid, $user->id, $system->id);
    $service = \local_cetadsync\local\integration::authorise($user->id);
    return ['userid' => (int)$user->id,
        'token' => \local_cetadsync\local\integration::issue_token($service, $user->id, true)];
}

/** A user override added as mod_assign's form adds it: record, then event. */
function add_user_override(int $assignid, int $userid, int $duedate): array {
    global $DB;
    $id = $DB->insert_record('assign_overrides', (object)['assignid' => $assignid, 'userid' => $userid, 'duedate' => $duedate]);
    $cm = get_coursemodule_from_instance('assign', $assignid);
    \mod_assign\event\user_override_created::create(['context' => context_module::instance($cm->id), 'objectid' => $id,
        'relateduserid' => $userid, 'other' => ['assignid' => $assignid]])->trigger();
    return ['overrideid' => $id];
}

/** Export a user's data through the privacy provider, then delete it; report both. */
function privacy_round_trip(int $userid): array {
    global $DB;
    $user = core_user::get_user($userid, '*', MUST_EXIST);
    $contexts = \local_cetadsync\privacy\provider::get_contexts_for_userid($userid);
    $approved = new \core_privacy\local\request\approved_contextlist($user, 'local_cetadsync', $contexts->get_contextids());
    \local_cetadsync\privacy\provider::export_user_data($approved);
    $zip = \core_privacy\local\request\writer::with_context(context_system::instance())->finalise_content();
    $exported = [];
    $archive = new ZipArchive();
    $archive->open($zip);
    for ($i = 0; $i < $archive->numFiles; $i++) {
        $name = $archive->getNameIndex($i);
        if (str_ends_with($name, 'data.json')) {
            $exported[$name] = json_decode($archive->getFromIndex($i), true);
        }
    }
    $before = ['sent' => $DB->count_records('local_cetadsync_sent', ['userid' => $userid]),
        'progress' => $DB->count_records('local_cetadsync_progress', ['userid' => $userid])];
    \local_cetadsync\privacy\provider::delete_data_for_user($approved);
    $after = ['sent' => $DB->count_records('local_cetadsync_sent', ['userid' => $userid]),
        'progress' => $DB->count_records('local_cetadsync_progress', ['userid' => $userid])];
    return ['compliant' => (new \core_privacy\manager())->component_is_compliant('local_cetadsync'),
        'contexts' => count($contexts->get_contextids()), 'exported' => $exported, 'before' => $before, 'after' => $after];
}

/** Pretend an older plugin version is installed, one whose profile field went missing. */
function downgrade(int $version, string $lostfield): array {
    global $DB;
    set_config('version', $version, 'local_cetadsync');
    set_config('allversionshash', ''); // Otherwise the upgrade sees unchanged code and does nothing.
    $DB->delete_records('user_info_field', ['shortname' => $lostfield]);
    if ($version < 2026120400) { // The progression table as 2026120203 had it: no page columns.
        $dbman = $DB->get_manager();
        $table = new xmldb_table('local_cetadsync_progress');
        $dbman->drop_index($table, new xmldb_index('courseurgency', XMLDB_INDEX_NOTUNIQUE, ['courseid', 'urgency']));
        foreach (['award', 'awardcredits', 'priorcredits', 'priorcap', 'urgency', 'latework', 'detail'] as $name) {
            $dbman->drop_field($table, new xmldb_field($name));
        }
    }
    return ['version' => $version, 'progress' => $DB->count_records('local_cetadsync_progress')];
}

/** $courses courses of $perCourse students drawn from a pool, each with one assignment, two overrides and an extension. */
function make_scale(int $courses, int $percourse, string $tag): array {
    $gen = phpunit_util::get_data_generator();
    $agen = $gen->get_plugin_generator('mod_assign');
    $pool = [];
    for ($i = 0; $i < max($percourse * 2, 10); $i++) {
        $pool[] = (int)$gen->create_user(['username' => "sc_{$tag}_$i"])->id;
    }
    $due = time() + 10 * DAYSECS;
    $made = ['courses' => [], 'assignments' => []];
    for ($c = 0; $c < $courses; $c++) {
        $course = $gen->create_course(['shortname' => "SC-$tag-$c"]);
        $students = array_slice(array_merge($pool, $pool), $c % count($pool), $percourse);
        foreach ($students as $userid) {
            $gen->enrol_user($userid, $course->id, 'student');
        }
        $assign = $agen->create_instance(['course' => $course->id, 'duedate' => $due]);
        $agen->create_override(['assignid' => $assign->id, 'userid' => $students[0], 'duedate' => $due + DAYSECS]);
        $agen->create_override(['assignid' => $assign->id, 'userid' => $students[1], 'duedate' => $due + 2 * DAYSECS]);
        $made['courses'][] = (int)$course->id;
        $made['assignments'][] = (int)$assign->id;
        $made['students'][(int)$assign->id] = $students;
    }
    return $made;
}
