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

use context_course;
use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_cetadsync\local\enrolments;

/**
 * Every enrolment of many courses in one call, with its status, dates and roles.
 *
 * Replaces one core_enrol_get_enrolled_users per course, and says what that function cannot:
 * whether each enrolment is active, suspended, or not current (dates or a disabled method).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_enrolments extends external_api {
    /**
     * Parameters: the course ids.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'Course id'),
                'Courses to read'
            ),
        ]);
    }

    /**
     * Read the enrolments of the courses the caller may see; the others become warnings.
     *
     * @param int[] $courseids
     * @return array
     */
    public static function execute(array $courseids): array {
        ['courseids' => $courseids] = self::validate_parameters(
            self::execute_parameters(),
            ['courseids' => $courseids]
        );
        $system = context_system::instance();
        self::validate_context($system);
        require_capability('local/cetadsync:readenrolments', $system);

        $readable = [];
        $warnings = [];
        foreach (array_unique($courseids) as $courseid) {
            try {
                $context = context_course::instance($courseid);
                self::validate_context($context);
                require_capability('moodle/course:viewparticipants', $context);
                $readable[] = $courseid;
            } catch (\Exception $e) {
                $warnings[] = ['item' => 'course', 'itemid' => $courseid,
                    'warningcode' => $e->errorcode ?? 'invalidcourseid', 'message' => $e->getMessage()];
            }
        }
        return ['enrolments' => enrolments::for_courses($readable, time()), 'warnings' => $warnings];
    }

    /**
     * One row per user enrolment.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'enrolments' => new external_multiple_structure(new external_single_structure([
                'courseid' => new external_value(PARAM_INT, 'Course id'),
                'userid' => new external_value(PARAM_INT, 'User id'),
                'enrolid' => new external_value(PARAM_INT, 'Enrolment method instance id'),
                'method' => new external_value(PARAM_PLUGIN, 'Enrolment plugin, e.g. manual'),
                'status' => new external_value(PARAM_ALPHA, 'active, suspended or notcurrent'),
                'reason' => new external_value(
                    PARAM_ALPHA,
                    'Why not active: "" when active, suspended, notstarted, ended or methoddisabled'
                ),
                'timestart' => new external_value(PARAM_INT, 'Enrolment start, 0 = not set'),
                'timeend' => new external_value(PARAM_INT, 'Enrolment end, 0 = not set'),
                'timemodified' => new external_value(PARAM_INT, 'Last change of the enrolment'),
                'roles' => new external_multiple_structure(new external_single_structure([
                    'roleid' => new external_value(PARAM_INT, 'Role id'),
                    'shortname' => new external_value(PARAM_ALPHANUMEXT, 'Role shortname'),
                ]), 'Roles in the course context'),
                'groups' => new external_multiple_structure(new external_single_structure([
                    'id' => new external_value(PARAM_INT, 'Group id'),
                    'name' => new external_value(PARAM_TEXT, 'Group name'),
                ]), 'Every group of the course the user is a member of'),
            ])),
            'warnings' => new external_warnings(),
        ]);
    }
}
