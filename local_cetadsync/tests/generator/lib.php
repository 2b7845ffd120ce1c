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

/**
 * Data generator of the CETAD Sync plugin's own records, for its PHPUnit tests.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class local_cetadsync_generator extends component_generator_base {
    /**
     * A progression record as the worker stores it through save_progression.
     *
     * @param array $record userid (required), courseid (default the programme), status,
     *     reasons, credits, and any other save_progression field
     * @return stdClass the stored row
     */
    public function create_progress(array $record): stdClass {
        global $DB;
        $record += [
            'courseid' => \local_cetadsync\local\progression::PROGRAMME,
            'status' => 'on_track',
            'reasons' => ['80 of 120 credits toward PG Diploma'],
            'credits' => 80,
        ];
        \local_cetadsync\local\progression::upsert($record, time());
        return $DB->get_record(
            \local_cetadsync\local\progression::TABLE,
            ['userid' => $record['userid'], 'courseid' => $record['courseid']],
            '*',
            MUST_EXIST
        );
    }

    /**
     * A row of the sent-notification log, as send_notifications leaves it.
     *
     * @param array $record userid (required), idempotencykey, provider, courseid, status,
     *     messageid, timecreated, timesent
     * @return stdClass the stored row
     */
    public function create_sent(array $record): stdClass {
        global $DB;
        $now = time();
        $record += [
            'idempotencykey' => 'k-' . random_string(12),
            'provider' => 'studentreminder',
            'courseid' => 0,
            'status' => 'sent',
            'messageid' => 0,
            'timecreated' => $now,
            'timesent' => $now,
        ];
        $record['id'] = $DB->insert_record(\local_cetadsync\local\notifier::TABLE, (object)$record);
        return (object)$record;
    }

    /**
     * A user enrolled as a student in a course of her own: someone Moodle offers the plugin's
     * student reminders to (mod/assign:submit), so a send to her is not refused as notarecipient.
     *
     * @param array $record user fields
     * @return stdClass the user
     */
    public function create_student(array $record = []): stdClass {
        $user = $this->datagenerator->create_user($record);
        $course = $this->datagenerator->create_course();
        $this->datagenerator->enrol_user($user->id, $course->id, 'student');
        return $user;
    }

    /**
     * A user holding the integration role's capabilities at system level, as cli/setup.php makes
     * it, less those named: the caller of the web-service functions in their tests.
     *
     * @param string[] $without capabilities the role leaves out
     * @return stdClass the user
     */
    public function create_integration_user(array $without = []): stdClass {
        $user = $this->datagenerator->create_user();
        $system = \context_system::instance();
        $roleid = create_role('Integration ' . $user->id, 'integration' . $user->id, '');
        foreach (array_diff(\local_cetadsync\local\integration::capabilities(), $without) as $capability) {
            assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
        }
        role_assign($roleid, $user->id, $system->id);
        accesslib_clear_all_caches_for_unit_testing();
        return $user;
    }

    /**
     * Take a capability from an integration user of create_integration_user() in one context (an
     * override that prohibits it there, as a site could for one course or activity).
     *
     * @param stdClass $user
     * @param string $capability
     * @param \context $context
     */
    public function prohibit(stdClass $user, string $capability, \context $context): void {
        global $DB;
        $roleid = $DB->get_field('role', 'id', ['shortname' => 'integration' . $user->id], MUST_EXIST);
        assign_capability($capability, CAP_PROHIBIT, $roleid, $context->id, true);
        accesslib_clear_all_caches_for_unit_testing();
    }

    /**
     * An assignment submission row, as mod_assign stores it (the latest attempt by default).
     *
     * @param array $record assignment and userid (or groupid) required; status, attemptnumber, latest, timemodified
     * @return stdClass
     */
    public function create_submission(array $record): stdClass {
        $now = time();
        return $this->insert('assign_submission', $record + ['userid' => 0, 'groupid' => 0, 'status' => 'submitted',
            'attemptnumber' => 0, 'latest' => 1, 'timecreated' => $now, 'timemodified' => $now]);
    }

    /**
     * An assignment grade row.
     *
     * @param array $record assignment and userid required; grade, grader, attemptnumber, timemodified
     * @return stdClass
     */
    public function create_grade(array $record): stdClass {
        $now = time();
        return $this->insert('assign_grades', $record + ['grade' => 63, 'grader' => get_admin()->id,
            'attemptnumber' => 0, 'timecreated' => $now, 'timemodified' => $now]);
    }

    /**
     * An assignment user-flags row (extension, marking workflow).
     *
     * @param array $record assignment and userid required; extensionduedate, workflowstate, allocatedmarker
     * @return stdClass
     */
    public function create_user_flags(array $record): stdClass {
        return $this->insert('assign_user_flags', $record + ['locked' => 0, 'mailed' => 0, 'extensionduedate' => 0,
            'workflowstate' => '', 'allocatedmarker' => 0]);
    }

    /**
     * An assignment override of a user or a group (the same row on every supported Moodle).
     *
     * @param array $record assignid and userid or groupid (with sortorder) required; duedate,
     *     cutoffdate, allowsubmissionsfromdate (null: the assignment's)
     * @return stdClass
     */
    public function create_override(array $record): stdClass {
        return $this->insert('assign_overrides', $record);
    }

    /**
     * Insert a row and return it with its id.
     *
     * @param string $table
     * @param array $record
     * @return stdClass
     */
    private function insert(string $table, array $record): stdClass {
        global $DB;
        $record['id'] = $DB->insert_record($table, (object)$record);
        return (object)$record;
    }
}
