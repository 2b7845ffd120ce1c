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

/**
 * Data generator of the CETAD Sync plugin's own records, for its PHPUnit tests.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class local_cetadsync_generator extends component_generator_base {
    /**
     * A progression record as the worker stores it through save_progression.
     *
     * @param array $record userid (required), courseid (default the programme), status,
     *     reasons, credits, and any other save_progression field
     * @return stdClass the stored row
     */
    public function create_progress(array $record): stdClass {
        global $DB;
        $record += [
            'courseid' => \local_cetadsync\local\progression::PROGRAMME,
            'status' => 'on_track',
            'reasons' => ['80 of 120 credits toward PG Diploma'],
            'credits' => 80,
        ];
        \local_cetadsync\local\progression::upsert($record, time());
        return $DB->get_record(
            \local_cetadsync\local\progression::TABLE,
            ['userid' => $record['userid'], 'courseid' => $record['courseid']],
            '*',
            MUST_EXIST
        );
    }

    /**
     * A row of the sent-notification log, as send_notifications leaves it.
     *
     * @param array $record userid (required), idempotencykey, provider, courseid, status,
     *     messageid, timecreated, timesent
     * @return stdClass the stored row
     */
    public function create_sent(array $record): stdClass {
        global $DB;
        $now = time();
        $record += [
            'idempotencykey' => 'k-' . random_string(12),
            'provider' => 'studentreminder',
            'courseid' => 0,
            'status' => 'sent',
            'messageid' => 0,
            'timecreated' => $now,
            'timesent' => $now,
        ];
        $record['id'] = $DB->insert_record(\local_cetadsync\local\notifier::TABLE, (object)$record);
        return (object)$record;
    }
}
