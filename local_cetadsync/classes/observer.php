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

use local_cetadsync\local\effective_dates;
use local_cetadsync\local\notifier;
use local_cetadsync\local\progression;

/**
 * Records when a student's assignment dates may have moved, and deletes the plugin's rows of a
 * deleted user or course.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {
    /**
     * A user or group override was created, updated or deleted.
     *
     * @param \core\event\base $event
     */
    public static function assign_override_changed(\core\event\base $event): void {
        effective_dates::touch([(int)$event->other['assignid']], $event->timecreated);
    }

    /**
     * An extension was granted (or changed).
     *
     * @param \core\event\base $event
     */
    public static function extension_granted(\core\event\base $event): void {
        effective_dates::touch([(int)$event->objectid], $event->timecreated);
    }

    /**
     * An enrolment was created, changed or removed: who is listed, and in a relative-dates
     * course the student's due date, may change for every assignment of the course.
     *
     * @param \core\event\base $event
     */
    public static function enrolment_changed(\core\event\base $event): void {
        effective_dates::touch_course((int)$event->courseid, $event->timecreated);
    }

    /**
     * A student joined or left a group: every assignment of the course with a group override may move.
     *
     * @param \core\event\base $event
     */
    public static function group_membership_changed(\core\event\base $event): void {
        global $DB;
        $sql = "SELECT DISTINCT ao.assignid
                  FROM {assign_overrides} ao
                  JOIN {assign} a ON a.id = ao.assignid
                 WHERE a.course = ? AND ao.groupid IS NOT NULL";
        effective_dates::touch($DB->get_fieldset_sql($sql, [$event->courseid]), $event->timecreated);
    }

    /**
     * A user was deleted: her progression records and her sent-notification log go too.
     *
     * @param \core\event\user_deleted $event
     */
    public static function user_deleted(\core\event\user_deleted $event): void {
        global $DB;
        $userid = (int)$event->objectid;
        progression::delete('userid = ?', [$userid]);
        $DB->delete_records(notifier::TABLE, ['userid' => $userid]);
    }

    /**
     * A course was deleted: its progression records, the notifications logged about it, and the
     * date-change rows of its assignments (gone by now, so every row of a missing assignment).
     *
     * @param \core\event\course_deleted $event
     */
    public static function course_deleted(\core\event\course_deleted $event): void {
        global $DB;
        $courseid = (int)$event->objectid;
        progression::delete('courseid = ?', [$courseid]);
        $DB->delete_records(notifier::TABLE, ['courseid' => $courseid]);
        $DB->delete_records_select(
            'local_cetadsync_datechange',
            'assignid NOT IN (SELECT id FROM {assign})'
        );
    }
}
