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

namespace local_cetadsync\table;

use local_cetadsync\local\audience;
use local_cetadsync\local\viewer;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/local/cetadsync/tests/fixtures/programme_scene.php');

/**
 * The students table, on the page and as a CSV download, shows each viewer only what she may see.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\table\students
 */
final class students_test extends \advanced_testcase {
    /**
     * "My students" as the viewer would get it: the page's HTML or the CSV download.
     *
     * @param \local_cetadsync_programme_scene $scene
     * @param string $who
     * @param string $download '' for the page, else a format (its rows' cells, comma-separated)
     * @return string
     */
    private function my_students(\local_cetadsync_programme_scene $scene, string $who, string $download): string {
        global $PAGE;
        $this->setUser($scene->users[$who]);
        $PAGE->set_url(new \moodle_url('/local/cetadsync/mystudents.php'));
        $PAGE->set_context(\context_system::instance());
        $viewerid = $scene->id($who);
        ob_start(); // A download writes its first bytes (a byte order mark) as it starts.
        $table = \local_cetadsync\output\roster::table(
            new \moodle_url('/local/cetadsync/mystudents.php'),
            audience::viewer_students($viewerid),
            0,
            '',
            $download,
            'progression',
            new viewer($viewerid)
        );
        if ($download === '') {
            $table->out(50, false);
            return ob_get_clean();
        }
        // The download's cells, as out() would write them (it ends the request with exit()).
        $table->setup();
        $table->query_db(0, false);
        $lines = array_map(fn($row) => implode(',', $table->format_row($row)), $table->rawdata);
        ob_end_clean();
        return implode("\n", $lines);
    }

    /**
     * A teacher of MPC and OCVB: no RAPL reason, mark or work, no credits, on the page or in the CSV.
     */
    public function test_a_teacher_sees_nothing_of_other_courses(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        foreach (['', 'csv'] as $download) {
            $out = $this->my_students($scene, 'nora', $download);
            $this->assertStringContainsString('Ann', $out, $download);
            $this->assertStringContainsString('MPC Essay 4 days overdue', $out, $download);
            foreach (['RAPL', '46.0', 'credits toward', 'Cal'] as $hidden) {
                $this->assertStringNotContainsString($hidden, $out, "$download: $hidden");
            }
            $this->assertStringContainsString(get_string('reasonswithheld', 'local_cetadsync'), $out, $download);
        }
    }

    /**
     * The programme leader's CSV carries every reason and the credits.
     */
    public function test_a_programme_leader_sees_the_whole_record(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $csv = $this->my_students($scene, 'leader', 'csv');
        foreach (['RAPL referred: mark 46.0', '60 of 120 credits toward PG Diploma', 'Cal', 'RAPL Essay'] as $shown) {
            $this->assertStringContainsString($shown, $csv);
        }
        $this->assertStringNotContainsString('Dan', $csv, 'LOTC is outside her category');
    }
}
