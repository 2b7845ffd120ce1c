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

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/local/cetadsync/tests/fixtures/programme_scene.php');

/**
 * Who may open each page: course.php, mystudents.php and myprogress.php (and so their links).
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\access
 */
final class access_test extends \advanced_testcase {
    /**
     * Each person, and whether she may open: MPC's course.php, mystudents.php, myprogress.php.
     *
     * @return array
     */
    public static function people(): array {
        return [
            'a teacher of MPC' => ['nora', true, true, true],
            'the teacher of another course of the programme' => ['edith', false, true, true],
            'a teacher of a course elsewhere' => ['stranger', false, true, true],
            'a programme leader (category role, not in the course)' => ['leader', false, true, true],
            'a manager at system level' => ['manager', true, true, true],
            'a student of MPC' => ['ann', false, false, true],
            'a user with no role' => ['nobody', false, false, true],
            'the guest' => ['guest', false, false, false],
        ];
    }

    /**
     * The rule of each page.
     *
     * @dataProvider people
     * @param string $who
     * @param bool $course
     * @param bool $mystudents
     * @param bool $myprogress
     */
    public function test_page_rules(string $who, bool $course, bool $mystudents, bool $myprogress): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $userid = $who === 'guest' ? (int)guest_user()->id : $scene->id($who);
        $this->assertSame($course, access::course_page($scene->courses['MPC'], $userid), 'course.php');
        $this->assertSame($mystudents, access::mystudents_page($userid), 'mystudents.php');
        $this->assertSame($myprogress, access::myprogress_page($userid), 'myprogress.php');
    }

    /**
     * The site course has no Progression page, and a refusal is Moodle's nopermissions.
     */
    public function test_site_course_and_refusal(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $this->assertFalse(access::course_page(get_site(), $scene->id('manager')));
        access::enforce(true, \context_system::instance(), audience::VIEWCOURSE);
        $this->expectException(\required_capability_exception::class);
        access::enforce(false, \context_system::instance(), audience::VIEWCOURSE);
    }

    /**
     * The navigation shows "Progression" in the course only to those who may open it.
     */
    public function test_course_navigation_follows_the_rule(): void {
        global $CFG;
        require_once($CFG->dirroot . '/local/cetadsync/lib.php');
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $mpc = $scene->courses['MPC'];
        foreach (['nora' => true, 'ann' => false] as $who => $shown) {
            $this->setUser($scene->users[$who]);
            $node = \navigation_node::create('course');
            local_cetadsync_extend_navigation_course($node, $mpc, \context_course::instance($mpc->id));
            $this->assertSame($shown, (bool)$node->find('local_cetadsync_progression', \navigation_node::TYPE_SETTING), $who);
        }
    }
}
