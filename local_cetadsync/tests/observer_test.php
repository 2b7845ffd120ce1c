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

namespace local_cetadsync;

use local_cetadsync\local\progression;

/**
 * Deleting a user or a course deletes the plugin's rows of it, and tells the worker.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\observer
 */
final class observer_test extends \advanced_testcase {
    /**
     * A deleted user's records and sent log go; another user's stay; the epoch moves.
     */
    public function test_deleting_a_user_deletes_her_rows(): void {
        global $DB;
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        $plugin = $gen->get_plugin_generator('local_cetadsync');
        $course = $gen->create_course();
        [$ann, $bob] = [$gen->create_user(), $gen->create_user()];
        foreach ([$ann, $bob] as $user) {
            $plugin->create_progress(['userid' => $user->id]);
            $plugin->create_progress(['userid' => $user->id, 'courseid' => $course->id]);
            $plugin->create_sent(['userid' => $user->id]);
        }
        $before = progression::records_epoch();
        delete_user($ann);
        $this->assertSame(0, $DB->count_records(progression::TABLE, ['userid' => $ann->id]));
        $this->assertSame(0, $DB->count_records('local_cetadsync_sent', ['userid' => $ann->id]));
        $this->assertSame(2, $DB->count_records(progression::TABLE, ['userid' => $bob->id]));
        $this->assertSame(1, $DB->count_records('local_cetadsync_sent', ['userid' => $bob->id]));
        $this->assertSame($before + 1, progression::records_epoch());
    }

    /**
     * Deleting a user with no record does not make the worker resend everything.
     */
    public function test_deleting_a_user_without_records_leaves_the_epoch(): void {
        $this->resetAfterTest();
        $before = progression::records_epoch();
        delete_user($this->getDataGenerator()->create_user());
        $this->assertSame($before, progression::records_epoch());
    }

    /**
     * A deleted course's records, its sent log and its assignments' date-change rows go.
     */
    public function test_deleting_a_course_deletes_its_rows(): void {
        global $DB;
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        $plugin = $gen->get_plugin_generator('local_cetadsync');
        [$gone, $kept] = [$gen->create_course(), $gen->create_course()];
        $user = $gen->create_user();
        $assigns = [];
        foreach ([$gone, $kept] as $course) {
            $plugin->create_progress(['userid' => $user->id, 'courseid' => $course->id]);
            $plugin->create_sent(['userid' => $user->id, 'courseid' => $course->id]);
            $assigns[$course->id] = $gen->create_module('assign', ['course' => $course->id]);
            $DB->insert_record('local_cetadsync_datechange', ['assignid' => $assigns[$course->id]->id, 'timechanged' => 1]);
        }
        $plugin->create_progress(['userid' => $user->id]);
        $before = progression::records_epoch();
        delete_course($gone, false);
        $this->assertSame(0, $DB->count_records(progression::TABLE, ['courseid' => $gone->id]));
        $this->assertSame(0, $DB->count_records('local_cetadsync_sent', ['courseid' => $gone->id]));
        $this->assertFalse($DB->record_exists('local_cetadsync_datechange', ['assignid' => $assigns[$gone->id]->id]));
        $this->assertTrue($DB->record_exists(progression::TABLE, ['courseid' => $kept->id]));
        $this->assertTrue($DB->record_exists(progression::TABLE, ['courseid' => SITEID]));
        $this->assertTrue($DB->record_exists('local_cetadsync_sent', ['courseid' => $kept->id]));
        $this->assertTrue($DB->record_exists('local_cetadsync_datechange', ['assignid' => $assigns[$kept->id]->id]));
        $this->assertSame($before + 1, progression::records_epoch());
    }
}
