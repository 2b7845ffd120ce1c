<?php
// Test helper for tests/live/test_pages.py (the plugin's pages, issue 14) and
// benchmarks/bench_pages.py. Usage: php pages_fixture.php DIRROOT COMMAND [ARGS...]; prints one
// JSON document on its last line. Never run it on a real site: it creates users, courses and
// progression records with Moodle's test generator and known passwords.
//
//   data TAG PASSWORD   a course in separate groups mode (groups A and B), an editing teacher in
//                       no group, a non-editing teacher in group A, five students across A and B,
//                       a user with no role, two assignments, one progression record per
//                       student (contract section 1), the dashboard block when installed; and
//                       another course of the programme (same category, its own assignment,
//                       students a1, a3 and b1) whose work and reasons are in their records:
//                       the editing teacher is a manager of the category (the programme view),
//                       the non-editing teacher teaches the first course only.
//   bulk TAG COUNT PASSWORD   COUNT students with records in one course (bulk inserts), a manager
//                       enrolled as editing teacher, for the pages' benchmark.

define('CLI_SCRIPT', true);
require($argv[1] . '/config.php');
require_once($CFG->dirroot . '/lib/phpunit/classes/util.php');
require_once($CFG->dirroot . '/my/lib.php');
\core\session\manager::set_user(get_admin());

const PROGRESS = 'local_cetadsync_progress';
const LATEWORK = 'Work handed in late without an extension is capped at the pass mark (50) if it '
    . 'arrives within 7 days of the deadline; after that it is not marked.';

$command = $argv[2];
$args = array_slice($argv, 3);
$out = match ($command) {
    'data' => make_pages_data($args[0], $args[1]),
    'bulk' => make_bulk($args[0], (int)$args[1], $args[2]),
    'lastsync' => ['lastsync' => (int)get_config('local_cetadsync', 'lastsync')],
    default => throw new coding_exception("unknown command $command"),
};
echo json_encode($out), "\n";

/** Whether the progress table has the contract's new columns (the pages' version of the plugin). */
function has_detail(): bool {
    global $DB;
    return array_key_exists('detail', $DB->get_columns(PROGRESS, false));
}

/**
 * Write one record as save_progression does: through progression::upsert when the plugin knows
 * the contract's shape (it ignores fields it does not know), else straight into the table.
 */
function save_record(array $record, int $now): void {
    \local_cetadsync\local\progression::upsert($record, $now);
    if (!has_detail()) {
        return;
    }
    // An upsert that predates a field leaves it at its default; fill the contract's columns.
    global $DB;
    $row = $DB->get_record(PROGRESS, ['userid' => $record['userid'], 'courseid' => $record['courseid']], '*', MUST_EXIST);
    if ($row->detail === null || $row->detail === '') {
        $DB->update_record(PROGRESS, (object)(['id' => $row->id] + columns($record)));
    }
}

/** The contract's stored columns for a record (section 1, "Storage in the plugin"). */
function columns(array $record): array {
    return ['award' => $record['award'], 'awardcredits' => $record['awardcredits'],
        'priorcredits' => $record['priorcredits'], 'priorcap' => $record['priorcap'],
        'urgency' => $record['urgency'], 'latework' => $record['latework'],
        'detail' => json_encode(['modules' => $record['modules'], 'items' => $record['items']])];
}

/** One contract record: status, reasons, credits, modules and items for this student. */
function record(int $userid, string $status, array $reasons, float $credits, array $items, int $urgency, array $modules): array {
    $next = 0;
    foreach ($items as $item) {
        if ($item['required'] && $item['state'] !== 'submitted' && $item['state'] !== 'graded'
                && $item['duedate'] > time() && ($next === 0 || $item['duedate'] < $next)) {
            $next = $item['duedate'];
        }
    }
    return ['userid' => $userid, 'courseid' => SITEID, 'status' => $status, 'reasons' => $reasons,
        'credits' => $credits, 'nextdeadline' => $next, 'award' => 'Postgraduate Diploma', 'awardcredits' => 120,
        'priorcredits' => 40, 'priorcap' => 40, 'urgency' => $urgency, 'latework' => LATEWORK,
        'modules' => $modules, 'items' => $items];
}

function item(stdClass $course, stdClass $assign, string $module, int $duedate, string $state, string $concern,
        int $extension = 0, int $owndate = 0, ?float $mark = null): array {
    return ['courseid' => (int)$course->id, 'assignid' => (int)$assign->id, 'cmid' => (int)$assign->cmid,
        'name' => $assign->name, 'module' => $module, 'duedate' => $duedate, 'extension' => $extension,
        'owndate' => $owndate, 'state' => $state, 'concern' => $concern, 'required' => 1, 'mark' => $mark];
}

