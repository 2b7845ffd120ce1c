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
 * Enrolments of many courses, read with two queries whatever the number of courses.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class enrolments {
    /**
     * Every user enrolment of the courses, with status, reason, course-context roles and groups.
     *
     * @param int[] $courseids courses the caller may read
     * @param int $now the time that decides whether dates make an enrolment current
     * @return array[] rows as get_enrolments returns them, ordered by course, user, enrolment
     */
    public static function for_courses(array $courseids, int $now): array {
        global $DB;
        if (!$courseids) {
            return [];
        }
        [$insql, $params] = $DB->get_in_or_equal($courseids, SQL_PARAMS_NAMED);
        $sql = "SELECT ue.id, e.courseid, ue.userid, e.id AS enrolid, e.enrol AS method,
                       ue.status AS uestatus, e.status AS estatus, ue.timestart, ue.timeend, ue.timemodified
                  FROM {user_enrolments} ue
                  JOIN {enrol} e ON e.id = ue.enrolid
                  JOIN {user} u ON u.id = ue.userid AND u.deleted = 0
                 WHERE e.courseid $insql
              ORDER BY e.courseid, ue.userid, e.id";
        $roles = self::roles($insql, $params);
        $groups = self::groups($insql, $params);
        $rows = [];
        foreach ($DB->get_recordset_sql($sql, $params) as $ue) {
            [$status, $reason] = self::status($ue, $now);
            $rows[] = [
                'courseid' => (int)$ue->courseid, 'userid' => (int)$ue->userid,
                'enrolid' => (int)$ue->enrolid, 'method' => $ue->method,
                'status' => $status, 'reason' => $reason,
                'timestart' => (int)$ue->timestart, 'timeend' => (int)$ue->timeend,
                'timemodified' => (int)$ue->timemodified,
                'roles' => array_values($roles[$ue->courseid][$ue->userid] ?? []),
                'groups' => $groups[$ue->courseid][$ue->userid] ?? [],
            ];
        }
        return $rows;
    }

    /**
     * Whether one enrolment is current, and if not why (the same rules as core's onlyactive).
     *
     * @param \stdClass $ue user enrolment joined with its method's status
     * @param int $now
     * @return string[] [status, reason]
     */
    public static function status(\stdClass $ue, int $now): array {
        if ((int)$ue->uestatus !== ENROL_USER_ACTIVE) {
            return ['suspended', 'suspended'];
        }
        if ((int)$ue->estatus !== ENROL_INSTANCE_ENABLED) {
            return ['notcurrent', 'methoddisabled'];
        }
        // Exactly core's onlyactive condition: timestart < now AND (timeend = 0 OR timeend > now).
        if ((int)$ue->timestart >= $now) {
            return ['notcurrent', 'notstarted'];
        }
        if ($ue->timeend && $ue->timeend <= $now) {
            return ['notcurrent', 'ended'];
        }
        return ['active', ''];
    }

    /**
     * Roles assigned in the courses' own contexts, by course and user.
     *
     * @param string $insql course id condition from get_in_or_equal
     * @param array $params its parameters
     * @return array [courseid][userid] => list of ['roleid', 'shortname']
     */
    private static function roles(string $insql, array $params): array {
        global $DB;
        $sql = "SELECT ra.id, ctx.instanceid AS courseid, ra.userid, r.id AS roleid, r.shortname
                  FROM {role_assignments} ra
                  JOIN {context} ctx ON ctx.id = ra.contextid AND ctx.contextlevel = :courselevel
                  JOIN {role} r ON r.id = ra.roleid
                 WHERE ctx.instanceid $insql
              ORDER BY r.sortorder";
        $roles = [];
        $params['courselevel'] = CONTEXT_COURSE;
        foreach ($DB->get_recordset_sql($sql, $params) as $ra) {
            $roles[$ra->courseid][$ra->userid][$ra->roleid] = ['roleid' => (int)$ra->roleid, 'shortname' => $ra->shortname];
        }
        return $roles;
    }

    /**
     * Every group of the courses each user is a member of, by course and user, in id order.
     *
     * All groups, not only the course's default grouping as core's enrolled users list: a team
     * assignment's teams are the groups of its own grouping.
     *
     * @param string $insql course id condition from get_in_or_equal
     * @param array $params its parameters
     * @return array [courseid][userid] => list of ['id', 'name']
     */
    private static function groups(string $insql, array $params): array {
        global $DB;
        $sql = "SELECT gm.id, g.courseid, gm.userid, g.id AS groupid, g.name
                  FROM {groups_members} gm
                  JOIN {groups} g ON g.id = gm.groupid
                 WHERE g.courseid $insql
              ORDER BY g.id";
        $groups = [];
        foreach ($DB->get_recordset_sql($sql, $params) as $gm) {
            $groups[$gm->courseid][$gm->userid][] = ['id' => (int)$gm->groupid, 'name' => $gm->name];
        }
        return $groups;
    }
}
