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
 * "My progress": the viewer's own credits, module outcomes, deadlines and late-work rule.
 *
 * Only her own record is ever read here: the page takes no user id.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use local_cetadsync\local\access;
use local_cetadsync\local\progression;
use local_cetadsync\output\my_progress;
use local_cetadsync\output\roster;

require(__DIR__ . '/../../config.php');

require_login(null, false);
$context = context_system::instance();
access::enforce(access::myprogress_page($USER->id), $context, 'local/cetadsync:viewown');

$PAGE->set_url(new moodle_url('/local/cetadsync/myprogress.php'));
$PAGE->set_context($context);
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('myprogress', 'local_cetadsync'));
$PAGE->set_heading(get_string('myprogress', 'local_cetadsync'));

$row = $DB->get_record(progression::TABLE, ['userid' => $USER->id, 'courseid' => progression::PROGRAMME]);

echo $OUTPUT->header();
if ($row) {
    echo roster::lastsync($OUTPUT);
    echo $OUTPUT->render_from_template(
        'local_cetadsync/my_progress',
        (new my_progress($row, time()))->export_for_template($OUTPUT)
    );
} else {
    echo $OUTPUT->notification(get_string('norecord', 'local_cetadsync'), 'info', false);
}
echo $OUTPUT->footer();
