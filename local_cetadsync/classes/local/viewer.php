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
use context_module;
use context_system;
use stdClass;

/**
 * What of a student's record one viewer may see (audience decides whose records).
 *
 * A record is the programme's: it names the work of every course. The viewer sees:
 * - the status, always;
 * - the work of a course where she holds viewcourse or viewprogramme, and in separate groups
 *   (without moodle/site:accessallgroups) only when she shares a group with the student there;
 * - the whole record (every reason, credits, the programme's next deadline) with viewprogramme
 *   at system level, or in every course the record's work comes from;
 * - otherwise only the reasons that start with the code of a module whose every piece of work
 *   in the record she sees (the worker starts each module's reason with its code: "MPC Essay
 *   4 days overdue"); programme-wide reasons (credits, awards, withdrawal) are withheld.
 * A piece of work links to the grader only where she may grade it (mod/assign:grade).
 *
 * Answers are kept per course and module for the life of the object (one page).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class viewer {
    /** @var array<int, bool> Course id => she holds viewcourse or viewprogramme there. */
    private array $courses = [];

    /** @var array<int, bool> Course id => she holds viewprogramme there. */
    private array $programme = [];

    /** @var array<int, int[]|null> Course id => the groups she is limited to (null: all). */
    private array $groups = [];

    /** @var array<int, bool> Course module id => she may grade it. */
    private array $grading = [];

    /** @var bool|null Whether she holds viewprogramme at system level. */
    private ?bool $everywhere = null;

    /**
     * A viewer of other people's records.
     *
     * @param int $userid
     */
    public function __construct(
        /** @var int The viewer. */
        public readonly int $userid,
    ) {
    }

    /**
     * Whether she sees this student's work in this course.
     *
     * @param int $courseid
     * @param int $studentid
     * @return bool
     */
    public function sees_work(int $courseid, int $studentid): bool {
        if (!$this->sees_course($courseid)) {
            return false;
        }
        $mine = $this->groups[$courseid];
        if ($mine === null) {
            return true;
        }
        $theirs = groups_get_user_groups($courseid, $studentid)[0] ?? [];
        return (bool)array_intersect($mine, array_map('intval', $theirs));
    }

    /**
     * Whether she sees the whole record: every reason, credits, the programme's next deadline.
     *
     * @param stdClass $row a progression record
     * @return bool
     */
    public function sees_whole(stdClass $row): bool {
        $this->everywhere ??= has_capability(audience::VIEWPROGRAMME, context_system::instance(), $this->userid);
        if ($this->everywhere) {
            return true;
        }
        $courses = array_keys($this->modules($row)['courses']);
        foreach ($courses as $courseid) {
            if (!$this->holds_programme($courseid)) {
                return false;
            }
        }
        return (bool)$courses;
    }

    /**
     * The record's items she may see.
     *
     * @param stdClass $row
     * @return array[]
     */
    public function items(stdClass $row): array {
        return array_values(array_filter(
            progression::detail($row)['items'],
            fn($item) => $this->sees_work((int)($item['courseid'] ?? 0), (int)$row->userid)
        ));
    }

    /**
     * The record's reasons she may see, and whether any was withheld.
     *
     * @param stdClass $row
     * @return array{0: string[], 1: bool}
     */
    public function reasons(stdClass $row): array {
        $all = presenter::reasons($row);
        if ($this->sees_whole($row)) {
            return [$all, false];
        }
        $modules = $this->modules($row)['modules'];
        $shown = array_values(array_filter($all, function (string $reason) use ($modules, $row) {
            $code = preg_split('/[\s:]/', $reason, 2)[0];
            if (!isset($modules[$code])) {
                return false; // Programme-wide, or a module with no work in the record.
            }
            foreach ($modules[$code] as $courseid) {
                if (!$this->sees_work($courseid, (int)$row->userid)) {
                    return false;
                }
            }
            return true;
        }));
        return [$shown, count($shown) < count($all)];
    }

    /**
     * Whether she may grade in this course module: only then does a line link to the grader.
     *
     * @param int $cmid
     * @return bool
     */
    public function may_grade(int $cmid): bool {
        if (!array_key_exists($cmid, $this->grading)) {
            $context = context_module::instance($cmid, IGNORE_MISSING);
            $this->grading[$cmid] = $context && has_capability('mod/assign:grade', $context, $this->userid);
        }
        return $this->grading[$cmid];
    }

    /**
     * Whether she holds viewcourse or viewprogramme in the course (and which groups bind her).
     *
     * @param int $courseid
     * @return bool
     */
    private function sees_course(int $courseid): bool {
        if (!array_key_exists($courseid, $this->courses)) {
            $context = context_course::instance($courseid, IGNORE_MISSING);
            $this->courses[$courseid] = $context && $courseid !== (int)SITEID
                && (has_capability(audience::VIEWCOURSE, $context, $this->userid) || $this->holds_programme($courseid));
            $course = $this->courses[$courseid] ? get_course($courseid) : null;
            $this->groups[$courseid] = $course ? audience::visible_groups($course, $this->userid) : [];
        }
        return $this->courses[$courseid];
    }

    /**
     * Whether she holds viewprogramme in the course.
     *
     * @param int $courseid
     * @return bool
     */
    private function holds_programme(int $courseid): bool {
        if (!array_key_exists($courseid, $this->programme)) {
            $context = context_course::instance($courseid, IGNORE_MISSING);
            $this->programme[$courseid] = $context && has_capability(audience::VIEWPROGRAMME, $context, $this->userid);
        }
        return $this->programme[$courseid];
    }

    /**
     * The courses the record's work comes from, and each module's courses.
     *
     * @param stdClass $row
     * @return array{courses: array<int, true>, modules: array<string, int[]>}
     */
    private function modules(stdClass $row): array {
        $courses = [];
        $modules = [];
        foreach (progression::detail($row)['items'] as $item) {
            $courseid = (int)($item['courseid'] ?? 0);
            $courses[$courseid] = true;
            $modules[(string)($item['module'] ?? '')][] = $courseid;
        }
        return ['courses' => $courses, 'modules' => $modules];
    }
}
