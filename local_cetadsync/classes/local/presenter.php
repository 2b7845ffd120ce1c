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

use moodle_url;
use stdClass;

/**
 * A stored progression record in the words and shapes the pages show, as plain text (templates
 * and tables escape it where they write HTML).
 *
 * Status, reasons and credits are the worker's, as of its last run. What moves with the clock
 * (days overdue, hours left) is worked out here, when the page is drawn, from the deadlines the
 * worker stored, so a page never shows yesterday's count.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class presenter {
    /** @var string[] Badge class by status; anything else is neutral. Words, never colour alone. */
    public const BADGES = [
        'at_risk' => 'bg-danger text-white',
        'referred' => 'bg-warning text-dark',
        'on_track' => 'bg-success text-white',
        'not_started' => 'bg-secondary text-white',
    ];

    /**
     * The status as a badge: its code, its words and its colour.
     *
     * @param string|null $status null when the worker has not written a record yet
     * @return array
     */
    public static function status(?string $status): array {
        $status = $status ?? 'none';
        $sm = get_string_manager();
        if (strpos($status, 'eligible_') === 0) {
            $label = get_string('status_eligible', 'local_cetadsync');
            $badge = 'bg-primary text-white';
        } else {
            $label = $sm->string_exists("status_{$status}", 'local_cetadsync')
                ? get_string("status_{$status}", 'local_cetadsync') : ucfirst(str_replace('_', ' ', $status));
            $badge = self::BADGES[$status] ?? 'bg-light text-dark border';
        }
        return ['code' => $status, 'label' => $label, 'badgeclass' => $badge];
    }

    /**
     * The reasons stored with a record, in the worker's plain words.
     *
     * @param stdClass $row
     * @return string[]
     */
    public static function reasons(stdClass $row): array {
        $reasons = json_decode($row->reasons ?? '', true);
        return is_array($reasons) ? array_values(array_map('strval', $reasons)) : [];
    }

    /**
     * "45 of 120 credits toward Postgraduate Diploma", as plain text.
     *
     * @param stdClass $row
     * @return string
     */
    public static function credits(stdClass $row): string {
        $a = (object)['credits' => format_float($row->credits, -1), 'needed' => (int)$row->awardcredits,
            'award' => format_string($row->award, true, ['escape' => false])];
        if (!$a->needed) {
            return get_string('creditsonly', 'local_cetadsync', $a);
        }
        return get_string('creditstoward', 'local_cetadsync', $a);
    }

    /**
     * A date in the viewer's time zone, or "none".
     *
     * @param int $time
     * @return string
     */
    public static function date(int $time): string {
        return $time ? userdate($time, get_string('strftimedatetimeshort', 'langconfig')) : get_string('none');
    }

    /**
     * One assessment as a line of the pages: what it is, when it is due for this student, and
     * what is wrong with it now.
     *
     * @param array $item a stored item (see save_progression)
     * @param int $now
     * @param int|null $userid the student, for a tutor's view; null for her own view (a link to the assignment)
     * @param bool $grader a tutor's view links to the student's submission in the grader only when she may grade
     * @return array
     */
    public static function item(array $item, int $now, ?int $userid, bool $grader = false): array {
        $due = (int)($item['duedate'] ?? 0);
        $handedin = in_array($item['state'] ?? '', ['submitted', 'graded'], true);
        $required = !empty($item['required']);
        $late = $required && !$handedin && $due && $due < $now;
        $flags = [];
        if ($late) {
            $days = (int)ceil(($now - $due) / DAYSECS); // Started days, as the worker counts them.
            $flags[] = $days == 1 ? get_string('overdueday', 'local_cetadsync')
                : get_string('overduedays', 'local_cetadsync', $days);
        } else if (
            $required && ($item['state'] ?? '') === 'draft' && $due > $now
                && ($item['concern'] ?? '') === 'draft_due_soon'
        ) {
            $flags[] = get_string('draftonly', 'local_cetadsync', ceil(($due - $now) / HOURSECS));
        } else if (($item['concern'] ?? '') === 'awaiting_marking' && ($item['state'] ?? '') === 'submitted') {
            $flags[] = get_string('awaitingmarking', 'local_cetadsync');
        }
        // An extension or own date matters only while the work is still to come.
        if (!$handedin && !empty($item['extension'])) {
            $flags[] = get_string('extensionuntil', 'local_cetadsync', self::date((int)$item['extension']));
        } else if (!$handedin && !empty($item['owndate'])) {
            $flags[] = get_string('owndate', 'local_cetadsync');
        }
        $url = '';
        if ($userid === null || $grader) {
            $params = ['id' => (int)$item['cmid']] + ($userid === null ? [] : ['action' => 'grader', 'userid' => $userid]);
            $url = (new moodle_url('/mod/assign/view.php', $params))->out(false);
        }
        return [
            'name' => format_string($item['name'] ?? '', true, ['escape' => false]),
            'module' => (string)($item['module'] ?? ''),
            'courseid' => (int)($item['courseid'] ?? 0),
            'url' => $url,
            'due' => self::date($due),
            'duetime' => $due,
            'state' => get_string('state_' . ($item['state'] ?? 'new'), 'local_cetadsync'),
            'late' => $late,
            'required' => $required,
            'handedin' => $handedin,
            'flags' => $flags,
            'flagtext' => implode('; ', $flags),
            'hasflags' => (bool)$flags,
            'mark' => isset($item['mark']) ? format_float($item['mark'], -1) : null,
        ];
    }

    /**
     * The lines a tutor should look at: overdue, draft only, awaiting marking, or with an
     * extension or own date still to come; of the work she may see, of one course or of all
     * (courseid 0).
     *
     * @param stdClass $row
     * @param viewer $viewer
     * @param int $now
     * @param int $courseid
     * @return array[]
     */
    public static function work(stdClass $row, viewer $viewer, int $now, int $courseid): array {
        $lines = [];
        foreach ($viewer->items($row) as $item) {
            if ($courseid && (int)($item['courseid'] ?? 0) !== $courseid) {
                continue;
            }
            $line = self::item($item, $now, (int)$row->userid, $viewer->may_grade((int)$item['cmid']));
            if ($line['hasflags']) {
                $lines[] = $line;
            }
        }
        return self::pressing_first($lines);
    }

    /**
     * What a tutor sees of a record beside its status and work: the reasons she may see (and
     * whether some were withheld), credits and the next deadline. Credits and the programme's
     * next deadline are the whole record's; a course-only viewer gets no credits and the next
     * deadline of the work she sees.
     *
     * @param stdClass $row
     * @param viewer $viewer
     * @param int $now
     * @return array{reasons: string[], withheld: bool, credits: string, nextdeadline: int}
     */
    public static function summary(stdClass $row, viewer $viewer, int $now): array {
        [$reasons, $withheld] = $viewer->reasons($row);
        if ($viewer->sees_whole($row)) {
            return ['reasons' => $reasons, 'withheld' => $withheld, 'credits' => self::credits($row),
                'nextdeadline' => (int)$row->nextdeadline];
        }
        $ahead = [];
        foreach ($viewer->items($row) as $item) {
            $due = (int)($item['duedate'] ?? 0);
            if (!empty($item['required']) && $due > $now && in_array($item['state'] ?? 'new', ['new', 'draft'], true)) {
                $ahead[] = $due;
            }
        }
        return ['reasons' => $reasons, 'withheld' => $withheld, 'credits' => '',
            'nextdeadline' => $ahead ? min($ahead) : 0];
    }

    /**
     * Lines made by item(), late ones first, then by due date: the order every page shows.
     *
     * @param array[] $lines
     * @return array[]
     */
    public static function pressing_first(array $lines): array {
        usort($lines, fn($a, $b) => [$b['late'], $a['duetime']] <=> [$a['late'], $b['duetime']]);
        return $lines;
    }
}
