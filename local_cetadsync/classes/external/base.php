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
use context_module;
use context_system;
use core_external\external_api;

/**
 * What every function of the plugin checks, written once.
 *
 * The call as a whole: its parameters, the system context and the function's own plugin
 * capability (a refusal fails the call). Then each course or assignment the call reads, with at
 * least the checks of the core function it replaces; a refusal there becomes a warning about
 * that item and the call goes on with the others.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
abstract class base extends external_api {
    /**
     * Validate the parameters against execute_parameters(), then require the capability at system level.
     *
     * @param string $capability the function's plugin capability
     * @param array $params the parameters as given, by name
     * @return array the cleaned parameters
     */
    protected static function begin(string $capability, array $params): array {
        $params = self::validate_parameters(static::execute_parameters(), $params);
        $system = context_system::instance();
        self::validate_context($system);
        require_capability($capability, $system);
        return $params;
    }

    /**
     * Run one item's checks; a refusal (any Moodle exception) becomes a warning.
     *
     * @param string $item what the item is: course, assignment, user
     * @param int $itemid its id
     * @param callable $check throws when the caller may not read the item
     * @param array $warnings the call's warnings, appended to on a refusal
     * @return mixed what $check returns, or null when refused
     */
    protected static function checked(string $item, int $itemid, callable $check, array &$warnings) {
        try {
            return $check();
        } catch (\moodle_exception $e) {
            $warnings[] = self::warning($item, $itemid, $e->errorcode, $e->getMessage());
            return null;
        }
    }

    /**
     * One warning, in core's shape.
     *
     * @param string $item
     * @param int $itemid
     * @param string $code
     * @param string $message
     * @return array
     */
    protected static function warning(string $item, int $itemid, string $code, string $message): array {
        return ['item' => $item, 'itemid' => $itemid, 'warningcode' => $code, 'message' => $message];
    }

    /**
     * A course the caller may enter (require_login, as core's course reads) with these capabilities.
     *
     * An unknown course throws invalidrecord; a hidden course without moodle/course:viewhiddencourses,
     * or one the caller may not enter, requireloginerror; a capability missing there, nopermissions.
     *
     * @param int $courseid
     * @param string[] $capabilities each required in the course context
     * @return context_course
     */
    protected static function course_context(int $courseid, array $capabilities = []): context_course {
        $context = context_course::instance($courseid);
        self::validate_context($context);
        foreach ($capabilities as $capability) {
            require_capability($capability, $context);
        }
        return $context;
    }

    /**
     * An assignment whose grades the caller may view, as mod_assign's reads of grades and submissions require.
     *
     * require_login on the module (a hidden course or activity, availability, mod/assign:view), each
     * capability given, then assign::require_view_grades(): in separate groups mode a caller without
     * moodle/site:accessallgroups who is in none of the activity's groups is refused.
     *
     * @param \stdClass|\cm_info $cm the assignment's course module
     * @param string[] $capabilities each required in the module context
     * @return \assign
     */
    protected static function assignment(\stdClass|\cm_info $cm, array $capabilities): \assign {
        global $CFG;
        require_once($CFG->dirroot . '/mod/assign/locallib.php');
        $context = context_module::instance($cm->id);
        self::validate_context($context);
        foreach ($capabilities as $capability) {
            require_capability($capability, $context);
        }
        $assign = new \assign($context, $cm, null);
        $assign->require_view_grades();
        return $assign;
    }
}
