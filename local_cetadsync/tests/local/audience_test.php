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
 * Whose records each viewer's pages list: her courses' students, her groups in separate groups,
 * a category's students for a programme leader there, everyone for a holder at system level.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\audience
 */
final class audience_test extends \advanced_testcase {
    /**
     * Who each viewer's "My students" lists.
     *
     * @return array
     */
    public static function viewers(): array {
        return [
            'a teacher of MPC and OCVB: their students, Bea through MPC' => ['nora', ['ann', 'bea']],
            'the editing teacher of RAPL' => ['edith', ['ann', 'cal']],
            'a programme leader in the category' => ['leader', ['ann', 'bea', 'cal']],
            'a teacher of a course in another category' => ['stranger', ['dan']],
            'a student' => ['ann', []],
            'a user with no role' => ['nobody', []],
        ];
    }

    /**
     * Each viewer's students.
     *
     * @dataProvider viewers
     * @param string $viewer
     * @param string[] $students
     */
    public function test_viewer_students(string $viewer, array $students): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $expected = $scene->ids(...$students);
        sort($expected);
        $this->assertSame($expected, \local_cetadsync_programme_scene::selected(audience::viewer_students($scene->id($viewer))));
        $this->assertSame((bool)$students || $viewer === 'stranger', audience::has_students($scene->id($viewer)));
    }

    /**
     * A manager at system level sees every record; the guest has no students.
     */
    public function test_system_level_sees_everyone_and_the_guest_nobody(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $this->assertNull(audience::viewer_students($scene->id('manager')));
        $this->assertTrue(audience::has_students($scene->id('manager')));
        $this->assertFalse(audience::has_students((int)guest_user()->id));
    }

    /**
     * On a course in separate groups a teacher sees her group, and nobody when she asks for another.
     */
    public function test_course_students_keep_to_her_groups(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $ocvb = $scene->courses['OCVB'];
        $nora = $scene->id('nora');
        $selected = fn(int $group) => \local_cetadsync_programme_scene::selected(audience::course_students($ocvb, $nora, $group));
        $this->assertSame($scene->ids('ann'), $selected(0));
        $this->assertSame($scene->ids('ann'), $selected((int)$scene->groups['G1']->id));
        $this->assertSame([], $selected((int)$scene->groups['G2']->id));
        $both = $scene->ids('ann', 'bea');
        sort($both);
        $leader = audience::course_students($ocvb, $scene->id('leader'), 0);
        $this->assertSame($both, \local_cetadsync_programme_scene::selected($leader));
    }
}
