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
 * local_cetadsync_get_effective_dates: students' own dates, with mod_assign_get_participant's checks per assignment.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\get_effective_dates
 * @covers     \local_cetadsync\external\base
 */
final class get_effective_dates_test extends \externallib_advanced_testcase {
    /** @var int The assignments' due date. */
    private const DUE = 1900000000;

    /**
     * Call the function as the current user and clean its answer as the web service would.
     *
     * @param int[] $assignmentids
     * @param int $since
     * @return array
     */
    private function call(array $assignmentids, int $since = 0): array {
        $answer = get_effective_dates::execute($assignmentids, $since);
        return external_api::clean_returnvalue(get_effective_dates::execute_returns(), $answer);
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
     * An assignment with a student of each kind, by name: a user override, a group override, an
     * extension, a suspended one and a deleted one with overrides, and one on the assignment's dates.
     *
     * @param array $course course settings
     * @param array $assign assignment settings
     * @return array [assign record, users by name]
     */
    private function assignment(array $course = [], array $assign = []): array {
        global $DB;
        $gen = $this->getDataGenerator();
        $plugin = $gen->get_plugin_generator('local_cetadsync');
        $course = $gen->create_course($course);
        $assign = $gen->create_module('assign', $assign + ['course' => $course->id, 'duedate' => self::DUE,
            'cutoffdate' => self::DUE + 86400, 'allowsubmissionsfromdate' => 0]);
        $users = [];
        foreach (['own', 'grouped', 'extended', 'suspended', 'deleted', 'plain'] as $name) {
            $users[$name] = $gen->create_user();
            $status = $name === 'suspended' ? ENROL_USER_SUSPENDED : ENROL_USER_ACTIVE;
            $gen->enrol_user($users[$name]->id, $course->id, 'student', 'manual', 0, 0, $status);
        }
        $group = $gen->create_group(['courseid' => $course->id]);
        $gen->create_group_member(['groupid' => $group->id, 'userid' => $users['grouped']->id]);
        $gen->create_group_member(['groupid' => $group->id, 'userid' => $users['own']->id]);
        $plugin->create_override(['assignid' => $assign->id, 'groupid' => $group->id, 'sortorder' => 1,
            'duedate' => self::DUE + 3600, 'cutoffdate' => self::DUE + 7200]);
        foreach (['own', 'suspended', 'deleted'] as $name) {
            $plugin->create_override(['assignid' => $assign->id, 'userid' => $users[$name]->id, 'duedate' => self::DUE + 600]);
        }
        $plugin->create_user_flags(['assignment' => $assign->id, 'userid' => $users['extended']->id,
            'extensionduedate' => self::DUE + 86400 * 2]);
        $DB->set_field('user', 'deleted', 1, ['id' => $users['deleted']->id]);
        return [$assign, $users];
    }

    /**
     * The students listed by user id.
     *
     * @param array $answer
     * @return array
     */
    private static function students(array $answer): array {
        return array_column($answer['assignments'][0]['students'], null, 'userid');
    }

    /**
     * A user override wins entirely over the group's, a group override applies to its members, an
     * extension alone is listed; a student on the assignment's dates is not.
     */
    public function test_each_student_whose_dates_differ_is_listed_with_where_they_come_from(): void {
        $this->resetAfterTest();
        [$assign, $users] = $this->assignment();
        $this->login();

        $answer = $this->call([$assign->id]);

        $this->assertSame([], $answer['warnings']);
        [$read] = $answer['assignments'];
        $this->assertSame([(int)$assign->id, self::DUE, true], [$read['assignmentid'], $read['duedate'], $read['changed']]);
        $students = self::students($answer);
        $own = $students[$users['own']->id];
        $this->assertSame(
            ['user', self::DUE + 600, self::DUE + 86400],
            [$own['source'], $own['duedate'], $own['cutoffdate']],
            'the cut-off date the user override leaves empty is the assignment\'s, not the group\'s'
        );
        $grouped = $students[$users['grouped']->id];
        $this->assertSame(['group', self::DUE + 3600, self::DUE + 7200], [$grouped['source'], $grouped['duedate'],
            $grouped['cutoffdate']]);
        $this->assertSame(['none', self::DUE + 86400 * 2], [$students[$users['extended']->id]['source'],
            $students[$users['extended']->id]['extensionduedate']]);
        $this->assertArrayNotHasKey($users['plain']->id, $students);
        $this->assertArrayHasKey($users['suspended']->id, $students, 'the integration role sees suspended students');
    }

    /**
     * A deleted user is never listed, whatever her overrides.
     */
    public function test_a_deleted_user_is_left_out(): void {
        $this->resetAfterTest();
        [$assign, $users] = $this->assignment();
        $this->login();
        $this->assertArrayNotHasKey($users['deleted']->id, self::students($this->call([$assign->id])));
    }

    /**
     * Without moodle/course:viewsuspendedusers a student without an active enrolment is left out,
     * as mod_assign_get_participant leaves her out.
     */
    public function test_a_suspended_student_is_left_out_without_viewsuspendedusers(): void {
        $this->resetAfterTest();
        [$assign, $users] = $this->assignment();
        $this->login(['moodle/course:viewsuspendedusers']);

        $students = self::students($this->call([$assign->id]));

        $this->assertArrayNotHasKey($users['suspended']->id, $students);
        $this->assertArrayHasKey($users['own']->id, $students);
    }

    /**
     * Nothing changed since `since`: the assignment says so and lists nobody.
     */
    public function test_since_after_the_last_change_lists_nobody(): void {
        $this->resetAfterTest();
        [$assign] = $this->assignment();
        $this->login();
        $first = $this->call([$assign->id]);

        $quiet = $this->call([$assign->id], $first['assignments'][0]['timechanged'] + 1);

        $this->assertSame([false, []], [$quiet['assignments'][0]['changed'], $quiet['assignments'][0]['students']]);
    }

    /**
     * Without the plugin capability the whole call is refused.
     */
    public function test_a_caller_without_readdates_is_refused(): void {
        $this->resetAfterTest();
        [$assign] = $this->assignment();
        $this->login(['local/cetadsync:readdates']);
        $this->expectException(\required_capability_exception::class);
        $this->call([$assign->id]);
    }

    /**
     * An assignment whose grades the caller may not view is a warning; the others are read.
     */
    public function test_an_assignment_without_viewgrades_is_a_warning(): void {
        $this->resetAfterTest();
        [$refused] = $this->assignment();
        [$read] = $this->assignment();
        $user = $this->login();
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->prohibit($user, 'mod/assign:viewgrades', \context_module::instance($refused->cmid));

        $answer = $this->call([$refused->id, $read->id]);

        $this->assertSame([['assignment', (int)$refused->id, 'nopermissions']], self::codes($answer['warnings']));
        $this->assertSame([(int)$read->id], array_column($answer['assignments'], 'assignmentid'));
    }

    /**
     * An unknown assignment, a hidden one and one in a hidden course are warnings.
     */
    public function test_an_unknown_or_hidden_assignment_or_course_is_a_warning(): void {
        $this->resetAfterTest();
        [$hiddenassign] = $this->assignment([], ['visible' => 0]);
        [$inhiddencourse] = $this->assignment(['visible' => 0]);
        $this->login(['moodle/course:viewhiddencourses']);

        $answer = $this->call([987654, $hiddenassign->id, $inhiddencourse->id]);

        $this->assertSame([], $answer['assignments']);
        $this->assertSame([
            ['assignment', 987654, 'invalidrecord'],
            ['assignment', (int)$hiddenassign->id, 'requireloginerror'],
            ['assignment', (int)$inhiddencourse->id, 'requireloginerror'],
        ], self::codes($answer['warnings']));
    }

    /**
     * In separate groups mode a caller without moodle/site:accessallgroups who is in none of the
     * activity's groups may not view its grades (assign::can_view_grades): a warning.
     */
    public function test_separate_groups_refuse_a_caller_in_no_group(): void {
        $this->resetAfterTest();
        [$assign] = $this->assignment(['groupmode' => SEPARATEGROUPS, 'groupmodeforce' => 1]);
        $this->login(['moodle/site:accessallgroups']);

        $answer = $this->call([$assign->id]);

        $this->assertSame([], $answer['assignments']);
        $this->assertSame([['assignment', (int)$assign->id, 'nopermission']], self::codes($answer['warnings']));
    }

    /**
     * Assignment ids must be integers.
     */
    public function test_bad_parameters_are_refused(): void {
        $this->resetAfterTest();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        get_effective_dates::execute(['abc']);
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
