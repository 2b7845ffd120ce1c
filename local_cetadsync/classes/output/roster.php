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

namespace local_cetadsync\output;

use local_cetadsync\local\presenter;
use local_cetadsync\local\progression;
use local_cetadsync\local\viewer;
use local_cetadsync\table\students;
use moodle_url;
use renderer_base;
use single_select;

/**
 * The parts the tutors' pages share: status filter, counts, last synchronisation, the table.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class roster {
    /**
     * The students table, ready to download (CSV, through Moodle's table download) or to print.
     *
     * @param moodle_url $baseurl
     * @param array|null $audience [sql, params] of student ids, or null for every record
     * @param int $courseid whose work to show (0: all)
     * @param string $status
     * @param string $download the requested download format, '' for the page
     * @param string $filename
     * @param viewer $viewer who is looking
     * @return students
     */
    public static function table(
        moodle_url $baseurl,
        ?array $audience,
        int $courseid,
        string $status,
        string $download,
        string $filename,
        viewer $viewer
    ): students {
        $table = new students($baseurl, $audience, $courseid, $status, time(), $viewer);
        $table->is_downloading($download, $filename, get_string('progression', 'local_cetadsync'));
        $table->show_download_buttons_at([TABLE_P_BOTTOM]);
        return $table;
    }

    /**
     * A select of the statuses the viewer's students hold, which reloads the page filtered.
     *
     * @param renderer_base $output
     * @param moodle_url $baseurl
     * @param string $status the current one
     * @param array|null $audience [sql, params] of the viewer's student ids, or null for all
     * @return string HTML
     */
    public static function filter(renderer_base $output, moodle_url $baseurl, string $status, ?array $audience): string {
        $options = [];
        foreach (array_keys(progression::counts($audience)) as $code) {
            $options[$code] = presenter::status($code)['label'];
        }
        asort($options);
        $select = new single_select(
            $baseurl,
            'status',
            ['' => get_string('allstatuses', 'local_cetadsync')] + $options,
            $status,
            null,
            'local-cetadsync-status'
        );
        $select->set_label(get_string('filterstatus', 'local_cetadsync'));
        return $output->render($select);
    }

    /**
     * Counts per status at the top of a page.
     *
     * @param renderer_base $output
     * @param array|null $audience
     * @return string HTML
     */
    public static function counts(renderer_base $output, ?array $audience): string {
        $counts = [];
        foreach (progression::counts($audience) as $code => $count) {
            $counts[] = presenter::status($code) + ['count' => (int)$count];
        }
        return $output->render_from_template(
            'local_cetadsync/status_counts',
            ['counts' => $counts, 'total' => array_sum(array_column($counts, 'count'))]
        );
    }

    /**
     * When the worker last synchronised: the pages are only as fresh as that.
     *
     * @param renderer_base $output
     * @return string HTML
     */
    public static function lastsync(renderer_base $output): string {
        $time = (int)get_config('local_cetadsync', 'lastsync');
        return $output->render_from_template(
            'local_cetadsync/last_sync',
            ['never' => !$time, 'lastsync' => $time ? userdate($time) : '']
        );
    }
}
