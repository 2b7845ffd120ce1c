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
 * Programme progression on the Dashboard: a tutor's three most urgent students, a student's next
 * deadline. It reads local_cetadsync's records; it calls nothing.
 *
 * @package    block_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class block_cetadsync extends block_base {
    /** @var int How many students a tutor sees here. */
    public const URGENT = 3;

    /**
     * The block's title.
     */
    public function init() {
        $this->title = get_string('pluginname', 'block_cetadsync');
    }

    /**
     * The Dashboard only.
     *
     * @return array
     */
    public function applicable_formats() {
        return ['my' => true, 'all' => false];
    }

    /**
     * The content: a tutor's most urgent students, else the viewer's own next deadline.
     *
     * @return stdClass
     */
    public function get_content() {
        global $USER, $DB;
        if ($this->content !== null) {
            return $this->content;
        }
        $this->content = (object)['text' => '', 'footer' => ''];
        if (!isloggedin() || isguestuser()) {
            return $this->content;
        }
        $renderer = $this->page->get_renderer('core');
        if (\local_cetadsync\local\access::mystudents_page($USER->id)) {
            $this->content->text = $renderer->render_from_template('block_cetadsync/content', self::tutor($USER->id));
            return $this->content;
        }
        $row = $DB->get_record(
            'local_cetadsync_progress',
            ['userid' => $USER->id, 'courseid' => \local_cetadsync\local\progression::PROGRAMME]
        );
        if ($row && \local_cetadsync\local\access::myprogress_page($USER->id)) {
            $this->content->text = $renderer->render_from_template(
                'block_cetadsync/content',
                ['student' => true, 'next' => self::next_deadline($row, time()),
                'url' => (new moodle_url('/local/cetadsync/myprogress.php'))->out(false)]
            );
        }
        return $this->content;
    }

    /**
     * A tutor's most urgent students, each with the first reason she may see (viewer's rule).
     *
     * @param int $viewerid
     * @return array the template's context
     */
    public static function tutor(int $viewerid): array {
        $viewer = new \local_cetadsync\local\viewer($viewerid);
        $rows = \local_cetadsync\local\progression::most_urgent(
            \local_cetadsync\local\audience::viewer_students($viewerid),
            self::URGENT
        );
        $urgent = array_map(fn($row) => [
            'name' => fullname($row),
            'status' => \local_cetadsync\local\presenter::status($row->status),
            'reason' => $viewer->reasons($row)[0][0] ?? '',
        ], $rows);
        return ['tutor' => true, 'urgent' => $urgent, 'hasurgent' => (bool)$urgent,
            'url' => (new moodle_url('/local/cetadsync/mystudents.php'))->out(false)];
    }

    /**
     * The student's next piece of required work still to hand in, as of now.
     *
     * @param stdClass $row her progression record
     * @param int $now
     * @return array|null
     */
    public static function next_deadline(stdClass $row, int $now): ?array {
        $open = [];
        foreach (\local_cetadsync\local\progression::detail($row)['items'] as $item) {
            $line = \local_cetadsync\local\presenter::item($item, $now, null);
            if ($line['required'] && !$line['handedin'] && $line['duetime']) {
                $open[] = $line;
            }
        }
        return \local_cetadsync\local\presenter::pressing_first($open)[0] ?? null;
    }
}
