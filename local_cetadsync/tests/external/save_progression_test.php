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
 * local_cetadsync_save_progression: records stored only where changed, bad ones refused one by one.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\save_progression
 */
final class save_progression_test extends \externallib_advanced_testcase {
    /**
     * Call the function as the current user and clean its answer as the web service would.
     *
     * @param array $records
     * @return array
     */
    private function call(array $records): array {
        $answer = save_progression::execute($records);
        return external_api::clean_returnvalue(save_progression::execute_returns(), $answer);
    }

    /**
     * Log in as an integration user lacking the given capabilities.
     *
     * @param string[] $without
     */
    private function login(array $without = []): void {
        $this->setUser($this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_integration_user($without));
    }

    /**
     * A record as the worker sends it.
     *
     * @param int $userid
     * @param array $more
     * @return array
     */
    private static function record(int $userid, array $more = []): array {
        return $more + ['userid' => $userid, 'courseid' => SITEID, 'status' => 'at_risk',
            'reasons' => ['MPC Essay 3 days overdue'], 'credits' => 60, 'award' => 'PG Diploma',
            'items' => [['courseid' => 2, 'assignid' => 3, 'cmid' => 4, 'name' => 'Essay', 'module' => 'MPC',
                'duedate' => 1800000000, 'state' => 'new']]];
    }

    /**
     * Created, then unchanged, then updated; every call marks the last synchronisation.
     */
    public function test_a_record_is_written_only_when_it_changed(): void {
        global $DB;
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->create_user();
        $this->login();
        $record = self::record($student->id);

        $outcomes = [];
        foreach ([$record, $record, ['credits' => 80] + $record] as $r) {
            $outcomes[] = $this->call([$r])['results'][0]['outcome'];
        }

        $this->assertSame(['created', 'unchanged', 'updated'], $outcomes);
        $row = $DB->get_record('local_cetadsync_progress', ['userid' => $student->id, 'courseid' => SITEID]);
        $this->assertSame(['80.00', '["MPC Essay 3 days overdue"]'], [$row->credits, $row->reasons]);
        set_config('lastsync', 0, 'local_cetadsync');
        $this->assertSame(['results' => [], 'warnings' => [], 'recordsepoch' => 0], $this->call([]));
        $this->assertGreaterThan(0, (int)get_config('local_cetadsync', 'lastsync'));
    }

    /**
     * An unknown or deleted user, an unknown course and a value the table cannot hold are
     * warnings; the batch's other records are stored.
     */
    public function test_a_record_that_cannot_be_stored_is_a_warning_and_the_others_are_stored(): void {
        global $DB;
        $this->resetAfterTest();
        $gen = $this->getDataGenerator();
        $student = $gen->create_user();
        $deleted = $gen->create_user();
        delete_user($deleted);
        $this->login();

        $answer = $this->call([
            self::record(987654),
            self::record($deleted->id),
            self::record($student->id, ['courseid' => 987654]),
            self::record($student->id, ['status' => str_repeat('x', 51)]),
            self::record($student->id, ['credits' => -1]),
            self::record($student->id, ['award' => str_repeat('a', 256)]),
            self::record($student->id, ['nextdeadline' => -5]),
            self::record($student->id),
        ]);

        $this->assertSame([
            ['user', 987654, 'invaliduser'], ['user', (int)$deleted->id, 'invaliduser'],
            ['course', 987654, 'invalidcourseid'], ['user', (int)$student->id, 'invalidvalue'],
            ['user', (int)$student->id, 'invalidvalue'], ['user', (int)$student->id, 'invalidvalue'],
            ['user', (int)$student->id, 'invalidvalue'],
        ], array_map(fn($w) => [$w['item'], $w['itemid'], $w['warningcode']], $answer['warnings']));
        $this->assertSame([['userid' => (int)$student->id, 'courseid' => (int)SITEID, 'outcome' => 'created']], $answer['results']);
        $this->assertSame(1, $DB->count_records('local_cetadsync_progress'));
    }

    /**
     * Without the plugin capability the whole call is refused and nothing is stored.
     */
    public function test_a_caller_without_saveprogression_is_refused(): void {
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->create_user();
        $this->login(['local/cetadsync:saveprogression']);
        $this->expectException(\required_capability_exception::class);
        $this->call([self::record($student->id)]);
    }

    /**
     * Fields are cleaned as declared: HTML in a reason, a state outside PARAM_ALPHA, an unknown key.
     *
     * @return array
     */
    public static function bad_records(): array {
        return [
            'html in a reason' => [['reasons' => ['<b>late</b>']]],
            'a state with an underscore' => [['items' => [['courseid' => 2, 'assignid' => 3, 'cmid' => 4, 'name' => 'Essay',
                'module' => 'MPC', 'duedate' => 0, 'state' => 'handed_in']]]],
            'credits not a number' => [['credits' => '1,5']],
            'an unknown key' => [['colour' => 'red']],
        ];
    }

    /**
     * A record that does not clean as declared fails the whole call with Moodle's invalid parameter.
     *
     * @dataProvider bad_records
     * @param array $change
     */
    public function test_a_record_that_does_not_clean_is_refused(array $change): void {
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->create_user();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        $this->call([self::record($student->id, $change)]);
    }
}
