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
 * A record in the words a viewer may see: lines of her courses' work, linked only where she may
 * grade, and credits and the next deadline only from what she may see.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\presenter
 */
final class presenter_test extends \advanced_testcase {
    /**
     * A student's own line links to the assignment; a tutor's to the grader only when she grades.
     */
    public function test_item_links(): void {
        $this->resetAfterTest();
        $item = ['cmid' => 12, 'name' => 'Essay', 'module' => 'MPC', 'duedate' => time() - DAYSECS, 'state' => 'new',
            'required' => true];
        $own = presenter::item($item, time(), null);
        $this->assertStringContainsString('/mod/assign/view.php?id=12', $own['url']);
        $this->assertStringNotContainsString('grader', $own['url']);
        $this->assertSame('', presenter::item($item, time(), 5)['url']);
        $grader = presenter::item($item, time(), 5, true)['url'];
        $this->assertStringContainsString('action=grader', $grader);
        $this->assertStringContainsString('userid=5', $grader);
        $this->assertSame(['1 day overdue'], presenter::item($item, time(), null)['flags']);
    }

    /**
     * Nora's lines of Ann's work are MPC's (overdue) only: OCVB's is not flagged, RAPL's not hers.
     */
    public function test_work_keeps_to_the_viewers_courses(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $ann = $scene->record('ann');
        $lines = presenter::work($ann, new viewer($scene->id('nora')), $scene->now, 0);
        $this->assertSame(['MPC'], array_column($lines, 'module'));
        $this->assertStringContainsString('action=grader', $lines[0]['url']);
        $leader = presenter::work($ann, new viewer($scene->id('leader')), $scene->now, 0);
        $this->assertSame(['MPC'], array_column($leader, 'module'), 'RAPL graded and OCVB not due: nothing to flag');
        $this->assertSame('', $leader[0]['url'], 'the leader does not grade: no link');
    }

    /**
     * Credits and the programme's next deadline are the whole record's; a teacher gets the next
     * deadline of her courses' work and no credits.
     */
    public function test_summary(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $ann = $scene->record('ann');
        $whole = presenter::summary($ann, new viewer($scene->id('leader')), $scene->now);
        $this->assertSame('60 of 120 credits toward PG Diploma', $whole['credits']);
        $this->assertSame($scene->now + 2 * DAYSECS, $whole['nextdeadline']);
        $this->assertCount(3, $whole['reasons']);
        $nora = presenter::summary($ann, new viewer($scene->id('nora')), $scene->now);
        $this->assertSame('', $nora['credits']);
        $this->assertSame($scene->now + 5 * DAYSECS, $nora['nextdeadline'], "OCVB's, not RAPL's earlier one");
        $this->assertSame(['MPC Essay 4 days overdue'], $nora['reasons']);
        $this->assertTrue($nora['withheld']);
    }
}
