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
use core_external\external_warnings;
use local_cetadsync\local\effective_dates;

/**
 * Each student's own due and cut-off dates for many assignments, where they differ from the assignment's.
 *
 * Replaces one mod_assign_get_participant per student and assignment, with its checks per
 * assignment: require_login on the module, the right to view its grades (separate groups
 * included), and students without an active enrolment only for holders of
 * moodle/course:viewsuspendedusers.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_effective_dates extends base {
    /**
     * Parameters: assignment instance ids and an optional `since`.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'assignmentids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'Assignment instance id'),
                'Assignments to read'
            ),
            'since' => new external_value(
                PARAM_INT,
                'Only list students of assignments whose dates may have changed at or after this time',
                VALUE_DEFAULT,
                0
            ),
        ]);
    }

    /**
     * Read the assignments the caller may see; the others become warnings.
     *
     * @param int[] $assignmentids
     * @param int $since
     * @return array
     */
    public static function execute(array $assignmentids, int $since = 0): array {
        $params = self::begin('local/cetadsync:readdates', ['assignmentids' => $assignmentids, 'since' => $since]);
        $now = time();
        $assignments = [];
        $warnings = [];
        foreach (array_unique($params['assignmentids']) as $assignid) {
            $readable = self::checked('assignment', $assignid, fn() => self::readable($assignid), $warnings);
            if ($readable) {
                [$record, $context] = $readable;
                $assignments[] = self::dates($record, $context, $params['since']);
            }
        }
        return ['time' => $now, 'assignments' => $assignments, 'warnings' => $warnings];
    }

    /**
     * The assignment, if the caller may read its students' dates as mod_assign_get_participant allows.
     *
     * @param int $assignid
     * @return array [the assign record as stored, its module context]
     */
    private static function readable(int $assignid): array {
        global $DB;
        $record = $DB->get_record('assign', ['id' => $assignid], '*', MUST_EXIST);
        $cm = get_coursemodule_from_instance('assign', $record->id, $record->course, false, MUST_EXIST);
        return [$record, self::assignment($cm, ['mod/assign:viewgrades'])->get_context()];
    }

    /**
     * One assignment's base dates and, when it may have changed since `since`, its students.
     *
     * @param \stdClass $record the assign record
     * @param \context_module $context its context
     * @param int $since
     * @return array
     */
    private static function dates(\stdClass $record, \context_module $context, int $since): array {
        $timechanged = effective_dates::time_changed($record);
        $changed = $since === 0 || $timechanged >= $since;
        // As mod_assign_get_participant (assign::show_only_active_users): a student without an active
        // enrolment only for a caller who may see suspended users.
        $onlyactive = !has_capability('moodle/course:viewsuspendedusers', $context);
        return [
            'assignmentid' => (int)$record->id, 'courseid' => (int)$record->course,
            'duedate' => (int)$record->duedate, 'cutoffdate' => (int)$record->cutoffdate,
            'allowsubmissionsfromdate' => (int)$record->allowsubmissionsfromdate,
            'timechanged' => $timechanged, 'changed' => $changed,
            'students' => $changed ? effective_dates::students($record, $onlyactive) : [],
        ];
    }

    /**
     * The assignments with their students whose dates differ.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        $date = fn(string $what) => new external_value(PARAM_INT, "$what, 0 = not set");
        return new external_single_structure([
            'time' => new external_value(PARAM_INT, 'Server time when the read started: the next call\'s since'),
            'assignments' => new external_multiple_structure(new external_single_structure([
                'assignmentid' => new external_value(PARAM_INT, 'Assignment instance id'),
                'courseid' => new external_value(PARAM_INT, 'Course id'),
                'duedate' => $date('The assignment\'s due date'),
                'cutoffdate' => $date('The assignment\'s cut-off date'),
                'allowsubmissionsfromdate' => $date('The assignment\'s opening date'),
                'timechanged' => new external_value(PARAM_INT, 'When its dates or overrides last changed'),
                'changed' => new external_value(PARAM_BOOL, 'False: unchanged since the given time, students not listed'),
                'students' => new external_multiple_structure(new external_single_structure([
                    'userid' => new external_value(PARAM_INT, 'Student id'),
                    'duedate' => $date('The student\'s due date, overrides applied'),
                    'cutoffdate' => $date('The student\'s cut-off date, overrides applied'),
                    'allowsubmissionsfromdate' => $date('The student\'s opening date, overrides applied'),
                    'extensionduedate' => $date('The student\'s extension'),
                    'source' => new external_value(PARAM_ALPHA, 'user, group or none (extension only)'),
                    'groupid' => new external_value(PARAM_INT, 'The group whose override applies, 0 = none'),
                ]), 'Students whose dates differ from the assignment\'s, or who have an extension'),
            ])),
            'warnings' => new external_warnings(),
        ]);
    }
}
