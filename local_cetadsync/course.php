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
 * Progression of a course's students, for its teachers ("Progression" in the course navigation).
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

$courseid = required_param('id', PARAM_INT);
$status = optional_param('status', '', PARAM_ALPHANUMEXT);
$download = optional_param('download', '', PARAM_ALPHA);

$course = get_course($courseid);
require_login($course);
$context = context_course::instance($course->id);
access::enforce(access::course_page($course, $USER->id), $context, audience::VIEWCOURSE);

$url = new moodle_url('/local/cetadsync/course.php', ['id' => $course->id] + ($status !== '' ? ['status' => $status] : []));
$PAGE->set_url($url);
$PAGE->set_context($context);
$PAGE->set_pagelayout('report');
$PAGE->set_title(get_string('progressionof', 'local_cetadsync', format_string($course->shortname)));
$PAGE->set_heading(format_string($course->fullname));

// Separate groups: a teacher without access to all groups sees her own groups' students only.
$students = audience::course_students($course, $USER->id, (int)groups_get_course_group($course, true));

$table = roster::table(
    $url,
    $students,
    $course->id,
    $status,
    $download,
    clean_filename("progression-{$course->shortname}"),
    new viewer($USER->id)
);
if ($table->is_downloading()) {
    $table->out(0, false);
    die();
}

echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('progression', 'local_cetadsync'));
echo roster::lastsync($OUTPUT);
echo html_writer::start_div('d-flex flex-wrap align-items-center');
echo groups_print_course_menu($course, $url, true);
echo html_writer::div(roster::filter($OUTPUT, $url, $status, $students), 'ml-3');
echo html_writer::end_div();
$table->out(50, false);
echo $OUTPUT->footer();
