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

use core_external\external_api;
use local_cetadsync\external\save_progression;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/webservice/tests/helpers.php');

/**
 * The worker learns from save_progression's answer that records may have been removed, and then
 * sends every record again.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\progression
 * @covers     \local_cetadsync\external\save_progression
 */
final class records_epoch_test extends \externallib_advanced_testcase {
    /**
     * The answer carries the epoch; a removal moves it, and the next answer says so.
     */
    public function test_the_answer_carries_the_epoch_and_a_removal_moves_it(): void {
        $this->resetAfterTest();
        $this->setAdminUser();
        $user = $this->getDataGenerator()->create_user();
        $save = function () use ($user) {
            $record = ['userid' => $user->id, 'courseid' => SITEID, 'status' => 'on_track', 'credits' => 20];
            return external_api::clean_returnvalue(save_progression::execute_returns(), save_progression::execute([$record]));
        };
        $first = $save();
        $this->assertSame(0, $first['recordsepoch']);
        $this->assertSame('created', $first['results'][0]['outcome']);
        progression::delete('userid = ?', [$user->id]);
        $second = $save();
        $this->assertSame(1, $second['recordsepoch']);
        $this->assertSame('created', $second['results'][0]['outcome']);
        $this->assertSame(1, $save()['recordsepoch'], 'nothing removed since');
    }

    /**
     * records_removed counts up; delete() counts only when it removed something.
     */
    public function test_delete_counts_only_real_removals(): void {
        $this->resetAfterTest();
        $user = $this->getDataGenerator()->create_user();
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_progress(['userid' => $user->id]);
        progression::delete('userid = ?', [$user->id + 1]);
        $this->assertSame(0, progression::records_epoch());
        progression::delete('userid = ?', [$user->id]);
        $this->assertSame(1, progression::records_epoch());
        progression::records_removed();
        $this->assertSame(2, progression::records_epoch());
    }
}
