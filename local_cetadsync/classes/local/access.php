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
use required_capability_exception;
use stdClass;

/**
 * Who may open each page, after require_login: one rule per page, for the page, its navigation
 * link and the tests. A refusal is Moodle's nopermissions error.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class access {
    /**
     * course.php: a user who may enter the course and holds viewcourse or viewprogramme in it.
     *
     * @param stdClass $course
     * @param int $userid
     * @return bool
     */
    public static function course_page(stdClass $course, int $userid): bool {
        $context = context_course::instance($course->id);
        if (isguestuser($userid) || (int)$course->id === (int)SITEID || !can_access_course($course, $userid, '', true)) {
            return false;
        }
        return has_capability(audience::VIEWCOURSE, $context, $userid)
            || has_capability(audience::VIEWPROGRAMME, $context, $userid);
    }

    /**
     * mystudents.php: a user with students to see (audience::has_students).
     *
     * @param int $userid
     * @return bool
     */
    public static function mystudents_page(int $userid): bool {
        return audience::has_students($userid);
    }

    /**
     * myprogress.php: a logged-in user (not a guest) with viewown; she sees her own record only.
     *
     * @param int $userid
     * @return bool
     */
    public static function myprogress_page(int $userid): bool {
        return $userid > 0 && !isguestuser($userid)
            && has_capability('local/cetadsync:viewown', context_system::instance(), $userid);
    }

    /**
     * Refuse the page unless the rule allowed it.
     *
     * @param bool $allowed
     * @param \context $context
     * @param string $capability the capability the refusal names
     * @throws required_capability_exception
     */
    public static function enforce(bool $allowed, \context $context, string $capability): void {
        if (!$allowed) {
            throw new required_capability_exception($context, $capability, 'nopermissions', '');
        }
    }
}
