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
 * The plugin's web-service functions and the predefined service the moodle-sync worker uses.
 *
 * The service holds the core functions the worker calls on the plugin path
 * (classes/local/worker_needs.php, generated from the worker's registry) plus the plugin's own,
 * so nobody types the list by hand; the core functions only the by-hand path calls (writing any
 * user's profile, sending and reading chat messages) are not on it.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if (!class_exists(\local_cetadsync\local\worker_needs::class, false)) {
    require_once(__DIR__ . '/../classes/local/worker_needs.php');
}

$functions = [
    'local_cetadsync_get_courses' => [
        'classname' => 'local_cetadsync\external\get_courses',
        'description' => 'Many courses by idnumber in one call, each with its idnumber.',
        'type' => 'read',
        'capabilities' => 'local/cetadsync:readenrolments',
    ],
    'local_cetadsync_get_enrolments' => [
        'classname' => 'local_cetadsync\external\get_enrolments',
        'description' => 'Every enrolment of many courses in one call, with status, dates and roles.',
        'type' => 'read',
        'capabilities' => 'local/cetadsync:readenrolments',
    ],
    'local_cetadsync_get_effective_dates' => [
        'classname' => 'local_cetadsync\external\get_effective_dates',
        'description' => 'Each student\'s own due and cut-off dates for many assignments, where they differ.',
        'type' => 'read',
        'capabilities' => 'local/cetadsync:readdates',
    ],
    'local_cetadsync_get_assignment_records' => [
        'classname' => 'local_cetadsync\external\get_assignment_records',
        'description' => 'Submissions, grades (since) and user flags of every assignment of many courses.',
        'type' => 'read',
        'capabilities' => 'local/cetadsync:readrecords',
    ],
    'local_cetadsync_send_notifications' => [
        'classname' => 'local_cetadsync\external\send_notifications',
        'description' => 'Send a batch of notifications, each at most once per idempotency key.',
        'type' => 'write',
        'capabilities' => 'local/cetadsync:sendnotifications',
    ],
    'local_cetadsync_get_delivered' => [
        'classname' => 'local_cetadsync\external\get_delivered',
        'description' => 'Which idempotency keys were delivered, to settle an in-doubt batch.',
        'type' => 'read',
        'capabilities' => 'local/cetadsync:sendnotifications',
    ],
    'local_cetadsync_save_progression' => [
        'classname' => 'local_cetadsync\external\save_progression',
        'description' => 'Store participants\' progression status, reasons, credits and next deadline.',
        'type' => 'write',
        'capabilities' => 'local/cetadsync:saveprogression',
    ],
    'local_cetadsync_save_profile_values' => [
        'classname' => 'local_cetadsync\external\save_profile_values',
        'description' => 'Write the progression profile fields of students, and nothing else.',
        'type' => 'write',
        'capabilities' => 'local/cetadsync:saveprogression',
    ],
    'local_cetadsync_get_profile_fields' => [
        'classname' => 'local_cetadsync\external\get_profile_fields',
        'description' => 'Whether the progression profile fields exist, are locked and who sees them.',
        'type' => 'read',
        'capabilities' => 'local/cetadsync:saveprogression',
    ],
];

$services = [
    'CETAD Sync' => [
        'functions' => array_merge(
            \local_cetadsync\local\worker_needs::FUNCTIONS,
            array_keys($functions)
        ),
        'shortname' => 'local_cetadsync',
        'enabled' => 1,
        'restrictedusers' => 1,
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
];
