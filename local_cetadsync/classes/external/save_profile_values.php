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
use local_cetadsync\local\profile_fields;

/**
 * Write the two progression profile fields of students, and nothing else of anybody.
 *
 * What core_user_update_users would do for these two fields, without moodle/user:update (which
 * lets a token change any account's email, password or authentication): only the configured
 * fields, only students (a user who may submit assignments in a course she is enrolled in), never
 * an administrator, the guest, a deleted or a remote user; through the profile API, with
 * core's user_updated event.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class save_profile_values extends external_api {
    /**
     * Parameters: per user, the fields to set.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'users' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'The student'),
                'fields' => new external_multiple_structure(new external_single_structure([
                    'shortname' => new external_value(PARAM_ALPHANUMEXT, 'A progression field\'s shortname'),
                    'value' => new external_value(PARAM_RAW, 'Plain text, no HTML; empty clears the value'),
                ]), 'The fields to set'),
            ]), 'Users and their values'),
        ]);
    }

    /**
     * Set each allowed user's values; every refusal is a warning about that user, who is left as she was.
     *
     * @param array $users
     * @return array
     */
    public static function execute(array $users): array {
        global $CFG;
        require_once($CFG->dirroot . '/user/profile/lib.php');
        ['users' => $users] = self::validate_parameters(self::execute_parameters(), ['users' => $users]);
        $system = context_system::instance();
        self::validate_context($system);
        require_capability('local/cetadsync:saveprogression', $system);

        $fields = array_filter(profile_fields::definitions());
        $results = [];
        $warnings = [];
        foreach ($users as $entry) {
            $refusal = self::user_refusal($entry['userid']) ?? self::values_refusal($entry['fields'], $fields);
            if ($refusal !== null) {
                $warnings[] = ['item' => 'user', 'itemid' => $entry['userid'], 'warningcode' => $refusal[0],
                    'message' => $refusal[1]];
                continue;
            }
            $results[] = ['userid' => $entry['userid'], 'outcome' => self::save($entry['userid'], $entry['fields'])];
        }
        return ['results' => $results, 'warnings' => $warnings];
    }

    /**
     * Why this user's fields may not be written, as [warning code, message], or null.
     *
     * @param int $userid
     * @return array|null
     */
    private static function user_refusal(int $userid): ?array {
        $user = \core_user::get_user($userid);
        if (!$user || $user->deleted) {
            return ['invaliduser', 'No such user'];
        }
        if (isguestuser($user) || is_mnet_remote_user($user)) {
            return ['usernotupdated', 'Cannot update the guest or a remote user'];
        }
        if (is_siteadmin($user)) {
            return ['usernotupdatedadmin', 'Cannot update admin accounts'];
        }
        if (!self::is_student($userid)) {
            return ['notastudent', 'Not a student: may submit assignments in no course she is enrolled in'];
        }
        return null;
    }

    /**
     * Whether the user may submit assignments in a course she is enrolled in (any enrolment status:
     * a withdrawn student's status is written too).
     *
     * @param int $userid
     * @return bool
     */
    private static function is_student(int $userid): bool {
        foreach (enrol_get_all_users_courses($userid, false, 'id') as $course) {
            if (has_capability('mod/assign:submit', context_course::instance($course->id), $userid, false)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why these values may not be written, as [warning code, message], or null.
     *
     * @param array $values each [shortname, value]
     * @param array $fields the configured fields that exist, shortname => definition
     * @return array|null
     */
    private static function values_refusal(array $values, array $fields): ?array {
        $allowed = profile_fields::shortnames();
        foreach ($values as ['shortname' => $shortname, 'value' => $value]) {
            if (!in_array($shortname, $allowed, true)) {
                return ['fieldnotallowed', "Only the progression fields may be written (" . implode(', ', $allowed) .
                    "), not $shortname"];
            }
            if (!isset($fields[$shortname])) {
                return ['fieldmissing', "The profile field $shortname does not exist"];
            }
            if (clean_param($value, PARAM_TEXT) !== $value) {
                return ['invalidvalue', "The value of $shortname must be plain text"];
            }
            $max = (int)$fields[$shortname]->param2;
            if ($fields[$shortname]->datatype === 'text' && $max > 0 && \core_text::strlen($value) > $max) {
                return ['valuetoolong', "The value of $shortname is longer than its $max characters"];
            }
        }
        return null;
    }

    /**
     * Write the values that differ through the profile API and tell the site the user changed.
     *
     * @param int $userid
     * @param array $values each [shortname, value]
     * @return string updated or unchanged
     */
    private static function save(int $userid, array $values): string {
        $stored = (array)profile_user_record($userid, false);
        $user = (object)['id' => $userid];
        foreach ($values as ['shortname' => $shortname, 'value' => $value]) {
            if ((string)($stored[$shortname] ?? '') !== $value) {
                $user->{"profile_field_$shortname"} = $value;
            }
        }
        if (count((array)$user) === 1) {
            return 'unchanged';
        }
        profile_save_data($user);
        \core\event\user_updated::create_from_userid($userid)->trigger();
        return 'updated';
    }

    /**
     * One outcome per user written; a warning per user refused.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'results' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'The student'),
                'outcome' => new external_value(PARAM_ALPHA, 'updated or unchanged'),
            ])),
            'warnings' => new external_warnings(),
        ]);
    }
}
