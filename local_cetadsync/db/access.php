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
 * Capabilities of the CETAD Sync integration plugin.
 *
 * The web-service capabilities are checked at system level and no archetype holds them:
 * cli/setup.php gives them to the integration role only. The pages' capabilities follow the
 * course: teachers see their students' progression in their courses, programme leaders
 * (viewprogramme, at category or system level) the whole record, every user her own.
 * Each risk says what a holder can do through the functions it opens
 * (local_cetadsync/README.md, "Security read"). receivealerts decides who is offered the admin alert (db/messages.php).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$capabilities = [
    // Courses by idnumber, and every enrolment of many courses with status, dates, roles and groups.
    'local/cetadsync:readenrolments' => [
        'riskbitmask' => RISK_PERSONAL,
        'captype' => 'read',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [],
    ],
    // Each student's own due dates, overrides and extensions (an extension often says why).
    'local/cetadsync:readdates' => [
        'riskbitmask' => RISK_PERSONAL,
        'captype' => 'read',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [],
    ],
    // Every student's submissions, grades and marking state in many courses.
    'local/cetadsync:readrecords' => [
        'riskbitmask' => RISK_PERSONAL,
        'captype' => 'read',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [],
    ],
    // Notifications to any user of the site, administrators included, with any text and subject
    // (spam; the text is escaped, so no script); and which user received which key, when (personal).
    'local/cetadsync:sendnotifications' => [
        'riskbitmask' => RISK_SPAM | RISK_PERSONAL,
        'captype' => 'write',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [],
    ],
    // Who is offered (and may be sent) the alert that the sync needs attention.
    'local/cetadsync:receivealerts' => [
        'captype' => 'read',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [
            'manager' => CAP_ALLOW,
        ],
    ],
    // Overwrites any participant's progression record, which teachers and the student see (data
    // loss), and tells whether a stored record already held the values sent (personal).
    'local/cetadsync:saveprogression' => [
        'riskbitmask' => RISK_PERSONAL | RISK_DATALOSS,
        'captype' => 'write',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [],
    ],
    'local/cetadsync:viewcourse' => [
        'riskbitmask' => RISK_PERSONAL,
        'captype' => 'read',
        'contextlevel' => CONTEXT_COURSE,
        'archetypes' => [
            'editingteacher' => CAP_ALLOW,
            'teacher' => CAP_ALLOW,
            'manager' => CAP_ALLOW,
        ],
    ],
    // The whole programme record (reasons, credits, every course's work): for programme leaders
    // and personal tutors, given at category or system level. Without it a teacher sees only the
    // status and the work of the courses where she holds viewcourse.
    'local/cetadsync:viewprogramme' => [
        'riskbitmask' => RISK_PERSONAL,
        'captype' => 'read',
        'contextlevel' => CONTEXT_COURSECAT,
        'archetypes' => [
            'manager' => CAP_ALLOW,
        ],
    ],
    'local/cetadsync:viewown' => [
        'captype' => 'read',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [
            'user' => CAP_ALLOW,
        ],
    ],
];
