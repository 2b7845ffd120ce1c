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
 * Per course it checks what core checks before it lists users and their enrolment status
 * (moodle/course:enrolreview, which core wants for the status filters), and respects separate groups.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_enrolments extends base {
    /** @var string[] What core_enrol_get_enrolled_users wants in the course to list users with their status. */
    public const COURSE_CAPABILITIES = [
        'moodle/course:viewparticipants',
        'moodle/course:enrolreview',
        'moodle/user:viewdetails',
    ];

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
        ['courseids' => $courseids] = self::begin('local/cetadsync:readenrolments', ['courseids' => $courseids]);
        $visible = []; // By course: null for every user, else the user ids the caller may see.
        $warnings = [];
        foreach (array_unique($courseids) as $courseid) {
            $context = self::checked(
                'course',
                $courseid,
                fn() => self::course_context($courseid, self::COURSE_CAPABILITIES),
                $warnings
            );
            if (!$context) {
                continue;
            }
            $visible[$courseid] = self::group_members($courseid, $context);
            if ($visible[$courseid] !== null) {
                $warnings[] = self::warning('course', $courseid, 'groupsonly', get_string('warninggroupsonly', 'local_cetadsync'));
            }
        }
        $rows = array_filter(
            enrolments::for_courses(array_keys($visible), time()),
            fn(array $row) => $visible[$row['courseid']] === null || isset($visible[$row['courseid']][$row['userid']])
        );
        return ['enrolments' => array_values($rows), 'warnings' => $warnings];
    }

    /**
     * As core_enrol_get_enrolled_users in separate groups mode: without moodle/site:accessallgroups
     * the caller sees only the members of her own groups of the course (none if she is in none).
     *
     * @param int $courseid
     * @param context_course $context
     * @return array|null user id => true, or null when the caller sees every user
     */
    private static function group_members(int $courseid, context_course $context): ?array {
        global $DB;
        $course = get_course($courseid);
        if (groups_get_course_groupmode($course) != SEPARATEGROUPS || has_capability('moodle/site:accessallgroups', $context)) {
            return null;
        }
        $groups = groups_get_user_groups($courseid)[0];
        if (!$groups) {
            return [];
        }
        [$insql, $params] = $DB->get_in_or_equal($groups);
        return array_fill_keys($DB->get_fieldset_select('groups_members', 'DISTINCT userid', "groupid $insql", $params), true);
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
