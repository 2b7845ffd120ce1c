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

/**
 * Participants' progression records: one row per user and course, written only where changed.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class progression {

    /** @var string The table of progression records. */
    const TABLE = 'local_cetadsync_progress';

    /**
     * Insert, update or leave one record.
     *
     * @param array $record validated save_progression record
     * @param int $now
     * @return string created, updated or unchanged
     */
    public static function upsert(array $record, int $now): string {
        global $DB;
        $values = [
            'status' => $record['status'],
            'reasons' => json_encode(array_values($record['reasons'])),
            'credits' => format_float($record['credits'], 2, false),
            'nextdeadline' => $record['nextdeadline'],
        ];
        $key = ['userid' => $record['userid'], 'courseid' => $record['courseid']];
        $existing = $DB->get_record(self::TABLE, $key);
        if (!$existing) {
            $DB->insert_record(self::TABLE, (object)($key + $values + ['timecreated' => $now, 'timemodified' => $now]));
            return 'created';
        }
        if (self::same($existing, $values)) {
            return 'unchanged';
        }
        $DB->update_record(self::TABLE, (object)(['id' => $existing->id, 'timemodified' => $now] + $values));
        return 'updated';
    }

    /**
     * Whether the stored row already holds these values.
     *
     * @param \stdClass $row
     * @param array $values
     * @return bool
     */
    private static function same(\stdClass $row, array $values): bool {
        return $row->status === $values['status'] && $row->reasons === $values['reasons']
            && (float)$row->credits === (float)$values['credits'] && (int)$row->nextdeadline === $values['nextdeadline'];
    }
}