/** The dashboard block on each user's own dashboard, when block_cetadsync is installed. */
function add_dashboard_block(array $userids): bool {
    global $DB;
    if (!$DB->record_exists('block', ['name' => 'cetadsync'])) {
        return false;
    }
    foreach ($userids as $userid) {
        $page = my_copy_page($userid, MY_PAGE_PRIVATE);
        $context = context_user::instance($userid);
        if ($DB->record_exists('block_instances', ['blockname' => 'cetadsync', 'parentcontextid' => $context->id])) {
            continue;
        }
        $DB->insert_record('block_instances', (object)['blockname' => 'cetadsync', 'parentcontextid' => $context->id,
            'showinsubcontexts' => 0, 'pagetypepattern' => 'my-index', 'subpagepattern' => $page->id,
            'defaultregion' => 'content', 'defaultweight' => -10, 'configdata' => '', 'requiredbytheme' => 0,
            'timecreated' => time(), 'timemodified' => time()]);
    }
    return true;
}

function make_pages_data(string $tag, string $password): array {
    global $DB;
    $gen = phpunit_util::get_data_generator();
    $now = time();
    $category = $gen->create_category(['name' => "Pages programme $tag"]);
    $course = $gen->create_course(['shortname' => "PG-$tag", 'fullname' => "Pages course $tag",
        'groupmode' => SEPARATEGROUPS, 'groupmodeforce' => 1, 'category' => $category->id]);
    $othercourse = $gen->create_course(['shortname' => "PO-$tag", 'fullname' => "Other course $tag",
        'category' => $category->id]);
    $groups = ['A' => $gen->create_group(['courseid' => $course->id, 'name' => "A-$tag"]),
        'B' => $gen->create_group(['courseid' => $course->id, 'name' => "B-$tag"])];
    // Each name is unique to the run, so a page showing another person's name is caught.
    $people = ['editingteacher' => ['Edith', 'editingteacher', null], 'teacher' => ['Nora', 'teacher', 'A'],
        'a1' => ['Alice', 'student', 'A'], 'a2' => ['Amos', 'student', 'A'], 'a3' => ['Anya', 'student', 'A'],
        'b1' => ['Bella', 'student', 'B'], 'b2' => ['Boris', 'student', 'B'], 'norole' => ['Nobody', null, null]];
    $users = [];
    foreach ($people as $key => [$first, $role, $group]) {
        $user = $gen->create_user(['username' => "pg_{$key}_$tag", 'password' => $password, 'firstname' => $first,
            'lastname' => "Pg$key$tag", 'email' => "pg_{$key}_$tag@example.invalid"]);
        if ($role) {
            $gen->enrol_user($user->id, $course->id, $role);
        }
        if ($group) {
            $gen->create_group_member(['groupid' => $groups[$group]->id, 'userid' => $user->id]);
        }
        $users[$key] = $user;
    }
    foreach (['a1', 'a3', 'b1'] as $key) {
        $gen->enrol_user($users[$key]->id, $othercourse->id, 'student');
    }
    // The editing teacher leads the programme: the manager role in its category (viewprogramme).
    role_assign($DB->get_field('role', 'id', ['shortname' => 'manager']), $users['editingteacher']->id,
        context_coursecat::instance($category->id)->id);
    $tz = 'Pacific/Auckland';
    $DB->set_field('user', 'timezone', $tz, ['id' => $users['editingteacher']->id]);
    $agen = $gen->get_plugin_generator('mod_assign');
    $one = $agen->create_instance(['course' => $course->id, 'name' => "Essay one $tag", 'duedate' => $now - 3 * DAYSECS]);
    $two = $agen->create_instance(['course' => $course->id, 'name' => "Essay two $tag", 'duedate' => $now + 5 * DAYSECS]);
    $other = $agen->create_instance(['course' => $othercourse->id, 'name' => "Other essay $tag",
        'duedate' => $now - 2 * DAYSECS]);

    $modules = fn(string $first) => [
        ['code' => 'MOD701', 'title' => 'Recognition of prior learning', 'credits' => 40, 'outcome' => 'passed', 'mark' => null],
        ['code' => 'MOD702', 'title' => 'Research methods', 'credits' => 20, 'outcome' => $first, 'mark' => $first === 'passed' ? 64.0 : null],
        ['code' => 'MOD703', 'title' => 'Leading practice', 'credits' => 20, 'outcome' => 'not_started', 'mark' => null],
    ];
    // Due 2 days 23 hours ago: 3 days overdue in started days, as the worker counts them.
    $late = $now - 3 * DAYSECS + HOURSECS;
    $soon = $now + 5 * DAYSECS;
    // 11:30 UTC three days on: 00:30 the next day in Auckland (the editing teacher's zone).
    $own = (intdiv($now, DAYSECS) + 3) * DAYSECS + 11 * HOURSECS + 30 * MINSECS;
    $records = [
        'a1' => record($users['a1']->id, 'at_risk', ["MOD702 Essay one $tag not handed in",
            "MOD703 Other essay $tag 2 days overdue"], 40,
            [item($course, $one, 'MOD702', $late, 'new', 'overdue'), item($course, $two, 'MOD702', $soon, 'new', ''),
             item($othercourse, $other, 'MOD703', $now - 2 * DAYSECS + HOURSECS, 'new', 'overdue')],
            3003, $modules('in_progress')),
        'a2' => record($users['a2']->id, 'on_track', [], 60,
            [item($course, $one, 'MOD702', $now + 4 * DAYSECS, 'new', '', $now + 4 * DAYSECS),
             item($course, $two, 'MOD702', $own, 'draft', 'draft_due_soon', 0, 1)],
            1096, $modules('in_progress')),
        'a3' => record($users['a3']->id, 'referred', ["MOD702 Research methods referred: resubmit by the new date",
            'MOD703 referred: mark 46.0, resit pending'], 40,
            [item($course, $one, 'MOD702', $late, 'graded', '', 0, 0, 38.0), item($course, $two, 'MOD702', $soon, 'new', ''),
             item($othercourse, $other, 'MOD703', $late, 'graded', '', 0, 0, 46.0)],
            2000, $modules('referred')),
        'b1' => record($users['b1']->id, 'eligible_pg_diploma', ['Eligible for the Postgraduate Diploma'], 120,
            [item($course, $one, 'MOD702', $late, 'graded', '', 0, 0, 72.0),
             item($course, $two, 'MOD702', $soon, 'submitted', 'awaiting_marking'),
             item($othercourse, $other, 'MOD703', $late, 'graded', '', 0, 0, 66.0)],
            0, $modules('passed')),
        'b2' => record($users['b2']->id, 'at_risk', ["MOD702 Essay one $tag not handed in"], 40,
            [item($course, $one, 'MOD702', $late, 'new', 'overdue'), item($course, $two, 'MOD702', $soon, 'new', '')],
            3003, $modules('not_started')),
    ];
    foreach ($records as $record) {
        save_record($record, $now);
    }
    set_config('lastsync', $now, 'local_cetadsync');
    // No user tour: its first-visit backdrop would cover the pages in the screenshots.
    $DB->set_field('tool_usertours_tours', 'enabled', 0);
    \tool_usertours\cache::notify_tour_change();
    $block = add_dashboard_block([$users['editingteacher']->id, $users['teacher']->id, $users['a1']->id]);
    return ['courseid' => (int)$course->id, 'groups' => array_map(fn($g) => (int)$g->id, $groups),
        'users' => array_map(fn($u) => ['id' => (int)$u->id, 'username' => $u->username,
            'fullname' => fullname($u), 'email' => $u->email], $users),
        'statuses' => array_map(fn($r) => $r['status'], $records),
        'assignments' => [['cmid' => (int)$one->cmid, 'name' => $one->name], ['cmid' => (int)$two->cmid, 'name' => $two->name]],
        'lastsync' => $now, 'detail' => has_detail(), 'block' => $block,
        'nextdeadlines' => array_map(fn($r) => $r['nextdeadline'], $records), 'owndate' => $own,
        'timezone' => $tz,
        'other' => ['courseid' => (int)$othercourse->id, 'cmid' => (int)$other->cmid, 'name' => $other->name]];
}

