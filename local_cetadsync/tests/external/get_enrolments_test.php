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
 * local_cetadsync_get_enrolments: every enrolment of many courses, with core_enrol_get_enrolled_users' checks per course.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\get_enrolments
 * @covers     \local_cetadsync\external\base
 */
final class get_enrolments_test extends \externallib_advanced_testcase {
    /**
     * Call the function as the current user and clean its answer as the web service would.
     *
     * @param int[] $courseids
     * @return array
     */
    private function call(array $courseids): array {
        return external_api::clean_returnvalue(get_enrolments::execute_returns(), get_enrolments::execute($courseids));
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
     * A course with a student of each kind of enrolment, by name.
     *
     * @param array $course course settings
     * @return array [course, users by name]
     */
    private function course(array $course = []): array {
        global $DB;
        $gen = $this->getDataGenerator();
        $course = $gen->create_course($course);
        $users = [];
        foreach (['active', 'suspended', 'ended', 'future', 'selfdisabled', 'teacher', 'deleted'] as $name) {
            $users[$name] = $gen->create_user(['username' => $name . $course->id]);
        }
        $now = time();
        $gen->enrol_user($users['active']->id, $course->id, 'student');
        $gen->enrol_user($users['suspended']->id, $course->id, 'student', 'manual', 0, 0, ENROL_USER_SUSPENDED);
        $gen->enrol_user($users['ended']->id, $course->id, 'student', 'manual', $now - 86400 * 10, $now - 86400);
        $gen->enrol_user($users['future']->id, $course->id, 'student', 'manual', $now + 86400);
        $gen->enrol_user($users['selfdisabled']->id, $course->id, 'student', 'self');
        $DB->set_field('enrol', 'status', ENROL_INSTANCE_DISABLED, ['courseid' => $course->id, 'enrol' => 'self']);
        $gen->enrol_user($users['teacher']->id, $course->id, 'editingteacher');
        $gen->enrol_user($users['deleted']->id, $course->id, 'student');
        $DB->set_field('user', 'deleted', 1, ['id' => $users['deleted']->id]);
        return [$course, $users];
    }

    /**
     * One row per enrolment with its status and why, roles and groups; deleted users left out.
     */
    public function test_each_enrolment_comes_with_its_status_roles_and_groups(): void {
        $this->resetAfterTest();
        [$course, $users] = $this->course();
        $group = $this->getDataGenerator()->create_group(['courseid' => $course->id, 'name' => 'Team A']);
        $this->getDataGenerator()->create_group_member(['groupid' => $group->id, 'userid' => $users['active']->id]);
        $this->login();

        $answer = $this->call([$course->id, $course->id]);

        $this->assertSame([], $answer['warnings']);
        $byuser = array_column($answer['enrolments'], null, 'userid');
        $expected = ['active' => ['active', ''], 'suspended' => ['suspended', 'suspended'],
            'ended' => ['notcurrent', 'ended'], 'future' => ['notcurrent', 'notstarted'],
            'selfdisabled' => ['notcurrent', 'methoddisabled'], 'teacher' => ['active', '']];
        foreach ($expected as $name => $status) {
            $row = $byuser[$users[$name]->id];
            $this->assertSame($status, [$row['status'], $row['reason']], $name);
        }
        $this->assertCount(6, $answer['enrolments'], 'the deleted user is left out');
        $this->assertSame('self', $byuser[$users['selfdisabled']->id]['method']);
        $this->assertSame(['editingteacher'], array_column($byuser[$users['teacher']->id]['roles'], 'shortname'));
        $this->assertSame([['id' => (int)$group->id, 'name' => 'Team A']], $byuser[$users['active']->id]['groups']);
        $userids = array_column($answer['enrolments'], 'userid');
        $sorted = $userids;
        sort($sorted);
        $this->assertSame($sorted, $userids, 'ordered by user');
    }

    /**
     * Without the plugin capability the whole call is refused.
     */
    public function test_a_caller_without_readenrolments_is_refused(): void {
        $this->resetAfterTest();
        [$course] = $this->course();
        $this->login(['local/cetadsync:readenrolments']);
        $this->expectException(\required_capability_exception::class);
        $this->call([$course->id]);
    }

    /**
     * The capabilities core_enrol_get_enrolled_users wants in the course.
     *
     * @return array
     */
    public static function course_capabilities(): array {
        return [
            'view participants' => ['moodle/course:viewparticipants'],
            'review enrolments (the status)' => ['moodle/course:enrolreview'],
            'view user details' => ['moodle/user:viewdetails'],
        ];
    }

    /**
     * A course where the caller lacks one of them is a warning; the other courses are read.
     *
     * @dataProvider course_capabilities
     * @param string $capability
     */
    public function test_a_course_without_a_capability_core_wants_is_a_warning(string $capability): void {
        $this->resetAfterTest();
        [$refused] = $this->course();
        [$read, $users] = $this->course();
        $user = $this->login();
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->prohibit($user, $capability, \context_course::instance($refused->id));

        $answer = $this->call([$refused->id, $read->id]);

        $this->assertSame([['course', (int)$refused->id, 'nopermissions']], self::codes($answer['warnings']));
        $this->assertSame([(int)$read->id], array_values(array_unique(array_column($answer['enrolments'], 'courseid'))));
        $this->assertContains((int)$users['active']->id, array_column($answer['enrolments'], 'userid'));
    }

    /**
     * An unknown course and a hidden course (without viewhiddencourses) are warnings.
     */
    public function test_an_unknown_or_hidden_course_is_a_warning(): void {
        $this->resetAfterTest();
        [$hidden] = $this->course(['visible' => 0]);
        $this->login(['moodle/course:viewhiddencourses']);

        $answer = $this->call([987654, $hidden->id]);

        $this->assertSame([], $answer['enrolments']);
        $this->assertSame(
            [['course', 987654, 'invalidrecord'], ['course', (int)$hidden->id, 'requireloginerror']],
            self::codes($answer['warnings'])
        );
    }

    /**
     * In separate groups mode a caller without moodle/site:accessallgroups sees the members of her
     * own groups only, and a warning says the course's list is partial.
     */
    public function test_separate_groups_limit_the_list_to_the_callers_groups(): void {
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        [$course, $users] = $this->course(['groupmode' => SEPARATEGROUPS]);
        $mine = $gen->create_group(['courseid' => $course->id]);
        $other = $gen->create_group(['courseid' => $course->id]);
        $gen->create_group_member(['groupid' => $mine->id, 'userid' => $users['active']->id]);
        $gen->create_group_member(['groupid' => $other->id, 'userid' => $users['suspended']->id]);
        $caller = $this->login(['moodle/site:accessallgroups']);
        $gen->enrol_user($caller->id, $course->id, 0);
        $gen->create_group_member(['groupid' => $mine->id, 'userid' => $caller->id]);

        $answer = $this->call([$course->id]);

        $this->assertEqualsCanonicalizing(
            [(int)$users['active']->id, (int)$caller->id],
            array_column($answer['enrolments'], 'userid')
        );
        $this->assertSame([['course', (int)$course->id, 'groupsonly']], self::codes($answer['warnings']));
    }

    /**
     * A caller in none of the course's groups sees nobody there.
     */
    public function test_separate_groups_show_nobody_to_a_caller_in_no_group(): void {
        $this->resetAfterTest();
        [$course] = $this->course(['groupmode' => SEPARATEGROUPS]);
        $this->login(['moodle/site:accessallgroups']);

        $answer = $this->call([$course->id]);

        $this->assertSame([], $answer['enrolments']);
        $this->assertSame([['course', (int)$course->id, 'groupsonly']], self::codes($answer['warnings']));
    }

    /**
     * With moodle/site:accessallgroups separate groups hide nobody.
     */
    public function test_separate_groups_hide_nobody_from_a_caller_with_accessallgroups(): void {
        $this->resetAfterTest();
        [$course] = $this->course(['groupmode' => SEPARATEGROUPS]);
        $this->login();

        $answer = $this->call([$course->id]);

        $this->assertCount(6, $answer['enrolments']);
        $this->assertSame([], $answer['warnings']);
    }

    /**
     * Course ids must be integers.
     */
    public function test_bad_parameters_are_refused(): void {
        $this->resetAfterTest();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        get_enrolments::execute(['abc']);
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
