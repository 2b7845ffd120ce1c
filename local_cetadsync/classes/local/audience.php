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
 * mod_assign counts them. A viewer's courses are those where she holds viewcourse (enrolled: she
 * teaches them) or viewprogramme (given at category or system level: a programme leader or
 * personal tutor). In a course in separate groups mode, a viewer without
 * moodle/site:accessallgroups sees her own groups' students only. Which parts of a student's
 * record she then sees is the viewer class's rule. Records live in the progression table under
 * the programme's course (progression::PROGRAMME).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class audience {
    /** @var string The capability that makes an enrolled user a student of the course. */
    public const STUDENT = 'mod/assign:submit';

    /** @var string A course's students and their work in that course. */
    public const VIEWCOURSE = 'local/cetadsync:viewcourse';

    /** @var string The whole programme record of a course's students. */
    public const VIEWPROGRAMME = 'local/cetadsync:viewprogramme';

    /** @var string SQL selecting nobody. */
    private const NOBODY = 'SELECT 0 AS id WHERE 1 = 0';

    /**
     * SQL selecting the ids of the students of one course the viewer may see on its page,
     * within the group she asked for (0: every group she may see).
     *
     * @param stdClass $course with id and groupmode
     * @param int $viewerid
     * @param int $groupid the group asked for, 0 for all
     * @return array [sql, params]
     */
    public static function course_students(stdClass $course, int $viewerid, int $groupid): array {
        $allowed = self::visible_groups($course, $viewerid);
        if ($allowed !== null && ($allowed === [] || ($groupid && !in_array($groupid, $allowed, true)))) {
            return [self::NOBODY, []];
        }
        $groups = $groupid ?: ($allowed ?? 0);
        return get_enrolled_sql(context_course::instance($course->id), self::STUDENT, $groups, true);
    }

    /**
     * SQL selecting the ids of every student the viewer may see, or null for every participant
     * (a holder of viewcourse or viewprogramme for the whole site).
     *
     * @param int $viewerid
     * @return array|null [sql, params], or null for everyone
     */
    public static function viewer_students(int $viewerid): ?array {
        if (self::whole_site($viewerid)) {
            return null;
        }
        $parts = [];
        $params = [];
        foreach (self::viewer_courses($viewerid) as $course) {
            [$sql, $p] = self::course_students($course, $viewerid, 0);
            if ($sql !== self::NOBODY) {
                $parts[] = $sql;
                $params += $p;
            }
        }
        return $parts ? [implode(' UNION ', $parts), $params] : [self::NOBODY, []];
    }

    /**
     * Whether the viewer has students to see: "My students" and the tutor's block are for her.
     *
     * @param int $viewerid
     * @return bool
     */
    public static function has_students(int $viewerid): bool {
        return !isguestuser($viewerid) && (self::whole_site($viewerid) || self::viewer_courses($viewerid));
    }

    /**
     * Whether the viewer sees every participant: viewcourse or viewprogramme at system level.
     *
     * @param int $viewerid
     * @return bool
     */
    public static function whole_site(int $viewerid): bool {
        $system = context_system::instance();
        return has_capability(self::VIEWCOURSE, $system, $viewerid) || has_capability(self::VIEWPROGRAMME, $system, $viewerid);
    }

    /**
     * Courses whose students the viewer sees: those she teaches (enrolled, with viewcourse) and
     * those where she holds viewprogramme (e.g. from a category role), the site course aside.
     *
     * @param int $viewerid
     * @return stdClass[] by id, each with id, groupmode and groupmodeforce
     */
    public static function viewer_courses(int $viewerid): array {
        $fields = 'id, groupmode, groupmodeforce';
        $courses = array_filter(
            enrol_get_all_users_courses($viewerid, true, $fields),
            fn($c) => has_capability(self::VIEWCOURSE, context_course::instance($c->id), $viewerid)
        );
        foreach (get_user_capability_course(self::VIEWPROGRAMME, $viewerid, true, 'groupmode, groupmodeforce') ?: [] as $c) {
            $courses[$c->id] = $c;
        }
        unset($courses[SITEID]);
        return $courses;
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
