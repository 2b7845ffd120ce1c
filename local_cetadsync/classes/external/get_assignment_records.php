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

/**
 * Submissions, grades and user flags of every assignment of many courses, in one call.
 *
 * Replaces mod_assign_get_submissions, mod_assign_get_grades and mod_assign_get_user_flags,
 * each chunked by assignment ids: the same rows, selected the same way (the latest attempt's
 * submission, the grade of the latest attempt, every user flag), with `since` for submissions
 * and grades compared as core does (`timemodified >= since`). Per assignment it checks what those
 * three check together (require_login, mod/assign:viewgrades and mod/assign:grade, separate groups);
 * a student without an active enrolment is left out unless the caller holds
 * moodle/course:viewsuspendedusers, as assign::can_view_submission does.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_assignment_records extends base {
    /**
     * Parameters: the courses, each with its own optional `since`.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courses' => new external_multiple_structure(new external_single_structure([
                'courseid' => new external_value(PARAM_INT, 'Course id'),
                'since' => new external_value(
                    PARAM_INT,
                    'Only its submissions and grades modified at or after this time (user flags: all)',
                    VALUE_DEFAULT,
                    0
                ),
            ]), 'Courses whose assignments to read'),
        ]);
    }

    /**
     * Read the records of the assignments the caller may grade; the others become warnings.
     *
     * @param array[] $courses each {courseid, since}
     * @return array
     */
    public static function execute(array $courses): array {
        $params = self::begin('local/cetadsync:readrecords', ['courses' => $courses]);
        $since = []; // By course; a course given twice is read from the earlier since.
        foreach ($params['courses'] as $course) {
            $since[$course['courseid']] = min($since[$course['courseid']] ?? PHP_INT_MAX, $course['since']);
        }
        $warnings = [];
        $readable = [];
        $found = [];
        foreach (array_keys($since) as $courseid) {
            if (!self::checked('course', $courseid, fn() => self::course_context($courseid), $warnings)) {
                continue;
            }
            foreach (self::assignments($courseid, $warnings) as $assignid => $assign) {
                $readable[$assignid] = $assign;
                $found[$assignid] = ['assignmentid' => $assignid, 'courseid' => $courseid,
                    'submissions' => [], 'grades' => [], 'userflags' => []];
            }
        }
        if ($found) {
            self::add_records($found, $readable, $since);
        }
        return ['assignments' => array_values($found), 'warnings' => $warnings];
    }

    /**
     * The course's assignments the caller may read, by assignment id in course module order;
     * the others become warnings.
     *
     * @param int $courseid
     * @param array $warnings
     * @return \assign[] by assignment id
     */
    private static function assignments(int $courseid, array &$warnings): array {
        $cms = get_coursemodules_in_course('assign', $courseid);
        ksort($cms); // By course module id, as the sandbox twin answers.
        $readable = [];
        foreach ($cms as $cm) {
            if ($cm->deletioninprogress) {
                continue;
            }
            $assign = self::checked(
                'assignment',
                $cm->instance,
                fn() => self::assignment($cm, ['mod/assign:viewgrades', 'mod/assign:grade']),
                $warnings
            );
            if ($assign) {
                $readable[(int)$cm->instance] = $assign;
            }
        }
        return $readable;
    }

    /**
     * Fill each assignment's lists: three queries for all of them.
     *
     * @param array[] $assignments by assignment id
     * @param \assign[] $readable the same assignments, by id
     * @param int[] $since by course id
     */
    private static function add_records(array &$assignments, array $readable, array $since): void {
        global $DB;
        [$insql, $params] = $DB->get_in_or_equal(array_keys($assignments), SQL_PARAMS_NAMED);
        // One query for every course, from the earliest since; each course's own since is then
        // applied to its rows.
        $params['since'] = min($since);
        $hidden = array_map(fn(\assign $assign) => self::hidden_users($assign), $readable);
        $shown = fn(\stdClass $row) => !isset($hidden[$row->assignment][$row->userid]);
        $after = fn(\stdClass $row) => $row->timemodified >= $since[$assignments[$row->assignment]['courseid']];
        // As mod_assign_get_submissions: each (user, group)'s highest attempt modified at or after
        // `since`; on an individual assignment only while its user is enrolled in the course
        // (assign::can_view_submission); on a team assignment only rows whose group has a member
        // the caller may view (assign::can_view_group_submission).
        $sql = "SELECT s.id, s.assignment, s.userid, s.groupid, s.attemptnumber, s.status,
                       s.timecreated, s.timemodified, a.teamsubmission
                  FROM {assign_submission} s
                  JOIN {assign} a ON a.id = s.assignment
                  JOIN (SELECT mx.assignment, mx.userid, mx.groupid, MAX(mx.attemptnumber) AS maxattempt
                          FROM {assign_submission} mx
                         WHERE mx.assignment $insql
                      GROUP BY mx.assignment, mx.userid, mx.groupid) smx
                       ON smx.assignment = s.assignment AND smx.userid = s.userid
                          AND smx.groupid = s.groupid AND smx.maxattempt = s.attemptnumber
                 WHERE s.timemodified >= :since
                   AND (a.teamsubmission = 1 OR EXISTS (SELECT 1 FROM {user_enrolments} ue
                                                  JOIN {enrol} e ON e.id = ue.enrolid
                                                  JOIN {user} u ON u.id = ue.userid AND u.deleted = 0
                                                 WHERE ue.userid = s.userid AND e.courseid = a.course))
              ORDER BY s.assignment, s.id";
        $teams = [];
        foreach ($DB->get_recordset_sql($sql, $params) as $s) {
            if (!$after($s) || !$shown($s)) {
                continue;
            }
            if ($s->teamsubmission) {
                $teams[$s->assignment][$s->groupid] ??= $readable[$s->assignment]->can_view_group_submission($s->groupid);
                if (!$teams[$s->assignment][$s->groupid]) {
                    continue;
                }
            }
            $assignments[$s->assignment]['submissions'][] = [
                'id' => (int)$s->id, 'userid' => (int)$s->userid, 'groupid' => (int)$s->groupid,
                'attemptnumber' => (int)$s->attemptnumber, 'status' => $s->status,
                'timecreated' => (int)$s->timecreated, 'timemodified' => (int)$s->timemodified,
            ];
        }
        // As mod_assign_get_grades: the grade of each user's latest attempt, grade as a string.
        $sql = "SELECT ag.id, ag.assignment, ag.userid, ag.timecreated, ag.timemodified, ag.grader,
                       ag.grade, ag.attemptnumber
                  FROM {assign_grades} ag
                  JOIN {assign_submission} s ON s.assignment = ag.assignment AND s.userid = ag.userid
                       AND s.latest = 1 AND s.attemptnumber = ag.attemptnumber
                 WHERE ag.assignment $insql AND ag.timemodified >= :since
              ORDER BY ag.assignment, ag.id";
        foreach ($DB->get_recordset_sql($sql, $params) as $g) {
            if (!$after($g) || !$shown($g)) {
                continue;
            }
            $assignments[$g->assignment]['grades'][] = [
                'id' => (int)$g->id, 'userid' => (int)$g->userid, 'attemptnumber' => (int)$g->attemptnumber,
                'grade' => (string)$g->grade, 'grader' => (int)$g->grader,
                'timecreated' => (int)$g->timecreated, 'timemodified' => (int)$g->timemodified,
            ];
        }
        // As mod_assign_get_user_flags: every flag; they carry no time, so `since` does not apply.
        $sql = "SELECT id, assignment, userid, locked, mailed, extensionduedate, workflowstate, allocatedmarker
                  FROM {assign_user_flags}
                 WHERE assignment $insql
              ORDER BY assignment, id";
        unset($params['since']);
        foreach ($DB->get_recordset_sql($sql, $params) as $f) {
            if (!$shown($f)) {
                continue;
            }
            $assignments[$f->assignment]['userflags'][] = [
                'id' => (int)$f->id, 'userid' => (int)$f->userid, 'locked' => (int)$f->locked,
                'mailed' => (int)$f->mailed, 'extensionduedate' => (int)$f->extensionduedate,
                'workflowstate' => (string)$f->workflowstate, 'allocatedmarker' => (int)$f->allocatedmarker,
            ];
        }
    }

    /**
     * The students whose records the caller may not see: without moodle/course:viewsuspendedusers,
     * those without an active enrolment (assign::can_view_submission; applied to grades and user
     * flags too, which core's reads leave unfiltered).
     *
     * @param \assign $assign
     * @return array user id => user id
     */
    private static function hidden_users(\assign $assign): array {
        if (has_capability('moodle/course:viewsuspendedusers', $assign->get_context())) {
            return [];
        }
        return get_suspended_userids($assign->get_context(), true);
    }

    /**
     * Per assignment, its submissions, grades and user flags.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        $int = fn(string $what) => new external_value(PARAM_INT, $what);
        return new external_single_structure([
            'assignments' => new external_multiple_structure(new external_single_structure([
                'assignmentid' => $int('Assignment instance id'),
                'courseid' => $int('Course id'),
                'submissions' => new external_multiple_structure(new external_single_structure([
                    'id' => $int('Submission id'),
                    'userid' => $int('Student id, 0 for a team submission'),
                    'groupid' => $int('Group of a team submission, else 0'),
                    'attemptnumber' => $int('Attempt number'),
                    'status' => new external_value(PARAM_ALPHA, 'new, draft, submitted or reopened'),
                    'timecreated' => $int('Created'),
                    'timemodified' => $int('Last modified'),
                ])),
                'grades' => new external_multiple_structure(new external_single_structure([
                    'id' => $int('Grade id'),
                    'userid' => $int('Student id'),
                    'attemptnumber' => $int('Attempt number'),
                    'grade' => new external_value(PARAM_TEXT, 'The grade, e.g. "63.00000"; "-1.00000" = not graded'),
                    'grader' => $int('Grader id'),
                    'timecreated' => $int('Created'),
                    'timemodified' => $int('Last modified'),
                ])),
                'userflags' => new external_multiple_structure(new external_single_structure([
                    'id' => $int('User flags id'),
                    'userid' => $int('Student id'),
                    'locked' => $int('1: submissions locked'),
                    'mailed' => $int('1: grade notice sent'),
                    'extensionduedate' => $int('Extension, 0 = none'),
                    'workflowstate' => new external_value(PARAM_ALPHANUMEXT, 'Marking workflow state, "" if none'),
                    'allocatedmarker' => $int('Allocated marker id, 0 = none'),
                ])),
            ])),
            'warnings' => new external_warnings(),
        ]);
    }
}
