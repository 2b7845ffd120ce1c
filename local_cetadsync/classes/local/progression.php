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
 * The one place that knows how a record is stored; the pages read rows back through detail().
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class progression {
    /** @var string The table of progression records. */
    public const TABLE = 'local_cetadsync_progress';

    /** @var int The course the worker files each participant's programme-wide record under (the site). */
    public const PROGRAMME = 1;

    /** @var string The config (local_cetadsync) that counts removals of records the worker sent. */
    public const EPOCH = 'recordsepoch';

    /**
     * Say that records the worker sent may have gone (a privacy deletion, a deleted user or
     * course): the worker, which sends only what changed, then sends every record again.
     *
     * Call it after the rows are deleted: a save that reads the new value then wrote after them.
     */
    public static function records_removed(): void {
        set_config(self::EPOCH, self::records_epoch() + 1, 'local_cetadsync');
    }

    /**
     * How many times records may have been removed: save_progression's answer carries it.
     *
     * @return int
     */
    public static function records_epoch(): int {
        return (int)get_config('local_cetadsync', self::EPOCH);
    }

    /**
     * Delete progression records, and tell the worker when any went.
     *
     * @param string $select SQL condition on the table
     * @param array $params
     */
    public static function delete(string $select, array $params): void {
        global $DB;
        if ($DB->record_exists_select(self::TABLE, $select, $params)) {
            $DB->delete_records_select(self::TABLE, $select, $params);
            self::records_removed();
        }
    }

    /**
     * Insert, update or leave one record.
     *
     * @param array $record validated save_progression record
     * @param int $now
     * @return string created, updated or unchanged
     */
    public static function upsert(array $record, int $now): string {
        global $DB;
        $values = self::values($record);
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
     * The columns one record is stored as; modules and items travel together as JSON (detail).
     *
     * @param array $record validated save_progression record
     * @return array column => value
     */
    public static function values(array $record): array {
        $detail = ['modules' => array_values($record['modules'] ?? []), 'items' => array_values($record['items'] ?? [])];
        return [
            'status' => $record['status'],
            'reasons' => json_encode(array_values($record['reasons'])),
            'credits' => format_float($record['credits'], 2, false),
            'nextdeadline' => (int)($record['nextdeadline'] ?? 0),
            'award' => (string)($record['award'] ?? ''),
            'awardcredits' => (int)($record['awardcredits'] ?? 0),
            'priorcredits' => (int)($record['priorcredits'] ?? 0),
            'priorcap' => (int)($record['priorcap'] ?? 0),
            'urgency' => (int)($record['urgency'] ?? 0),
            'latework' => (string)($record['latework'] ?? ''),
            'detail' => json_encode($detail),
        ];
    }

    /**
     * The stored detail of one row: its modules and items, as arrays.
     *
     * @param \stdClass $row a local_cetadsync_progress row
     * @return array{modules: array, items: array}
     */
    public static function detail(\stdClass $row): array {
        $detail = json_decode($row->detail ?? '', true);
        return ['modules' => $detail['modules'] ?? [], 'items' => $detail['items'] ?? []];
    }

    /**
     * Whether the stored row already holds these values.
     *
     * @param \stdClass $row
     * @param array $values
     * @return bool
     */
    private static function same(\stdClass $row, array $values): bool {
        foreach ($values as $column => $value) {
            $stored = $row->$column ?? null;
            $equal = $column === 'credits' ? (float)$stored === (float)$value : (string)$stored === (string)$value;
            if (!$equal) {
                return false;
            }
        }
        return true;
    }

    /**
     * How many of these students hold each status, most students first.
     *
     * @param array|null $audience [sql, params] selecting student ids (audience), or null for all
     * @return array status => count
     */
    public static function counts(?array $audience): array {
        global $DB;
        $join = '';
        $params = ['programme' => self::PROGRAMME];
        if ($audience !== null) {
            $join = "JOIN ({$audience[0]}) s ON s.id = p.userid";
            $params += $audience[1];
        }
        return $DB->get_records_sql_menu("SELECT p.status, COUNT(1)
                                            FROM {" . self::TABLE . "} p $join
                                           WHERE p.courseid = :programme
                                        GROUP BY p.status
                                        ORDER BY COUNT(1) DESC, p.status", $params);
    }

    /**
     * The most urgent records among these students (urgency above 0), with the students' names.
     *
     * @param array|null $audience [sql, params] selecting student ids, or null for all
     * @param int $limit
     * @return \stdClass[]
     */
    public static function most_urgent(?array $audience, int $limit): array {
        global $DB;
        $names = \core_user\fields::for_name()->get_sql('u', false, '', '', false)->selects;
        $join = '';
        $params = ['programme' => self::PROGRAMME];
        if ($audience !== null) {
            $join = "JOIN ({$audience[0]}) s ON s.id = p.userid";
            $params += $audience[1];
        }
        return array_values($DB->get_records_sql("SELECT p.*, {$names}
                                                    FROM {" . self::TABLE . "} p
                                                    JOIN {user} u ON u.id = p.userid AND u.deleted = 0 $join
                                                   WHERE p.courseid = :programme AND p.urgency > 0
                                                ORDER BY p.urgency DESC, u.lastname, u.id", $params, 0, $limit));
    }
}
