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
 * The enrolment status rules, which must be core's `onlyactive`.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\enrolments
 */
final class enrolments_test extends \advanced_testcase {
    /** @var int The time that decides. */
    private const NOW = 1800000000;

    /**
     * One enrolment and the status and reason it must get.
     *
     * @return array
     */
    public static function enrolments(): array {
        $active = ENROL_USER_ACTIVE;
        $enabled = ENROL_INSTANCE_ENABLED;
        return [
            'active, no dates' => [$active, $enabled, 0, 0, ['active', '']],
            'started a second ago, ends in a second' => [$active, $enabled, self::NOW - 1, self::NOW + 1, ['active', '']],
            'suspended wins over everything' => [ENROL_USER_SUSPENDED, ENROL_INSTANCE_DISABLED, self::NOW + 9, 1,
                ['suspended', 'suspended']],
            'the method is disabled' => [$active, ENROL_INSTANCE_DISABLED, 0, 0, ['notcurrent', 'methoddisabled']],
            'starts now: not yet (core wants timestart < now)' => [$active, $enabled, self::NOW, 0, ['notcurrent', 'notstarted']],
            'ends now: over (core wants timeend > now)' => [$active, $enabled, 0, self::NOW, ['notcurrent', 'ended']],
            'ended' => [$active, $enabled, 0, self::NOW - 86400, ['notcurrent', 'ended']],
        ];
    }

    /**
     * Each enrolment gets the status core's onlyactive gives it, and says why.
     *
     * @dataProvider enrolments
     * @param int $uestatus
     * @param int $estatus
     * @param int $timestart
     * @param int $timeend
     * @param array $expected [status, reason]
     */
    public function test_status_follows_cores_onlyactive(
        int $uestatus,
        int $estatus,
        int $timestart,
        int $timeend,
        array $expected
    ): void {
        $ue = (object)['uestatus' => $uestatus, 'estatus' => $estatus, 'timestart' => $timestart, 'timeend' => $timeend];
        $this->assertSame($expected, enrolments::status($ue, self::NOW));
    }

    /**
     * The rows of several courses in one read: course, user and enrolment order, roles of the course
     * context only, deleted users left out.
     */
    public function test_rows_of_many_courses_carry_course_roles_and_leave_deleted_users_out(): void {
        global $DB;
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        [$one, $two] = [$gen->create_course(), $gen->create_course()];
        [$ann, $bob, $gone] = [$gen->create_user(), $gen->create_user(), $gen->create_user()];
        $gen->enrol_user($bob->id, $one->id, 'student');
        $gen->enrol_user($ann->id, $one->id, 'editingteacher');
        $gen->enrol_user($ann->id, $two->id, 'student');
        $gen->enrol_user($gone->id, $two->id, 'student');
        $DB->set_field('user', 'deleted', 1, ['id' => $gone->id]);

        $rows = enrolments::for_courses([$two->id, $one->id], time() + 1);

        $expected = [[$one->id, min($ann->id, $bob->id)], [$one->id, max($ann->id, $bob->id)], [$two->id, $ann->id]];
        $this->assertEquals($expected, array_map(fn($r) => [$r['courseid'], $r['userid']], $rows));
        $annsroles = array_map(
            fn($r) => array_column($r['roles'], 'shortname'),
            array_filter($rows, fn($r) => $r['userid'] == $ann->id)
        );
        $this->assertSame([['editingteacher'], ['student']], array_values($annsroles));
        $this->assertSame([], enrolments::for_courses([], time()));
    }
}
