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

use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_cetadsync\local\notifier;

/**
 * Which idempotency keys were delivered: settles an in-doubt batch by one exact look-up.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_delivered extends base {
    /**
     * Parameters: the keys.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'idempotencykeys' => new external_multiple_structure(
                new external_value(PARAM_ALPHANUMEXT, 'An idempotency key'),
                'Keys to look up'
            ),
        ]);
    }

    /**
     * The stored result of each key, `unknown` for a key never seen.
     *
     * @param string[] $idempotencykeys
     * @return array
     */
    public static function execute(array $idempotencykeys): array {
        global $DB;
        ['idempotencykeys' => $keys] = self::begin(
            'local/cetadsync:sendnotifications',
            ['idempotencykeys' => $idempotencykeys]
        );

        [$insql, $params] = $DB->get_in_or_equal(array_unique($keys));
        $stored = [];
        foreach ($DB->get_records_select(notifier::TABLE, "idempotencykey $insql", $params) as $row) {
            $stored[$row->idempotencykey] = notifier::result($row, true);
        }
        $results = [];
        foreach ($keys as $key) {
            $results[] = $stored[$key] ?? ['idempotencykey' => $key, 'status' => 'unknown', 'duplicate' => false,
                'messageid' => 0, 'userid' => 0, 'timesent' => 0, 'errorcode' => ''];
        }
        return ['results' => $results];
    }

    /**
     * One result per key asked, in the order asked.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'results' => new external_multiple_structure(send_notifications::result_structure()),
        ]);
    }
}
