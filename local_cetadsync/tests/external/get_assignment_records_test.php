<?php
// This file is part of Moodle - http://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <http://www.gnu.org/licenses/>.

namespace local_cetadsync\external;

use core_external\external_api;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/webservice/tests/helpers.php');

/**
 * local_cetadsync_get_assignment_records: the records of mod_assign's three reads, with their checks.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\get_assignment_records
 * @covers     \local_cetadsync\external\base
 */
final class get_assignment_records_test extends \externallib_advanced_testcase {
    /** @var int When the records were written. */
    private const WRITTEN = 1800000000;

    /**
     * Call the function as the current user and clean its answer as the web service would.
     *
     * @param array $courses each [courseid, since]
     * @return array
     */
    private function call(array $courses): array {
        $answer = get_assignment_records::execute($courses);
        return external_api::clean_returnvalue(get_assignment_records::execute_returns(), $answer);
    }

    /**
     * Log in as an integration user lacking the given capabilities.
     *
     * @param string[] $without
     * @return \stdClass the user
     */
    private function login(array $without = []): \stdClass {
        $user = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_integration_user($without);
        $this->setUser($user);
        return $user;
    }

    /**
     * A course with one assignment and records of an active, a suspended, a deleted and an
     * unenrolled student; the active one has two attempts.
     *
     * @param array $course course settings
     * @param array $assign assignment settings
     * @return array [course, assign record, users by name]
     */
    private function course(array $course = [], array $assign = []): array {
        global $DB;
        $gen = $this->getDataGenerator();
        $plugin = $gen->get_plugin_generator('local_cetadsync');
        $course = $gen->create_course($course);
        $assign = $gen->create_module('assign', $assign + ['course' => $course->id]);
        $users = [];
        foreach (['active', 'suspended', 'deleted', 'unenrolled'] as $name) {
            $users[$name] = $gen->create_user();
            if ($name !== 'unenrolled') {
                $status = $name === 'suspended' ? ENROL_USER_SUSPENDED : ENROL_USER_ACTIVE;
                $gen->enrol_user($users[$name]->id, $course->id, 'student', 'manual', 0, 0, $status);
            }
            $row = ['assignment' => $assign->id, 'userid' => $users[$name]->id, 'timemodified' => self::WRITTEN];
            $plugin->create_submission($row);
            $plugin->create_grade($row);
            $plugin->create_user_flags($row + ['workflowstate' => 'released']);
        }
        $DB->set_field('assign_submission', 'latest', 0, ['assignment' => $assign->id, 'userid' => $users['active']->id]);
        $plugin->create_submission(['assignment' => $assign->id, 'userid' => $users['active']->id, 'attemptnumber' => 1,
            'status' => 'draft', 'timemodified' => self::WRITTEN + 10]);
        $DB->set_field('user', 'deleted', 1, ['id' => $users['deleted']->id]);
        return [$course, $assign, $users];
    }

    /**
     * Each list's user ids for the one assignment of the answer.
     *
     * @param array $answer
     * @return array[] submissions, grades and userflags => user ids
     */
    private static function users(array $answer): array {
        [$assignment] = $answer['assignments'];
        return array_map(fn(array $rows) => array_column($rows, 'userid'), array_intersect_key(
            $assignment,
            array_flip(['submissions', 'grades', 'userflags'])
        ));
    }

    /**
     * The latest attempt's submission of each enrolled user, the grades of latest attempts and
     * every user flag, as core's three reads select them.
     */
    public function test_each_assignment_comes_with_its_records_as_core_selects_them(): void {
        $this->resetAfterTest();
        [$course, $assign, $users] = $this->course();
        $this->login();

        $answer = $this->call([['courseid' => $course->id]]);

        $this->assertSame([], $answer['warnings']);
        [$read] = $answer['assignments'];
        $this->assertSame([(int)$assign->id, (int)$course->id], [$read['assignmentid'], $read['courseid']]);
        $submissions = array_column($read['submissions'], null, 'userid');
        $this->assertEqualsCanonicalizing(
            [(int)$users['active']->id, (int)$users['suspended']->id],
            array_keys($submissions),
            'enrolled users of any status; not the deleted or the unenrolled'
        );
        $this->assertSame([1, 'draft'], [$submissions[$users['active']->id]['attemptnumber'],
            $submissions[$users['active']->id]['status']]);
        $this->assertNotContains(
            (int)$users['active']->id,
            array_column($read['grades'], 'userid'),
            'the active student\'s grade is of an earlier attempt'
        );
        $this->assertSame('63.00000', $read['grades'][0]['grade']);
        $this->assertCount(4, $read['userflags']);
        $this->assertSame('released', $read['userflags'][0]['workflowstate']);
    }

    /**
     * Each course is read from its own `since`; user flags are always whole.
     */
    public function test_each_course_is_read_from_its_own_since(): void {
        $this->resetAfterTest();
        [$early] = $this->course();
        [$late] = $this->course();
        $this->login();

        $answer = $this->call([['courseid' => $early->id, 'since' => self::WRITTEN + 10],
            ['courseid' => $late->id, 'since' => self::WRITTEN + 11], ['courseid' => $early->id, 'since' => self::WRITTEN + 50]]);

        [$first, $second] = $answer['assignments'];
        $this->assertSame(
            [(int)$early->id, 1, 0],
            [$first['courseid'], count($first['submissions']), count($first['grades'])],
            'from the earlier since of the course given twice, compared with >='
        );
        $this->assertSame([[], []], [$second['submissions'], $second['grades']]);
        $this->assertCount(4, $second['userflags']);
    }

