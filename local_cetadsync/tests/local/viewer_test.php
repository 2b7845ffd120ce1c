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
 * What of a student's programme record each viewer sees: her courses' work, the reasons of her
 * modules, the whole record only with viewprogramme.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\viewer
 */
final class viewer_test extends \advanced_testcase {
    /** @var \local_cetadsync_programme_scene */
    private \local_cetadsync_programme_scene $scene;

    /**
     * The programme.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $this->scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
    }

    /**
     * The course codes of the items a viewer sees of a student's record.
     *
     * @param string $viewer
     * @param string $student
     * @return string[]
     */
    private function item_courses(string $viewer, string $student): array {
        $items = (new viewer($this->scene->id($viewer)))->items($this->scene->record($student));
        $codes = array_values(array_unique(array_map(fn($i) => $i['module'], $items)));
        sort($codes);
        return $codes;
    }

    /**
     * A teacher of MPC and OCVB sees Ann's MPC and OCVB work, never RAPL's.
     */
    public function test_a_teacher_sees_only_her_courses_work(): void {
        $this->assertSame(['MPC', 'OCVB'], $this->item_courses('nora', 'ann'));
        $this->assertSame(['RAPL'], $this->item_courses('edith', 'ann'));
        $this->assertSame([], $this->item_courses('stranger', 'ann'));
    }

    /**
     * In OCVB (separate groups) Nora is in G1: Bea (G2) shows her MPC work only.
     */
    public function test_separate_groups_hide_another_groups_work(): void {
        $this->assertSame(['MPC'], $this->item_courses('nora', 'bea'));
        $this->assertSame(['MPC', 'OCVB'], $this->item_courses('leader', 'bea'));
    }

    /**
     * A programme leader in the category, and a manager at system level, see the whole record.
     */
    public function test_viewprogramme_sees_the_whole_record(): void {
        $ann = $this->scene->record('ann');
        foreach (['leader', 'manager'] as $who) {
            $viewer = new viewer($this->scene->id($who));
            $this->assertTrue($viewer->sees_whole($ann), $who);
            $this->assertSame([presenter::reasons($ann), false], $viewer->reasons($ann), $who);
            $this->assertSame(['MPC', 'OCVB', 'RAPL'], $this->item_courses($who, 'ann'));
        }
        // Dan's work is in LOTC, outside the leader's category.
        $this->assertFalse((new viewer($this->scene->id('leader')))->sees_whole($this->scene->record('dan')));
    }

    /**
     * Nora sees the reason of her module; RAPL's mark and the programme's credits are withheld.
     */
    public function test_a_teacher_sees_only_her_modules_reasons(): void {
        $ann = $this->scene->record('ann');
        $nora = new viewer($this->scene->id('nora'));
        $this->assertFalse($nora->sees_whole($ann));
        $this->assertSame([['MPC Essay 4 days overdue'], true], $nora->reasons($ann));
        $edith = new viewer($this->scene->id('edith'));
        $this->assertSame([['RAPL referred: mark 46.0, resit pending'], true], $edith->reasons($ann));
        // Bea's only reason is OCVB's, whose work Nora does not see (another group).
        $this->assertSame([[], true], $nora->reasons($this->scene->record('bea')));
    }

    /**
     * A teacher of every course of a record still lacks the programme view (credits, awards).
     */
    public function test_teaching_every_course_is_not_the_programme_view(): void {
        $cal = $this->scene->record('cal');
        $edith = new viewer($this->scene->id('edith'));
        $this->assertFalse($edith->sees_whole($cal));
        $this->assertSame([['RAPL Essay 4 days overdue'], false], $edith->reasons($cal));
    }

    /**
     * A line links to the grader only where the viewer may grade.
     */
    public function test_may_grade_follows_mod_assign_grade(): void {
        global $DB;
        $nora = $this->scene->id('nora');
        $mpc = (int)$this->scene->assigns['MPC']->cmid;
        $ocvb = (int)$this->scene->assigns['OCVB']->cmid;
        $teacher = $DB->get_field('role', 'id', ['shortname' => 'teacher']);
        assign_capability('mod/assign:grade', CAP_PROHIBIT, $teacher, \context_module::instance($ocvb)->id);
        $viewer = new viewer($nora);
        $this->assertTrue($viewer->may_grade($mpc));
        $this->assertFalse($viewer->may_grade($ocvb));
        $this->assertFalse($viewer->may_grade((int)$this->scene->assigns['RAPL']->cmid));
        $this->assertFalse($viewer->may_grade(999999));
    }
}
