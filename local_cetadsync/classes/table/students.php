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

namespace local_cetadsync\table;

defined('MOODLE_INTERNAL') || die();

require_once($CFG->libdir . '/tablelib.php');

use local_cetadsync\local\presenter;
use local_cetadsync\local\progression;
use local_cetadsync\local\viewer;
use moodle_url;
use stdClass;

/**
 * Students and their progression, most urgent first, with Moodle's own paging and download.
 *
 * The order is the worker's urgency (one place decides it); a student with no record yet comes
 * last, so a tutor still sees who the worker has not reached. Each cell shows only what the
 * viewer may see of the record (viewer): the page and its download alike.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class students extends \table_sql {
    /** @var int The course whose work is shown; 0 for every course. */
    protected int $courseid;

    /** @var int The time the page is drawn at. */
    protected int $now;

    /** @var \renderer_base */
    protected $output;

    /** @var viewer Who is looking: what of each record she may see. */
    protected viewer $viewer;

    /** @var array|null What the viewer sees of the row being drawn (presenter::summary). */
    protected ?array $summary = null;

    /**
     * Set up columns and SQL.
     *
     * @param moodle_url $baseurl
     * @param array|null $audience [sql, params] selecting student ids, or null for every record
     * @param int $courseid the course whose work is shown (0: all)
     * @param string $status only this status ('' for all)
     * @param int $now
     * @param viewer $viewer who is looking
     */
    public function __construct(moodle_url $baseurl, ?array $audience, int $courseid, string $status, int $now, viewer $viewer) {
        global $PAGE;
        parent::__construct('local-cetadsync-students');
        $this->courseid = $courseid;
        $this->now = $now;
        $this->viewer = $viewer;
        $this->output = $PAGE->get_renderer('core');
        $this->define_baseurl($baseurl);
        $columns = ['fullname' => get_string('fullname'), 'status' => get_string('status'),
            'reasons' => get_string('reasons', 'local_cetadsync'), 'credits' => get_string('credits', 'local_cetadsync'),
            'nextdeadline' => get_string('nextdeadline', 'local_cetadsync'), 'work' => get_string('work', 'local_cetadsync')];
        $this->define_columns(array_keys($columns));
        $this->define_headers(array_values($columns));
        $this->sortable(false);
        $this->collapsible(false);
        $this->set_attribute('class', 'generaltable local-cetadsync-students');
        $this->set_attribute('id', 'local-cetadsync-students');

        $names = \core_user\fields::for_name()->get_sql('u', false, '', '', false)->selects;
        $fields = "u.id, {$names}, p.status, p.reasons, p.credits, p.nextdeadline, p.award, p.awardcredits, p.detail,
                   COALESCE(p.urgency, -1) AS urgency, p.timemodified";
        $params = ['programme' => progression::PROGRAMME];
        if ($audience === null) {
            $from = "{local_cetadsync_progress} p JOIN {user} u ON u.id = p.userid";
            $where = "p.courseid = :programme AND u.deleted = 0";
        } else {
            [$sql, $audienceparams] = $audience;
            $from = "{user} u JOIN ($sql) s ON s.id = u.id
                     LEFT JOIN {local_cetadsync_progress} p ON p.userid = u.id AND p.courseid = :programme";
            $where = "u.deleted = 0";
            $params += $audienceparams;
        }
        if ($status !== '') {
            $where .= " AND p.status = :status";
            $params['status'] = $status;
        }
        $this->set_count_sql("SELECT COUNT(1) FROM {$from} WHERE {$where}", $params);
        $this->set_sql(
            $fields,
            $from,
            "{$where} ORDER BY COALESCE(p.urgency, -1) DESC, u.lastname, u.firstname, u.id",
            $params
        );
    }

    /**
     * One row per student, carrying her id for scripts and tests.
     *
     * @param stdClass $row
     * @return string
     */
    public function get_row_class($row) {
        return 'local-cetadsync-student';
    }

    /**
     * Add the student's id to the row (flexible_table has no hook for row attributes).
     *
     * Not to the padding rows flexible_table prints after the last student (class emptyrow):
     * they would carry that student's id.
     *
     * @param array|null $row cells
     * @param string $classname
     * @return string
     */
    public function get_row_html($row, $classname = '') {
        $html = parent::get_row_html($row, $classname);
        $student = $classname !== 'emptyrow' && $this->currentuserid;
        return $student ? preg_replace('/^<tr /', '<tr data-userid="' . $this->currentuserid . '" ', $html, 1) : $html;
    }

    /** @var int The student of the row being drawn. */
    protected int $currentuserid = 0;

    /**
     * Remember whose row is drawn, then format it.
     *
     * @param stdClass $row
     * @return array
     */
    public function format_row($row) {
        $this->currentuserid = (int)$row->id;
        $row->userid = (int)$row->id;
        $this->summary = $row->status === null ? null : presenter::summary($row, $this->viewer, $this->now);
        return parent::format_row($row);
    }

    /**
     * The status badge, or its words in a download.
     *
     * @param stdClass $row
     * @return string
     */
    public function col_status($row): string {
        $status = presenter::status($row->status);
        if ($this->is_downloading()) {
            return $status['label'];
        }
        return $this->output->render_from_template('local_cetadsync/status_badge', $status);
    }

    /**
     * The worker's reasons the viewer may see, in plain words, and a note when some were withheld.
     *
     * @param stdClass $row
     * @return string
     */
    public function col_reasons($row): string {
        if ($this->summary === null) {
            return '';
        }
        $reasons = $this->summary['reasons'];
        $note = $this->summary['withheld'] ? get_string('reasonswithheld', 'local_cetadsync') : '';
        if ($this->is_downloading()) {
            return implode('; ', array_merge($reasons, $note === '' ? [] : [$note]));
        }
        $html = $reasons ? \html_writer::alist(array_map('s', $reasons), ['class' => 'list-unstyled mb-0']) : '';
        return $html . ($note === '' ? '' : \html_writer::div(s($note), 'small text-muted', ['data-region' => 'withheld']));
    }

    /**
     * Credits toward the target award.
     *
     * @param stdClass $row
     * @return string
     */
    public function col_credits($row): string {
        if ($this->summary === null) {
            return '';
        }
        return $this->is_downloading() ? $this->summary['credits'] : s($this->summary['credits']);
    }

    /**
     * The next deadline of the work the viewer sees, in the viewer's time zone.
     *
     * @param stdClass $row
     * @return string
     */
    public function col_nextdeadline($row): string {
        return $this->summary === null ? '' : presenter::date($this->summary['nextdeadline']);
    }

    /**
     * Overdue and draft-only work the viewer may see, with days, extensions and own dates, linked
     * to the submission where she may grade it.
     *
     * @param stdClass $row
     * @return string
     */
    public function col_work($row): string {
        if ($row->status === null) {
            return '';
        }
        $lines = presenter::work($row, $this->viewer, $this->now, $this->courseid);
        if ($this->is_downloading()) {
            return implode('; ', array_map(fn($l) => "{$l['name']}: {$l['flagtext']}", $lines));
        }
        return $this->output->render_from_template('local_cetadsync/work_list', ['lines' => $lines]);
    }
}
