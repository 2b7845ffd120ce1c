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

namespace local_cetadsync\external;

use core_external\external_api;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/webservice/tests/helpers.php');

/**
 * local_cetadsync_get_delivered: what the sent log says of each key.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\get_delivered
 */
final class get_delivered_test extends \externallib_advanced_testcase {
    /**
     * Log in as an integration user lacking the given capabilities.
     *
     * @param string[] $without
     */
    private function login(array $without = []): void {
        $this->setUser($this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_integration_user($without));
    }

    /**
     * Sent, pending (in doubt) and never-seen keys, in the order asked, repeats included.
     */
    public function test_each_key_is_sent_pending_or_unknown_in_the_order_asked(): void {
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->create_user();
        $plugin = $this->getDataGenerator()->get_plugin_generator('local_cetadsync');
        $sent = $plugin->create_sent(['userid' => $student->id, 'idempotencykey' => 'k-sent', 'messageid' => 41,
            'timesent' => 1800000000]);
        $plugin->create_sent(['userid' => $student->id, 'idempotencykey' => 'k-pending', 'status' => 'pending',
            'timesent' => 0]);
        $this->login();

        $answer = external_api::clean_returnvalue(
            get_delivered::execute_returns(),
            get_delivered::execute(['k-never', 'k-sent', 'k-pending', 'k-sent'])
        );

        $this->assertSame(
            [['k-never', 'unknown', 0, 0], ['k-sent', 'sent', 41, (int)$student->id],
                ['k-pending', 'pending', 0, (int)$student->id], ['k-sent', 'sent', 41, (int)$student->id]],
            array_map(fn($r) => [$r['idempotencykey'], $r['status'], $r['messageid'], $r['userid']], $answer['results'])
        );
        $this->assertSame([1800000000, true], [$answer['results'][1]['timesent'], $answer['results'][1]['duplicate']]);
        $this->assertFalse($answer['results'][0]['duplicate']);
        $this->assertSame('k-sent', $sent->idempotencykey);
    }

    /**
     * Without the plugin capability the whole call is refused.
     */
    public function test_a_caller_without_sendnotifications_is_refused(): void {
        $this->resetAfterTest();
        $this->login(['local/cetadsync:sendnotifications']);
        $this->expectException(\required_capability_exception::class);
        get_delivered::execute(['k-1']);
    }

    /**
     * A key outside [A-Za-z0-9_-] is Moodle's invalid parameter.
     */
    public function test_a_bad_key_is_refused(): void {
        $this->resetAfterTest();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        get_delivered::execute(['a key']);
    }
}
