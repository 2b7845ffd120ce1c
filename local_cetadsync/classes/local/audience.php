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

use context_course;
use context_system;
use stdClass;

/**
 * Whose progression a viewer may see, as SQL: the pages, the table and the block ask here.
 *
 * Students are the users who may submit assignments in a course, with an active enrolment, as
 * mod_assign counts them. In a course in separate groups mode, a viewer without
 * moodle/site:accessallgroups sees her own groups' students only. Records live in the
 * progression table under the programme's course (progression::PROGRAMME).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class audience {
    /** @var string The capability that makes an enrolled user a student of the course. */
    public const STUDENT = 'mod/assign:submit';

    /**
     * SQL selecting the ids of the students of one course, within one group (0: every group).
     *
     * @param stdClass $course
     * @param int $groupid
     * @return array [sql, params]
     */
    public static function course_students(stdClass $course, int $groupid): array {
        return get_enrolled_sql(context_course::instance($course->id), self::STUDENT, $groupid, true);
    }

    /**
     * SQL selecting the ids of every student the viewer may see, or null for every participant
     * (a holder of the view capability for the whole site, such as the programme leader).
     *
     * @param int $viewerid
     * @return array|null [sql, params], or null for everyone
     */
    public static function viewer_students(int $viewerid): ?array {
        if (has_capability('local/cetadsync:viewcourse', context_system::instance(), $viewerid)) {
            return null;
        }
        $parts = [];
        $params = [];
        foreach (self::taught_courses($viewerid) as $course) {
            $groups = self::visible_groups($course, $viewerid);
            if ($groups === []) {
                continue;
            }
            [$sql, $p] = get_enrolled_sql(context_course::instance($course->id), self::STUDENT, $groups ?? 0, true);
            $parts[] = $sql;
            $params += $p;
        }
        if (!$parts) {
            return ['SELECT 0 AS id WHERE 1 = 0', []];
        }
        return [implode(' UNION ', $parts), $params];
    }

    /**
     * Courses in which the viewer holds the view capability.
     *
     * @param int $viewerid
     * @return stdClass[]
     */
    public static function taught_courses(int $viewerid): array {
        $courses = enrol_get_all_users_courses($viewerid, true, 'id, groupmode, groupmodeforce');
        return array_filter(
            $courses,
            fn($c) => has_capability('local/cetadsync:viewcourse', context_course::instance($c->id), $viewerid)
        );
    }

    /**
     * The groups whose students the viewer may see in a course: null for all, [] for none.
     *
     * @param stdClass $course with id and groupmode
     * @param int $viewerid
     * @return int[]|null
     */
    public static function visible_groups(stdClass $course, int $viewerid): ?array {
        if (
            (int)$course->groupmode !== SEPARATEGROUPS
                || has_capability('moodle/site:accessallgroups', context_course::instance($course->id), $viewerid)
        ) {
            return null;
        }
        return array_map('intval', array_keys(groups_get_all_groups($course->id, $viewerid)));
    }
}
