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

namespace local_cetadsync\local;

/**
 * Each student's own dates, computed as mod_assign computes them for one student.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\effective_dates
 */
final class effective_dates_test extends \advanced_testcase {
    /** @var int The assignment's due date. */
    private const DUE = 1900000000;

    /**
     * A course with an assignment, and students enrolled in it.
     *
     * @param int $count how many students
     * @param array $course course settings
     * @return array [course, assign record, students]
     */
    private function setup_assignment(int $count, array $course = []): array {
        global $DB;
        $gen = $this->getDataGenerator();
        $course = $gen->create_course($course);
        $module = $gen->create_module('assign', ['course' => $course->id, 'duedate' => self::DUE,
            'cutoffdate' => self::DUE + 86400, 'allowsubmissionsfromdate' => self::DUE - 86400 * 30]);
        $students = [];
        for ($i = 0; $i < $count; $i++) {
            $students[] = $gen->create_user();
            $gen->enrol_user(end($students)->id, $course->id, 'student');
        }
        return [$course, $DB->get_record('assign', ['id' => $module->id], '*', MUST_EXIST), $students];
    }

    /**
     * The rows by user id.
     *
     * @param \stdClass $assign
     * @param bool $onlyactive
     * @return array
     */
    private static function rows(\stdClass $assign, bool $onlyactive = false): array {
        return array_column(effective_dates::students($assign, $onlyactive), null, 'userid');
    }

    /**
     * A user override wins entirely: the dates it leaves empty are the assignment's, not her group's.
     */
    public function test_a_user_override_wins_over_her_groups(): void {
        $this->resetAfterTest();
        [$course, $assign, [$ann]] = $this->setup_assignment(1);
        $plugin = $this->getDataGenerator()->get_plugin_generator('local_cetadsync');
        $group = $this->getDataGenerator()->create_group(['courseid' => $course->id]);
        $this->getDataGenerator()->create_group_member(['groupid' => $group->id, 'userid' => $ann->id]);
        $plugin->create_override(['assignid' => $assign->id, 'groupid' => $group->id, 'sortorder' => 1,
            'duedate' => self::DUE + 100, 'cutoffdate' => self::DUE + 200]);
        $plugin->create_override(['assignid' => $assign->id, 'userid' => $ann->id, 'duedate' => self::DUE + 50]);

        $row = self::rows($assign)[$ann->id];

        $this->assertSame(
            ['user', 0, self::DUE + 50, self::DUE + 86400, self::DUE - 86400 * 30],
            [$row['source'], $row['groupid'], $row['duedate'], $row['cutoffdate'], $row['allowsubmissionsfromdate']]
        );
    }

    /**
     * Of a student's groups with overrides, the one with the lowest sortorder applies.
     */
    public function test_the_group_override_with_the_lowest_sortorder_applies(): void {
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        [$course, $assign, [$ann, $bob]] = $this->setup_assignment(2);
        $plugin = $gen->get_plugin_generator('local_cetadsync');
        $first = $gen->create_group(['courseid' => $course->id]);
        $second = $gen->create_group(['courseid' => $course->id]);
        foreach ([$first, $second] as $group) {
            $gen->create_group_member(['groupid' => $group->id, 'userid' => $ann->id]);
        }
        $gen->create_group_member(['groupid' => $second->id, 'userid' => $bob->id]);
        $plugin->create_override(['assignid' => $assign->id, 'groupid' => $second->id, 'sortorder' => 2,
            'duedate' => self::DUE + 200]);
        $plugin->create_override(['assignid' => $assign->id, 'groupid' => $first->id, 'sortorder' => 1,
            'duedate' => self::DUE + 100]);

        $rows = self::rows($assign);

        $this->assertSame([(int)$first->id, self::DUE + 100], [$rows[$ann->id]['groupid'], $rows[$ann->id]['duedate']]);
        $this->assertSame([(int)$second->id, self::DUE + 200], [$rows[$bob->id]['groupid'], $rows[$bob->id]['duedate']]);
    }

    /**
     * In a relative-dates course the due date moves with each student's enrolment start, as
     * assign::calculate_properties moves it; an override's own date does not move.
     */
    public function test_relative_dates_move_the_due_date_with_the_enrolment_start(): void {
        global $DB;
        $this->resetAfterTest();
        set_config('enablecourserelativedates', 1);
        $start = self::DUE - 86400 * 60;
        [$course, $assign, [$ontime, $late, $own]] = $this->setup_assignment(3, ['relativedatesmode' => 1,
            'startdate' => $start]);
        $DB->set_field('user_enrolments', 'timestart', $start, []);
        $DB->set_field('user_enrolments', 'timestart', $start + 86400 * 5, ['userid' => $late->id]);
        $DB->set_field('user_enrolments', 'timestart', $start + 86400 * 5, ['userid' => $own->id]);
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->create_override(['assignid' => $assign->id, 'userid' => $own->id, 'duedate' => self::DUE + 60]);

        $rows = self::rows($assign);

        $this->assertArrayNotHasKey($ontime->id, $rows);
        $this->assertSame(['none', self::DUE + 86400 * 5], [$rows[$late->id]['source'], $rows[$late->id]['duedate']]);
        $this->assertSame(self::DUE + 60, $rows[$own->id]['duedate']);
    }

    /**
     * An extension alone lists the student, with her own dates unchanged; a student enrolled in
     * no course is never listed; without the right to see suspended students, they are left out.
     */
    public function test_extensions_are_listed_for_enrolled_students_only(): void {
        global $DB;
        $this->resetAfterTest();
        [, $assign, [$ann, $bob]] = $this->setup_assignment(2);
        $stranger = $this->getDataGenerator()->create_user();
        $plugin = $this->getDataGenerator()->get_plugin_generator('local_cetadsync');
        foreach ([$ann, $bob, $stranger] as $user) {
            $plugin->create_user_flags(['assignment' => $assign->id, 'userid' => $user->id,
                'extensionduedate' => self::DUE + 86400 * 3]);
        }
        $DB->set_field('user_enrolments', 'status', ENROL_USER_SUSPENDED, ['userid' => $bob->id]);

        $rows = self::rows($assign);

        $this->assertSame([(int)$ann->id, (int)$bob->id], array_keys($rows));
        $this->assertSame(['none', self::DUE, self::DUE + 86400 * 3], [$rows[$ann->id]['source'], $rows[$ann->id]['duedate'],
            $rows[$ann->id]['extensionduedate']]);
        $this->assertSame([(int)$ann->id], array_keys(self::rows($assign, true)));
    }
}
