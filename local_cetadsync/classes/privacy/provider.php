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

namespace local_cetadsync\privacy;

use context;
use context_course;
use context_user;
use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\transform;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;
use local_cetadsync\local\progression;

/**
 * Privacy provider: the sent-notification log lives in the recipient's user context, progression
 * records in their course's context (the programme's record: the site course).
 *
 * Deleting a progression record tells the worker (progression::records_removed), so its next run
 * sends again whatever still applies instead of trusting what it sent before.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements
    \core_privacy\local\request\core_userlist_provider,
    \core_privacy\local\metadata\provider,
    \core_privacy\local\request\plugin\provider {
    /**
     * Every column of both personal-data tables, the messaging subsystem, and the moodle-sync
     * worker with everything it reads of a person (through core's functions and this plugin's).
     *
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_database_table('local_cetadsync_sent', [
            'idempotencykey' => 'privacy:metadata:sent:idempotencykey',
            'provider' => 'privacy:metadata:sent:provider',
            'userid' => 'privacy:metadata:sent:userid',
            'courseid' => 'privacy:metadata:sent:courseid',
            'status' => 'privacy:metadata:sent:status',
            'messageid' => 'privacy:metadata:sent:messageid',
            'timecreated' => 'privacy:metadata:sent:timecreated',
            'timesent' => 'privacy:metadata:sent:timesent',
        ], 'privacy:metadata:sent');
        $collection->add_database_table('local_cetadsync_progress', [
            'userid' => 'privacy:metadata:progress:userid',
            'courseid' => 'privacy:metadata:progress:courseid',
            'status' => 'privacy:metadata:progress:status',
            'reasons' => 'privacy:metadata:progress:reasons',
            'credits' => 'privacy:metadata:progress:credits',
            'nextdeadline' => 'privacy:metadata:progress:nextdeadline',
            'award' => 'privacy:metadata:progress:award',
            'awardcredits' => 'privacy:metadata:progress:awardcredits',
            'priorcredits' => 'privacy:metadata:progress:priorcredits',
            'priorcap' => 'privacy:metadata:progress:priorcap',
            'urgency' => 'privacy:metadata:progress:urgency',
            'latework' => 'privacy:metadata:progress:latework',
            'detail' => 'privacy:metadata:progress:detail',
            'timecreated' => 'privacy:metadata:progress:timecreated',
            'timemodified' => 'privacy:metadata:progress:timemodified',
        ], 'privacy:metadata:progress');
        $collection->add_subsystem_link('core_message', [], 'privacy:metadata:core_message');
        $collection->add_external_location_link('moodlesync', [
            'userid' => 'privacy:metadata:moodlesync:userid',
            'username' => 'privacy:metadata:moodlesync:username',
            'fullname' => 'privacy:metadata:moodlesync:fullname',
            'email' => 'privacy:metadata:moodlesync:email',
            'idnumber' => 'privacy:metadata:moodlesync:idnumber',
            'enrolments' => 'privacy:metadata:moodlesync:enrolments',
            'groups' => 'privacy:metadata:moodlesync:groups',
            'submissions' => 'privacy:metadata:moodlesync:submissions',
            'grades' => 'privacy:metadata:moodlesync:grades',
            'userflags' => 'privacy:metadata:moodlesync:userflags',
            'dates' => 'privacy:metadata:moodlesync:dates',
            'profilefields' => 'privacy:metadata:moodlesync:profilefields',
            'messages' => 'privacy:metadata:moodlesync:messages',
            'progression' => 'privacy:metadata:moodlesync:progression',
        ], 'privacy:metadata:moodlesync');
        return $collection;
    }

    /**
     * Contexts holding the user's data.
     *
     * @param int $userid
     * @return contextlist
     */
    public static function get_contexts_for_userid(int $userid): contextlist {
        $contextlist = new contextlist();
        $contextlist->add_from_sql(
            "SELECT ctx.id FROM {context} ctx
                                      JOIN {local_cetadsync_sent} s ON s.userid = ctx.instanceid
                                     WHERE ctx.contextlevel = :userlevel AND s.userid = :userid",
            ['userlevel' => CONTEXT_USER, 'userid' => $userid]
        );
        $contextlist->add_from_sql(
            "SELECT ctx.id FROM {context} ctx
                                      JOIN {local_cetadsync_progress} p ON p.courseid = ctx.instanceid
                                     WHERE ctx.contextlevel = :courselevel AND p.userid = :userid",
            ['courselevel' => CONTEXT_COURSE, 'userid' => $userid]
        );
        return $contextlist;
    }

    /**
     * Users with data in a context.
     *
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist) {
        $context = $userlist->get_context();
        if ($context instanceof context_user) {
            $userlist->add_from_sql(
                'userid',
                "SELECT userid FROM {local_cetadsync_sent} WHERE userid = :userid",
                ['userid' => $context->instanceid]
            );
        } else if ($context instanceof context_course) {
            $userlist->add_from_sql(
                'userid',
                "SELECT userid FROM {local_cetadsync_progress} WHERE courseid = :courseid",
                ['courseid' => $context->instanceid]
            );
        }
    }

    /**
     * Export the user's notifications log and progression records: every stored field.
     *
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist) {
        global $DB;
        $userid = $contextlist->get_user()->id;
        $subcontext = [get_string('pluginname', 'local_cetadsync')];
        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof context_user && (int)$context->instanceid === (int)$userid) {
                $rows = $DB->get_records('local_cetadsync_sent', ['userid' => $userid], 'timesent, id');
                $sent = array_map(fn($r) => ['idempotencykey' => $r->idempotencykey, 'provider' => $r->provider,
                    'courseid' => $r->courseid, 'status' => $r->status, 'messageid' => $r->messageid,
                    'timecreated' => transform::datetime($r->timecreated),
                    'timesent' => $r->timesent ? transform::datetime($r->timesent) : ''], array_values($rows));
                writer::with_context($context)->export_data($subcontext, (object)['notifications' => $sent]);
            } else if ($context instanceof context_course) {
                $row = $DB->get_record('local_cetadsync_progress', ['userid' => $userid, 'courseid' => $context->instanceid]);
                if ($row) {
                    writer::with_context($context)->export_data($subcontext, self::progress_export($row));
                }
            }
        }
    }

    /**
     * A progression record as exported: every field, dates readable.
     *
     * @param \stdClass $row
     * @return \stdClass
     */
    private static function progress_export(\stdClass $row): \stdClass {
        return (object)[
            'status' => $row->status, 'reasons' => json_decode($row->reasons ?? '[]'),
            'credits' => $row->credits,
            'nextdeadline' => $row->nextdeadline ? transform::datetime($row->nextdeadline) : '',
            'award' => $row->award, 'awardcredits' => $row->awardcredits,
            'priorcredits' => $row->priorcredits, 'priorcap' => $row->priorcap, 'urgency' => $row->urgency,
            'latework' => $row->latework ?? '',
            'detail' => progression::detail($row),
            'timecreated' => transform::datetime($row->timecreated),
            'timemodified' => transform::datetime($row->timemodified),
        ];
    }

    /**
     * Delete everyone's data in a context.
     *
     * @param context $context
     */
    public static function delete_data_for_all_users_in_context(context $context) {
        global $DB;
        if ($context instanceof context_user) {
            $DB->delete_records('local_cetadsync_sent', ['userid' => $context->instanceid]);
        } else if ($context instanceof context_course) {
            progression::delete('courseid = ?', [$context->instanceid]);
        }
    }

    /**
     * Delete one user's data in the approved contexts.
     *
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist) {
        global $DB;
        $userid = $contextlist->get_user()->id;
        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof context_user && (int)$context->instanceid === (int)$userid) {
                $DB->delete_records('local_cetadsync_sent', ['userid' => $userid]);
            } else if ($context instanceof context_course) {
                progression::delete('userid = ? AND courseid = ?', [$userid, $context->instanceid]);
            }
        }
    }

    /**
     * Delete the data of several users in one context.
     *
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist) {
        global $DB;
        $context = $userlist->get_context();
        $userids = $userlist->get_userids();
        if (!$userids) {
            return;
        }
        [$insql, $params] = $DB->get_in_or_equal($userids, SQL_PARAMS_NAMED);
        if ($context instanceof context_user) {
            $params['userid'] = $context->instanceid;
            $DB->delete_records_select('local_cetadsync_sent', "userid $insql AND userid = :userid", $params);
        } else if ($context instanceof context_course) {
            $params['courseid'] = $context->instanceid;
            progression::delete("userid $insql AND courseid = :courseid", $params);
        }
    }
}
