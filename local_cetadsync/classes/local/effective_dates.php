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

/**
 * Each student's own dates for many assignments, computed as mod_assign does for one student.
 *
 * mod_assign (assign::override_exists) applies a user override if the student has one, else the
 * group override with the lowest sortorder among the student's groups; a date the override leaves
 * empty is the assignment's own, whose due date in a relative-dates course is shifted by the
 * student's enrolment start (assign::calculate_properties). Extensions are the user flags'
 * extensionduedate.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class effective_dates {
    /** @var string[] The dates an override can move. */
    public const DATES = ['duedate', 'cutoffdate', 'allowsubmissionsfromdate'];

    /**
     * The students of one assignment whose dates differ from the assignment's, or who have an extension.
     *
     * @param \stdClass $assign the assign record
     * @param bool $onlyactive only students with an active enrolment (a caller who may not see suspended users)
     * @return array[] rows: userid, the three dates, extensionduedate, source (user, group or none), groupid
     */
    public static function students(\stdClass $assign, bool $onlyactive = false): array {
        global $CFG, $DB;
        $overrides = $DB->get_records('assign_overrides', ['assignid' => $assign->id], 'sortorder ASC, id ASC');
        $useroverrides = [];
        $groupoverrides = [];
        foreach ($overrides as $override) {
            if ($override->userid) {
                $useroverrides[$override->userid] = $override;
            } else if ($override->groupid) {
                $groupoverrides[$override->groupid] = $override;
            }
        }
        $extensions = $DB->get_records_select_menu(
            'assign_user_flags',
            'assignment = ? AND extensionduedate > 0',
            [$assign->id],
            '',
            'userid, extensionduedate'
        );
        $groupsof = self::memberships((int)$assign->course, array_keys($groupoverrides));
        $course = get_course($assign->course);
        // In a relative-dates course every student's due date moves with their enrolment start.
        $relative = !empty($course->relativedatesmode) && $assign->duedate;
        $candidates = $relative ? null
            : array_unique(array_merge(array_keys($useroverrides), array_keys($groupsof), array_keys($extensions)));
        $enrolled = self::enrolled((int)$assign->course, $candidates, $onlyactive);
        sort($enrolled);
        if ($relative) {
            require_once($CFG->dirroot . '/course/lib.php');
        }
        $coursedates = $relative ? course_get_course_dates_for_user_ids($course, $enrolled) : [];

        $rows = [];
        foreach ($enrolled as $userid) {
            [$override, $source] = self::override_for($userid, $useroverrides, $groupoverrides, $groupsof[$userid] ?? []);
            $own = clone($assign);
            if (!empty($coursedates[$userid]['start'])) {
                $own->duedate += $coursedates[$userid]['startoffset'];
            }
            $row = self::row($assign, $own, $userid, $override, $source, (int)($extensions[$userid] ?? 0));
            if ($row) {
                $rows[] = $row;
            }
        }
        return $rows;
    }

    /**
     * One student's dates, or null when they are the assignment's and there is no extension.
     *
     * @param \stdClass $assign the assignment as stored
     * @param \stdClass $own the assignment with the student's relative due date applied
     * @param int $userid
     * @param \stdClass|null $override the override that applies, if any
     * @param string $source user, group or none
     * @param int $extension the extension's due date, 0 = none
     * @return array|null
     */
    private static function row(
        \stdClass $assign,
        \stdClass $own,
        int $userid,
        ?\stdClass $override,
        string $source,
        int $extension
    ): ?array {
        $row = ['userid' => $userid, 'source' => $source, 'groupid' => (int)($override->groupid ?? 0),
            'extensionduedate' => $extension];
        $differs = $extension > 0;
        foreach (self::DATES as $key) {
            $row[$key] = (int)($override->{$key} ?? $own->{$key});
            $differs = $differs || $row[$key] !== (int)$assign->{$key};
        }
        return $differs ? $row : null;
    }

    /**
     * The override that applies to one student, and where it comes from.
     *
     * @param int $userid
     * @param array $useroverrides by user id
     * @param array $groupoverrides by group id, in mod_assign's order of precedence
     * @param int[] $groups the student's groups that have an override
     * @return array [override record or null, 'user' | 'group' | 'none']
     */
    private static function override_for(int $userid, array $useroverrides, array $groupoverrides, array $groups): array {
        if (isset($useroverrides[$userid])) {
            return [$useroverrides[$userid], 'user'];
        }
        foreach ($groupoverrides as $groupid => $override) {
            if (in_array($groupid, $groups)) {
                return [$override, 'group'];
            }
        }
        return [null, 'none'];
    }

    /**
     * Members of the given groups, by user.
     *
     * @param int $courseid
     * @param int[] $groupids
     * @return array userid => list of group ids
     */
    private static function memberships(int $courseid, array $groupids): array {
        global $DB;
        if (!$groupids) {
            return [];
        }
        [$insql, $params] = $DB->get_in_or_equal($groupids);
        $members = [];
        $rs = $DB->get_recordset_select('groups_members', "groupid $insql", $params, '', 'id, groupid, userid');
        foreach ($rs as $member) {
            $members[$member->userid][] = (int)$member->groupid;
        }
        $rs->close();
        return $members;
    }

    /**
     * Which of the users are enrolled in the course (deleted users never are).
     *
     * @param int $courseid
     * @param int[]|null $userids null for every enrolled user
     * @param bool $onlyactive only users with an active enrolment, as core's onlyactive
     * @return int[]
     */
    private static function enrolled(int $courseid, ?array $userids, bool $onlyactive): array {
        global $DB;
        if ($userids === []) {
            return [];
        }
        [$esql, $params] = get_enrolled_sql(\context_course::instance($courseid), '', 0, $onlyactive);
        $where = '';
        if ($userids !== null) {
            [$insql, $inparams] = $DB->get_in_or_equal($userids, SQL_PARAMS_NAMED);
            $where = "WHERE je.id $insql";
            $params += $inparams;
        }
        return array_map('intval', $DB->get_fieldset_sql("SELECT je.id FROM ($esql) je $where", $params));
    }

    /**
     * When anything that moves the assignment's dates last changed.
     *
     * @param \stdClass $assign
     * @return int the later of the assignment's timemodified and the last override, extension or
     *     group membership change recorded by the observer
     */
    public static function time_changed(\stdClass $assign): int {
        global $DB;
        $recorded = (int)$DB->get_field('local_cetadsync_datechange', 'timechanged', ['assignid' => $assign->id]);
        return max((int)$assign->timemodified, $recorded);
    }

    /**
     * Record that dates of every assignment of a course may have moved now (two statements).
     *
     * @param int $courseid
     * @param int $time
     */
    public static function touch_course(int $courseid, int $time): void {
        global $DB;
        $DB->execute("UPDATE {local_cetadsync_datechange} SET timechanged = ?
                       WHERE assignid IN (SELECT id FROM {assign} WHERE course = ?)", [$time, $courseid]);
        $DB->execute("INSERT INTO {local_cetadsync_datechange} (assignid, timechanged)
                      SELECT a.id, ? FROM {assign} a
                   LEFT JOIN {local_cetadsync_datechange} d ON d.assignid = a.id
                       WHERE a.course = ? AND d.id IS NULL", [$time, $courseid]);
    }

    /**
     * Record that dates of the assignments may have moved now.
     *
     * @param int[] $assignids
     * @param int $time
     */
    public static function touch(array $assignids, int $time): void {
        global $DB;
        foreach (array_unique($assignids) as $assignid) {
            $id = $DB->get_field('local_cetadsync_datechange', 'id', ['assignid' => $assignid]);
            if ($id) {
                $DB->set_field('local_cetadsync_datechange', 'timechanged', $time, ['id' => $id]);
            } else {
                $DB->insert_record('local_cetadsync_datechange', ['assignid' => $assignid, 'timechanged' => $time]);
            }
        }
    }
}