/**
 * $count students with progression records in one course, fast: users, enrolments and role
 * assignments as bulk inserts (Moodle's generator takes ~0.1 s a user), caches purged after.
 */
function make_bulk(string $tag, int $count, string $password): array {
    global $DB, $CFG;
    $gen = phpunit_util::get_data_generator();
    $now = time();
    $course = $gen->create_course(['shortname' => "PB-$tag", 'fullname' => "Pages bench $tag"]);
    $tutor = $gen->create_user(['username' => "pb_tutor_$tag", 'password' => $password, 'firstname' => 'Tutor',
        'lastname' => "Pb$tag"]);
    $gen->enrol_user($tutor->id, $course->id, 'editingteacher');
    $assign = $gen->get_plugin_generator('mod_assign')->create_instance(['course' => $course->id,
        'name' => "Bench essay $tag", 'duedate' => $now + 5 * DAYSECS]);
    $enrol = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
    $studentrole = (int)$DB->get_field('role', 'id', ['shortname' => 'student']);
    $context = context_course::instance($course->id);
    $hash = hash_internal_user_password($password);
    $statuses = ['on_track', 'on_track', 'on_track', 'at_risk', 'referred', 'not_started', 'eligible_pg_diploma'];
    $transaction = $DB->start_delegated_transaction();
    $users = [];
    for ($i = 0; $i < $count; $i++) {
        $users[] = (object)['auth' => 'manual', 'confirmed' => 1, 'mnethostid' => $CFG->mnet_localhost_id,
            'username' => "pbs_{$i}_$tag", 'password' => $hash, 'firstname' => "Student$i", 'lastname' => "Pb$tag",
            'email' => "pb_{$i}_$tag@example.invalid", 'timecreated' => $now, 'timemodified' => $now,
            'lang' => $CFG->lang, 'calendartype' => 'gregorian'];
    }
    $DB->insert_records('user', $users);
    $ids = $DB->get_fieldset_select('user', 'id', $DB->sql_like('username', '?'), ["pbs\\_%\\_$tag"]);
    $enrolments = $assignments = $records = [];
    foreach (array_values($ids) as $i => $id) {
        $enrolments[] = (object)['enrolid' => $enrol->id, 'userid' => $id, 'status' => ENROL_USER_ACTIVE,
            'timestart' => $now - DAYSECS, 'timeend' => 0, 'timecreated' => $now, 'timemodified' => $now,
            'modifierid' => get_admin()->id];
        $assignments[] = (object)['roleid' => $studentrole, 'contextid' => $context->id, 'userid' => $id,
            'timemodified' => $now, 'modifierid' => get_admin()->id, 'component' => '', 'itemid' => 0];
        $status = $statuses[$i % count($statuses)];
        $overdue = $status === 'at_risk';
        $item = ['courseid' => (int)$course->id, 'assignid' => (int)$assign->id, 'cmid' => (int)$assign->cmid,
            'name' => $assign->name, 'module' => 'MOD702', 'duedate' => $overdue ? $now - 2 * DAYSECS : $now + 5 * DAYSECS,
            'extension' => 0, 'owndate' => 0, 'state' => 'new', 'concern' => $overdue ? 'overdue' : '', 'required' => 1,
            'mark' => null];
        $row = ['userid' => $id, 'courseid' => SITEID, 'status' => $status,
            'reasons' => json_encode($overdue ? ["MOD702 {$assign->name} 2 days overdue"] : []),
            'credits' => 40 + 20 * ($i % 4), 'nextdeadline' => $now + 5 * DAYSECS,
            'timecreated' => $now, 'timemodified' => $now];
        if (has_detail()) {
            $row += columns(['award' => 'Postgraduate Diploma', 'awardcredits' => 120, 'priorcredits' => 40, 'priorcap' => 40,
                'urgency' => $overdue ? 3002 : 0, 'latework' => LATEWORK, 'items' => [$item],
                'modules' => [['code' => 'MOD702', 'title' => 'Research methods', 'credits' => 20,
                    'outcome' => 'in_progress', 'mark' => null]]]);
        }
        $records[] = (object)$row;
    }
    $DB->insert_records('user_enrolments', $enrolments);
    $DB->insert_records('role_assignments', $assignments);
    $DB->insert_records(PROGRESS, $records);
    $transaction->allow_commit();
    \core\context_helper::create_instances(CONTEXT_USER); // Every user has a context, as create_user() makes.
    set_config('lastsync', $now, 'local_cetadsync');
    cache_helper::purge_all(); // Not purge_all_caches(): the theme's CSS stays built.
    if ($DB->get_dbfamily() === 'postgres') {
        // Statistics for the new rows now, as a site in use has them, not whenever autovacuum
        // gets there: otherwise the planner's guesses change in the middle of the timings.
        foreach (['user', 'user_enrolments', 'role_assignments', 'context', PROGRESS] as $table) {
            $DB->execute('ANALYZE {' . $table . '}');
        }
    }
    $first = reset($ids);
    return ['courseid' => (int)$course->id, 'tutor' => $tutor->username, 'students' => count($ids),
        'student' => $DB->get_field('user', 'username', ['id' => $first]), 'studentid' => (int)$first,
        'detail' => has_detail()];
}
