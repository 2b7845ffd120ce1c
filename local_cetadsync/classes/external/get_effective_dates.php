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

use context_module;
use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_cetadsync\local\effective_dates;

/**
 * Each student's own due and cut-off dates for many assignments, where they differ from the assignment's.
 *
 * Replaces one mod_assign_get_participant per student and assignment.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_effective_dates extends external_api {
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
        global $DB;
        $params = self::validate_parameters(
            self::execute_parameters(),
            ['assignmentids' => $assignmentids, 'since' => $since]
        );
        $system = context_system::instance();
        self::validate_context($system);
        require_capability('local/cetadsync:readdates', $system);

        $now = time();
        $assignments = [];
        $warnings = [];
        foreach (array_unique($params['assignmentids']) as $assignid) {
            try {
                $assign = $DB->get_record('assign', ['id' => $assignid], '*', MUST_EXIST);
                $cm = get_coursemodule_from_instance('assign', $assign->id, $assign->course, false, MUST_EXIST);
                $context = context_module::instance($cm->id);
                self::validate_context($context);
                require_capability('mod/assign:viewgrades', $context);
            } catch (\Exception $e) {
                $warnings[] = ['item' => 'assignment', 'itemid' => $assignid,
                    'warningcode' => $e->errorcode ?? 'invalidrecord', 'message' => $e->getMessage()];
                continue;
            }
            $assignments[] = self::assignment($assign, $params['since']);
        }
        return ['time' => $now, 'assignments' => $assignments, 'warnings' => $warnings];
    }

    /**
     * One assignment's base dates and, when it may have changed since `since`, its students.
     *
     * @param \stdClass $assign
     * @param int $since
     * @return array
     */
    private static function assignment(\stdClass $assign, int $since): array {
        $timechanged = effective_dates::time_changed($assign);
        $changed = $since === 0 || $timechanged >= $since;
        return [
            'assignmentid' => (int)$assign->id, 'courseid' => (int)$assign->course,
            'duedate' => (int)$assign->duedate, 'cutoffdate' => (int)$assign->cutoffdate,
            'allowsubmissionsfromdate' => (int)$assign->allowsubmissionsfromdate,
            'timechanged' => $timechanged, 'changed' => $changed,
            'students' => $changed ? effective_dates::students($assign) : [],
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
