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
 * "My students": every student of every course the viewer teaches or oversees (everyone, for a
 * holder of viewcourse or viewprogramme for the whole site), with counts per status and a CSV
 * download; of each, what the viewer may see (local_cetadsync\local\viewer).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use local_cetadsync\local\access;
use local_cetadsync\local\audience;
use local_cetadsync\local\viewer;
use local_cetadsync\output\roster;

require(__DIR__ . '/../../config.php');

$status = optional_param('status', '', PARAM_ALPHANUMEXT);
$download = optional_param('download', '', PARAM_ALPHA);

require_login(null, false);
$context = context_system::instance();
$url = new moodle_url('/local/cetadsync/mystudents.php', $status !== '' ? ['status' => $status] : []);
$PAGE->set_url($url);
$PAGE->set_context($context);
$PAGE->set_pagelayout('report');
$PAGE->set_title(get_string('mystudents', 'local_cetadsync'));
$PAGE->set_heading(get_string('mystudents', 'local_cetadsync'));

access::enforce(access::mystudents_page($USER->id), $context, audience::VIEWCOURSE);
$students = audience::viewer_students($USER->id);

$table = roster::table($url, $students, 0, $status, $download, 'progression-my-students', new viewer($USER->id));
if ($table->is_downloading()) {
    $table->out(0, false);
    die();
}

echo $OUTPUT->header();
echo roster::lastsync($OUTPUT);
echo roster::counts($OUTPUT, $students);
echo roster::filter($OUTPUT, $url, $status, $students);
$table->out(50, false);
echo $OUTPUT->footer();
