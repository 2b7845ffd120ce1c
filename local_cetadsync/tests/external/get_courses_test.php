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
 * local_cetadsync_get_courses: courses by idnumber, with core_course_get_courses_by_field's checks per course.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\get_courses
 * @covers     \local_cetadsync\external\base
 */
final class get_courses_test extends \externallib_advanced_testcase {
    /**
     * Call the function as the current user and clean its answer as the web service would.
     *
     * @param string[] $idnumbers
     * @return array
     */
    private function call(array $idnumbers): array {
        return external_api::clean_returnvalue(get_courses::execute_returns(), get_courses::execute($idnumbers));
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
     * Every course holding one of the idnumbers, ordered by idnumber; repeats, empty strings,
     * unknown idnumbers and the site course are left out.
     */
    public function test_courses_come_by_idnumber_in_idnumber_order(): void {
        global $SITE;
        $this->resetAfterTest();
        $b = $this->getDataGenerator()->create_course(['idnumber' => 'CETAD-B', 'fullname' => 'B & co',
            'groupmode' => SEPARATEGROUPS, 'startdate' => 1700000000]);
        $a = $this->getDataGenerator()->create_course(['idnumber' => 'CETAD-A', 'visible' => 0]);
        $this->getDataGenerator()->create_course(['idnumber' => 'OTHER']);
        $this->login();

        $answer = $this->call(['CETAD-B', 'CETAD-A', 'NO-SUCH', '', 'CETAD-B', $SITE->idnumber]);

        $this->assertSame([], $answer['warnings']);
        $this->assertSame([(int)$a->id, (int)$b->id], array_column($answer['courses'], 'id'));
        [$first, $second] = $answer['courses'];
        $this->assertSame(['CETAD-A', 0], [$first['idnumber'], $first['visible']]);
        $this->assertSame('B &amp; co', $second['fullname']);
        $this->assertSame([SEPARATEGROUPS, 1700000000, (int)$b->category], [$second['groupmode'],
            $second['startdate'], $second['categoryid']]);
    }

    /**
     * Without the plugin capability the whole call is refused.
     */
    public function test_a_caller_without_readenrolments_is_refused(): void {
        $this->resetAfterTest();
        $this->login(['local/cetadsync:readenrolments']);
        $this->expectException(\required_capability_exception::class);
        $this->call(['CETAD-A']);
    }

    /**
     * A hidden course needs moodle/course:viewhiddencourses, as core's lookup; without it the
     * course is a warning and the others are still answered.
     */
    public function test_a_hidden_course_is_a_warning_without_viewhiddencourses(): void {
        $this->resetAfterTest();
        $hidden = $this->getDataGenerator()->create_course(['idnumber' => 'CETAD-H', 'visible' => 0]);
        $shown = $this->getDataGenerator()->create_course(['idnumber' => 'CETAD-S']);
        $this->login(['moodle/course:viewhiddencourses']);

        $answer = $this->call(['CETAD-H', 'CETAD-S']);

        $this->assertSame([(int)$shown->id], array_column($answer['courses'], 'id'));
        $this->assertSame([['course', (int)$hidden->id, 'requireloginerror']], self::codes($answer['warnings']));
    }

    /**
     * A course the caller may not enter (moodle/course:view prohibited there) is a warning.
     */
    public function test_a_course_the_caller_may_not_enter_is_a_warning(): void {
        $this->resetAfterTest();
        $course = $this->getDataGenerator()->create_course(['idnumber' => 'CETAD-X']);
        $user = $this->login();
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->prohibit($user, 'moodle/course:view', \context_course::instance($course->id));

        $answer = $this->call(['CETAD-X']);

        $this->assertSame([], $answer['courses']);
        $this->assertSame([['course', (int)$course->id, 'requireloginerror']], self::codes($answer['warnings']));
    }

    /**
     * A list is required: a single value is Moodle's invalid parameter.
     */
    public function test_bad_parameters_are_refused(): void {
        $this->resetAfterTest();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        get_courses::execute([['CETAD-A']]);
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
