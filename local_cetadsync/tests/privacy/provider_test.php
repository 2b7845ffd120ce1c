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

namespace local_cetadsync\privacy;

use context_course;
use context_user;
use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;
use core_privacy\tests\provider_testcase;
use core_privacy\tests\request\approved_contextlist;
use local_cetadsync\local\progression;

/**
 * The privacy provider: what it declares, finds, exports and deletes, and that a deletion tells
 * the worker to send its records again.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\privacy\provider
 */
final class provider_test extends provider_testcase {
    /** @var \stdClass A student with a programme record, a course record and sent notifications. */
    private \stdClass $ann;

    /** @var \stdClass Another student with the same. */
    private \stdClass $bob;

    /** @var \stdClass A course. */
    private \stdClass $course;

    /**
     * Two students, each with a programme record, a record in the course and a sent notification.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        $this->course = $gen->create_course();
        $this->ann = $gen->create_user();
        $this->bob = $gen->create_user();
        /** @var \local_cetadsync_generator $plugin */
        $plugin = $gen->get_plugin_generator('local_cetadsync');
        foreach ([$this->ann, $this->bob] as $user) {
            $plugin->create_progress(['userid' => $user->id, 'reasons' => ['MPC Essay 4 days overdue'], 'urgency' => 7]);
            $plugin->create_progress(['userid' => $user->id, 'courseid' => $this->course->id, 'status' => 'at_risk']);
            $plugin->create_sent(['userid' => $user->id, 'idempotencykey' => "r-{$user->id}", 'courseid' => $this->course->id]);
        }
    }

    /**
     * Every column of both tables that holds personal data is named, and so is all the worker reads.
     */
    public function test_metadata_names_every_stored_field_and_what_the_worker_reads(): void {
        global $DB;
        $items = provider::get_metadata(new collection('local_cetadsync'))->get_collection();
        $named = [];
        foreach ($items as $item) {
            $named[$item->get_name()] = array_keys($item->get_privacy_fields());
            foreach ($item->get_privacy_fields() as $string) {
                $this->assertTrue(get_string_manager()->string_exists($string, 'local_cetadsync'), $string);
            }
        }
        foreach (['local_cetadsync_sent', 'local_cetadsync_progress'] as $table) {
            $columns = array_keys($DB->get_columns($table, false));
            $this->assertEqualsCanonicalizing(array_values(array_diff($columns, ['id'])), $named[$table], $table);
        }
        foreach (
            ['userid', 'fullname', 'email', 'enrolments', 'groups', 'submissions', 'grades', 'userflags', 'dates',
                'messages'] as $field
        ) {
            $this->assertContains($field, $named['moodlesync']);
        }
        $this->assertArrayHasKey('core_message', $named);
        $this->assertTrue((new \core_privacy\manager())->component_is_compliant('local_cetadsync'));
    }

    /**
     * Her contexts: her user context (the sent log) and each course with a record of hers.
     */
    public function test_contexts_for_a_user(): void {
        $contexts = $this->get_contexts_for_userid($this->ann->id, 'local_cetadsync')->get_contextids();
        $this->assertEqualsCanonicalizing([
            context_user::instance($this->ann->id)->id,
            context_course::instance(SITEID)->id,
            context_course::instance($this->course->id)->id,
        ], array_map('intval', $contexts));
    }

    /**
     * Users in a course context are those with a record there; in a user context, that user.
     */
    public function test_users_in_context(): void {
        $userlist = new userlist(context_course::instance($this->course->id), 'local_cetadsync');
        provider::get_users_in_context($userlist);
        $this->assertEqualsCanonicalizing([$this->ann->id, $this->bob->id], $userlist->get_userids());
        $userlist = new userlist(context_user::instance($this->bob->id), 'local_cetadsync');
        provider::get_users_in_context($userlist);
        $this->assertEquals([$this->bob->id], $userlist->get_userids());
    }

    /**
     * The export holds every field of her records and her log, and nothing of Bob's.
     */
    public function test_export_holds_every_field_of_hers(): void {
        $this->export_all_data_for_user($this->ann->id, 'local_cetadsync');
        $sub = [get_string('pluginname', 'local_cetadsync')];
        $programme = writer::with_context(context_course::instance(SITEID))->get_data($sub);
        $this->assertSame('on_track', $programme->status);
        $this->assertSame(['MPC Essay 4 days overdue'], $programme->reasons);
        foreach (
            ['credits', 'nextdeadline', 'award', 'awardcredits', 'priorcredits', 'priorcap', 'urgency', 'latework',
                'detail', 'timecreated', 'timemodified'] as $field
        ) {
            $this->assertTrue(property_exists($programme, $field), $field);
        }
        $log = writer::with_context(context_user::instance($this->ann->id))->get_data($sub);
        $this->assertSame(["r-{$this->ann->id}"], array_column($log->notifications, 'idempotencykey'));
        $this->assertFalse(writer::with_context(context_user::instance($this->bob->id))->has_any_data());
    }

    /**
     * Deleting her data leaves Bob's, and tells the worker (the epoch moves).
     */
    public function test_delete_for_a_user_leaves_others_and_moves_the_epoch(): void {
        global $DB;
        $before = progression::records_epoch();
        $contextlist = $this->get_contexts_for_userid($this->ann->id, 'local_cetadsync');
        provider::delete_data_for_user(new approved_contextlist($this->ann, 'local_cetadsync', $contextlist->get_contextids()));
        $this->assertFalse($DB->record_exists(progression::TABLE, ['userid' => $this->ann->id]));
        $this->assertFalse($DB->record_exists('local_cetadsync_sent', ['userid' => $this->ann->id]));
        $this->assertSame(2, $DB->count_records(progression::TABLE, ['userid' => $this->bob->id]));
        $this->assertSame(1, $DB->count_records('local_cetadsync_sent', ['userid' => $this->bob->id]));
        $this->assertGreaterThan($before, progression::records_epoch());
    }

    /**
     * Deleting a list of users in the course deletes their records there, and no other.
     */
    public function test_delete_for_users_in_a_course(): void {
        global $DB;
        $before = progression::records_epoch();
        $context = context_course::instance($this->course->id);
        provider::delete_data_for_users(new approved_userlist($context, 'local_cetadsync', [$this->bob->id]));
        $this->assertFalse($DB->record_exists(progression::TABLE, ['userid' => $this->bob->id, 'courseid' => $this->course->id]));
        $this->assertTrue($DB->record_exists(progression::TABLE, ['userid' => $this->bob->id, 'courseid' => SITEID]));
        $this->assertTrue($DB->record_exists(progression::TABLE, ['userid' => $this->ann->id, 'courseid' => $this->course->id]));
        $this->assertSame($before + 1, progression::records_epoch());
    }

    /**
     * Deleting everyone in the programme's context empties it; in a user context, her log.
     */
    public function test_delete_for_all_users_in_context(): void {
        global $DB;
        $before = progression::records_epoch();
        provider::delete_data_for_all_users_in_context(context_course::instance(SITEID));
        $this->assertSame(0, $DB->count_records(progression::TABLE, ['courseid' => SITEID]));
        $this->assertSame(2, $DB->count_records(progression::TABLE, ['courseid' => $this->course->id]));
        $this->assertSame($before + 1, progression::records_epoch());
        provider::delete_data_for_all_users_in_context(context_user::instance($this->ann->id));
        $this->assertSame(0, $DB->count_records('local_cetadsync_sent', ['userid' => $this->ann->id]));
        $this->assertSame(1, $DB->count_records('local_cetadsync_sent', ['userid' => $this->bob->id]));
    }

    /**
     * A deletion that finds nothing to delete does not make the worker resend everything.
     */
    public function test_nothing_deleted_leaves_the_epoch(): void {
        $nobody = $this->getDataGenerator()->create_user();
        $before = progression::records_epoch();
        $programme = context_course::instance(SITEID)->id;
        provider::delete_data_for_user(new approved_contextlist($nobody, 'local_cetadsync', [$programme]));
        $this->assertSame($before, progression::records_epoch());
    }
}