    /**
     * Without moodle/course:viewsuspendedusers a student without an active enrolment is left out
     * of all three lists (assign::can_view_submission).
     */
    public function test_a_suspended_student_is_left_out_without_viewsuspendedusers(): void {
        $this->resetAfterTest();
        [$course, , $users] = $this->course();
        $this->login(['moodle/course:viewsuspendedusers']);

        $lists = self::users($this->call([['courseid' => $course->id]]));

        foreach ($lists as $name => $userids) {
            $this->assertNotContains((int)$users['suspended']->id, $userids, $name);
        }
        $this->assertContains((int)$users['active']->id, $lists['submissions']);
    }

    /**
     * A team's submission (user 0) is listed when one of its members may be viewed.
     */
    public function test_a_team_submission_is_listed_for_its_members(): void {
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        [$course, $assign, $users] = $this->course([], ['teamsubmission' => 1]);
        $team = $gen->create_group(['courseid' => $course->id]);
        $gen->create_group_member(['groupid' => $team->id, 'userid' => $users['active']->id]);
        $gen->get_plugin_generator('local_cetadsync')->create_submission(['assignment' => $assign->id, 'groupid' => $team->id]);
        $this->login();

        $submissions = $this->call([['courseid' => $course->id]])['assignments'][0]['submissions'];

        $this->assertContains([0, (int)$team->id], array_map(fn($s) => [$s['userid'], $s['groupid']], $submissions));
    }

    /**
     * Without the plugin capability the whole call is refused.
     */
    public function test_a_caller_without_readrecords_is_refused(): void {
        $this->resetAfterTest();
        [$course] = $this->course();
        $this->login(['local/cetadsync:readrecords']);
        $this->expectException(\required_capability_exception::class);
        $this->call([['courseid' => $course->id]]);
    }

    /**
     * The capabilities mod_assign's three reads want.
     *
     * @return array
     */
    public static function assignment_capabilities(): array {
        return [
            'view grades (submissions, grades)' => ['mod/assign:viewgrades'],
            'grade (user flags)' => ['mod/assign:grade'],
        ];
    }

    /**
     * An assignment where the caller lacks one of them is a warning; the others are read.
     *
     * @dataProvider assignment_capabilities
     * @param string $capability
     */
    public function test_an_assignment_without_a_capability_core_wants_is_a_warning(string $capability): void {
        $this->resetAfterTest();
        [$course, $refused] = $this->course();
        $read = $this->getDataGenerator()->create_module('assign', ['course' => $course->id]);
        $user = $this->login();
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->prohibit($user, $capability, \context_module::instance($refused->cmid));

        $answer = $this->call([['courseid' => $course->id]]);

        $this->assertSame([['assignment', (int)$refused->id, 'nopermissions']], self::codes($answer['warnings']));
        $this->assertSame([(int)$read->id], array_column($answer['assignments'], 'assignmentid'));
    }

    /**
     * An unknown course, a hidden course and a hidden assignment are warnings.
     */
    public function test_an_unknown_or_hidden_course_or_assignment_is_a_warning(): void {
        $this->resetAfterTest();
        [$hiddencourse] = $this->course(['visible' => 0]);
        [$course, $hiddenassign] = $this->course([], ['visible' => 0]);
        $this->login(['moodle/course:viewhiddencourses']);

        $answer = $this->call([['courseid' => 987654], ['courseid' => $hiddencourse->id], ['courseid' => $course->id]]);

        $this->assertSame([], $answer['assignments']);
        $this->assertSame([
            ['course', 987654, 'invalidrecord'],
            ['course', (int)$hiddencourse->id, 'requireloginerror'],
            ['assignment', (int)$hiddenassign->id, 'requireloginerror'],
        ], self::codes($answer['warnings']));
    }

    /**
     * In separate groups mode a caller without moodle/site:accessallgroups who is in none of the
     * activity's groups may not view its grades (assign::can_view_grades): a warning.
     */
    public function test_separate_groups_refuse_a_caller_in_no_group(): void {
        $this->resetAfterTest();
        [$course, $assign] = $this->course(['groupmode' => SEPARATEGROUPS, 'groupmodeforce' => 1]);
        $this->login(['moodle/site:accessallgroups']);

        $answer = $this->call([['courseid' => $course->id]]);

        $this->assertSame([], $answer['assignments']);
        $this->assertSame([['assignment', (int)$assign->id, 'nopermission']], self::codes($answer['warnings']));
    }

    /**
     * A course id must be an integer, and the key is `courses`.
     */
    public function test_bad_parameters_are_refused(): void {
        $this->resetAfterTest();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        get_assignment_records::execute([['courseid' => 'abc']]);
    }

    /**
     * Each warning as [item, itemid, warningcode].
     *
     * @param array $warnings
     * @return array
     */
    private static function codes(array $warnings): array {
        return array_map(fn($w) => [$w['item'], $w['itemid'], $w['warningcode']], $warnings);
    }
}
