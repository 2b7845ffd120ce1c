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

/**
 * The plugin's test data generator makes the rows the plugin itself would store.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync_generator
 */
final class generator_test extends \advanced_testcase {
    /**
     * A progression record comes back as the pages read it.
     */
    public function test_create_progress_stores_a_record_the_pages_read(): void {
        $this->resetAfterTest();
        $user = $this->getDataGenerator()->create_user();
        /** @var \local_cetadsync_generator $generator */
        $generator = $this->getDataGenerator()->get_plugin_generator('local_cetadsync');
        $row = $generator->create_progress(['userid' => $user->id, 'status' => 'at_risk',
            'reasons' => ['MPC Essay 4 days overdue']]);
        $this->assertSame('at_risk', $row->status);
        $this->assertSame(['MPC Essay 4 days overdue'], local\presenter::reasons($row));
    }

    /**
     * A sent-log row holds its key and recipient.
     */
    public function test_create_sent_stores_a_key(): void {
        global $DB;
        $this->resetAfterTest();
        $user = $this->getDataGenerator()->create_user();
        $row = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->create_sent(['userid' => $user->id, 'idempotencykey' => 'r-1-2-overdue_3d']);
        $this->assertSame('sent', $row->status);
        $this->assertTrue($DB->record_exists(
            'local_cetadsync_sent',
            ['idempotencykey' => 'r-1-2-overdue_3d', 'userid' => $user->id]
        ));
    }
}
