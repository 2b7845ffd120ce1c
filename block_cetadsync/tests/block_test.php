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

namespace block_cetadsync;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/local/cetadsync/tests/fixtures/programme_scene.php');
require_once($CFG->dirroot . '/blocks/moodleblock.class.php');
require_once($CFG->dirroot . '/blocks/cetadsync/block_cetadsync.php');

/**
 * The tutor's block lists her students with the first reason she may see, never another
 * course's.
 *
 * @package    block_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_cetadsync
 */
final class block_test extends \advanced_testcase {
    /**
     * Nora sees Ann's MPC reason, not RAPL's mark; Bea (whose only reason is another group's
     * OCVB work) with no reason; never Cal.
     */
    public function test_a_teachers_block_keeps_to_her_courses(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $nora = \block_cetadsync::tutor($scene->id('nora'));
        $this->assertSame(
            ['Ann Test' => 'MPC Essay 4 days overdue', 'Bea Test' => ''],
            array_column($nora['urgent'], 'reason', 'name')
        );
        $leader = \block_cetadsync::tutor($scene->id('leader'));
        $this->assertSame(['Ann Test' => 'RAPL referred: mark 46.0, resit pending', 'Bea Test' => 'OCVB Essay 4 days overdue',
            'Cal Test' => 'RAPL Essay 4 days overdue'], array_column($leader['urgent'], 'reason', 'name'));
    }
}
