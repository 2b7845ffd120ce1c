<?php
// Load a sandbox scenario (exported by tests/live/site.py, every date already in epoch
// seconds) into a freshly installed Moodle with Moodle's own data generator.
//
// Usage: MOODLE_DIRROOT=... php load_scenario.php SCENARIO.json
// Prints a JSON map of the scenario's ids to the site's ids on stdout.
//
// Rows are created in the scenario's id order so that, on a fresh site, Moodle hands out the
// same user, course and assignment ids as the sandbox (and the recorded site) uses. Submissions,
// grades, user flags and overrides are written to mod_assign's own tables, because the
// `assign` API stamps them with the current time and the scenario's times must be kept.

define('CLI_SCRIPT', true);
$scenariofile = $argv[1];
require(getenv('MOODLE_DIRROOT') . '/config.php');
require_once($CFG->libdir . '/testing/classes/util.php');
require_once($CFG->libdir . '/testing/generator/lib.php');
require_once($CFG->dirroot . '/user/profile/lib.php');
require_once($CFG->dirroot . '/mod/assign/locallib.php');

$sc = json_decode(file_get_contents($scenariofile), true, 512, JSON_THROW_ON_ERROR);
$gen = testing_util::get_data_generator();
$assigngen = $gen->get_plugin_generator('mod_assign');
$admin = get_admin();
\core\session\manager::set_user($admin);
$ids = ['users' => [], 'courses' => [], 'assignments' => [], 'cmids' => [], 'categories' => []];

$category = $gen->create_custom_profile_field_category(['name' => 'CETAD']);
foreach ($sc['profile_fields'] as $field) {
    $gen->create_custom_profile_field([
        'categoryid' => $category->id, 'shortname' => $field['shortname'],
        'name' => $field['name'], 'datatype' => $field['type'], 'visible' => PROFILE_VISIBLE_ALL,
        'param1' => 30, 'param2' => 2048,
    ]);
}

foreach ($sc['categories'] as $cat) {
    $ids['categories'][$cat['id']] = (int) $gen->create_category(['name' => $cat['name']])->id;
}

foreach ($sc['courses'] as $c) {
    if ($c['format'] === 'site') {
        $ids['courses'][$c['id']] = (int) SITEID;
        continue;
    }
    $course = $gen->create_course([
        'shortname' => $c['shortname'], 'fullname' => $c['fullname'], 'idnumber' => $c['idnumber'],
        'category' => $ids['categories'][$c['categoryid']], 'summary' => $c['summary'],
        'format' => $c['format'], 'startdate' => $c['startdate'], 'enddate' => $c['enddate'],
        'numsections' => 1,
    ]);
    $ids['courses'][$c['id']] = (int) $course->id;
}

foreach ($sc['users'] as $u) {
    if ($u['username'] === 'admin') {
        $ids['users'][$u['id']] = (int) $admin->id;
        continue;
    }
    $record = array_intersect_key($u, array_flip([
        'username', 'firstname', 'lastname', 'email', 'idnumber', 'department', 'institution',
        'city', 'country', 'auth',
    ]));
    $record['password'] = 'Live-test-1';
    $user = $gen->create_user($record);
    $ids['users'][$u['id']] = (int) $user->id;
    if (!empty($u['customfields'])) {
        profile_save_custom_fields($user->id, $u['customfields']);
    }
}

foreach ($sc['enrolments'] as $e) {
    $status = $e['status'] === 'suspended' ? ENROL_USER_SUSPENDED : ENROL_USER_ACTIVE;
    $gen->enrol_user($ids['users'][$e['userid']], $ids['courses'][$e['courseid']], $e['role'],
        'manual', 0, 0, $status);
}

foreach ($sc['assignments'] as $a) {
    $instance = $assigngen->create_instance([
        'course' => $ids['courses'][$a['courseid']], 'name' => $a['name'],
        'allowsubmissionsfromdate' => $a['allowsubmissionsfromdate'], 'duedate' => $a['duedate'],
        'cutoffdate' => $a['cutoffdate'], 'gradingduedate' => $a['gradingduedate'],
        'submissiondrafts' => $a['submissiondrafts'], 'markingworkflow' => $a['markingworkflow'],
        'requiresubmissionstatement' => $a['requiresubmissionstatement'], 'grade' => $a['grade'],
        'assignsubmission_onlinetext_enabled' => 1,
    ]);
    // Last edited at the scenario's "now", as in the sandbox (not at the build's clock).
    $DB->set_field('assign', 'timemodified', $sc['anchor'], ['id' => $instance->id]);
    $ids['assignments'][$a['id']] = (int) $instance->id;
    $ids['cmids'][$a['cmid']] = (int) $instance->cmid;
}

$byid = fn($a, $b) => $a['id'] <=> $b['id'];
foreach (['submissions', 'grades', 'userflags'] as $table) {
    usort($sc[$table], $byid);  // Moodle numbers rows in insertion order
}
foreach ($sc['submissions'] as $s) {
    $assignid = $ids['assignments'][$s['assignment']];
    $submissionid = $DB->insert_record('assign_submission', [
        'assignment' => $assignid, 'userid' => $ids['users'][$s['userid']],
        'timecreated' => $s['timemodified'], 'timemodified' => $s['timemodified'],
        'timestarted' => null, 'status' => $s['status'], 'groupid' => 0, 'attemptnumber' => 0,
        'latest' => 1,
    ]);
    if (!empty($s['text'])) {
        $DB->insert_record('assignsubmission_onlinetext', [
            'assignment' => $assignid, 'submission' => $submissionid,
            'onlinetext' => $s['text'], 'onlineformat' => FORMAT_HTML,
        ]);
    }
}

foreach ($sc['grades'] as $g) {
    $DB->insert_record('assign_grades', [
        'assignment' => $ids['assignments'][$g['assignment']],
        'userid' => $ids['users'][$g['userid']], 'timecreated' => $g['timemodified'],
        'timemodified' => $g['timemodified'], 'grader' => $ids['users'][$g['grader']],
        'grade' => $g['grade'] === null ? -1 : $g['grade'], 'attemptnumber' => 0,
    ]);
}

foreach ($sc['userflags'] as $f) {
    $DB->insert_record('assign_user_flags', [
        'assignment' => $ids['assignments'][$f['assignment']],
        'userid' => $ids['users'][$f['userid']], 'locked' => 0, 'mailed' => $f['mailed'],
        'extensionduedate' => $f['extensionduedate'], 'workflowstate' => $f['workflowstate'],
        'allocatedmarker' => 0,
    ]);
}

foreach ($sc['overrides'] as $o) {
    $DB->insert_record('assign_overrides', [
        'assignid' => $ids['assignments'][$o['assignment']],
        'userid' => $ids['users'][$o['userid']], 'groupid' => null, 'sortorder' => null,
        'duedate' => $o['duedate'] ?: null, 'cutoffdate' => $o['cutoffdate'] ?: null,
        'allowsubmissionsfromdate' => ($o['allowsubmissionsfromdate'] ?? 0) ?: null,
    ]);
}

purge_all_caches();
echo json_encode($ids), "\n";
