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
use core_external\util;

/**
 * Many courses by idnumber in one call, each with its idnumber.
 *
 * Replaces one core_course_get_courses_by_field (field idnumber) per course. Core shows a
 * course's idnumber only to holders of moodle/course:update, so a least-privilege caller
 * cannot tell by course id which course holds an idnumber now (a rollover); this answers it.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_courses extends base {
    /**
     * Parameters: the course idnumbers.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'idnumbers' => new external_multiple_structure(
                new external_value(PARAM_RAW, 'Course idnumber'),
                'Idnumbers to look up'
            ),
        ]);
    }

    /**
     * Find the courses holding these idnumbers. An idnumber no course holds is simply absent;
     * a course the caller may not read is a warning instead of a course.
     *
     * @param string[] $idnumbers
     * @return array
     */
    public static function execute(array $idnumbers): array {
        global $DB;
        ['idnumbers' => $idnumbers] = self::begin('local/cetadsync:readenrolments', ['idnumbers' => $idnumbers]);

        $wanted = array_values(array_unique(array_filter($idnumbers, fn($i) => $i !== '')));
        if (!$wanted) {
            return ['courses' => [], 'warnings' => []];
        }
        [$insql, $params] = $DB->get_in_or_equal($wanted, SQL_PARAMS_NAMED);
        $fields = 'id, idnumber, shortname, fullname, category, visible, startdate, enddate, groupmode, timemodified';
        $records = $DB->get_records_select(
            'course',
            "idnumber $insql AND id <> :siteid",
            $params + ['siteid' => SITEID],
            'idnumber ASC, id ASC',
            $fields
        );
        $courses = [];
        $warnings = [];
        foreach ($records as $course) {
            // As core_course_get_courses_by_field: a hidden course needs moodle/course:viewhiddencourses
            // (require_login checks it), and the caller must be able to enter the course.
            $context = self::checked('course', $course->id, fn() => self::course_context($course->id), $warnings);
            if (!$context) {
                continue;
            }
            $courses[] = [
                'id' => (int)$course->id,
                'idnumber' => $course->idnumber,
                'shortname' => util::format_string($course->shortname, $context),
                'fullname' => util::format_string($course->fullname, $context),
                'categoryid' => (int)$course->category,
                'visible' => (int)$course->visible,
                'startdate' => (int)$course->startdate,
                'enddate' => (int)$course->enddate,
                'groupmode' => (int)$course->groupmode,
                'timemodified' => (int)$course->timemodified,
            ];
        }
        return ['courses' => $courses, 'warnings' => $warnings];
    }

    /**
     * One row per course found, ordered by idnumber.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'courses' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'Course id'),
                'idnumber' => new external_value(PARAM_RAW, 'Course idnumber'),
                'shortname' => new external_value(PARAM_RAW, 'Short name'),
                'fullname' => new external_value(PARAM_RAW, 'Full name'),
                'categoryid' => new external_value(PARAM_INT, 'Category id'),
                'visible' => new external_value(PARAM_INT, '1 visible, 0 hidden'),
                'startdate' => new external_value(PARAM_INT, 'Course start, 0 = not set'),
                'enddate' => new external_value(PARAM_INT, 'Course end, 0 = not set'),
                'groupmode' => new external_value(PARAM_INT, 'Group mode: 0 none, 1 separate, 2 visible'),
                'timemodified' => new external_value(PARAM_INT, 'Last change of the course settings'),
            ])),
            'warnings' => new external_warnings(),
        ]);
    }
}
