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
 * English strings of the CETAD Sync integration plugin.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['cetadsync:readdates'] = 'Read every student\'s own assignment dates for moodle-sync';
$string['cetadsync:readenrolments'] = 'Read courses by idnumber and enrolments of many courses for moodle-sync';
$string['cetadsync:readrecords'] = 'Read submissions, grades and user flags of many courses for moodle-sync';
$string['cetadsync:saveprogression'] = 'Store participants\' progression records for moodle-sync';
$string['cetadsync:sendnotifications'] = 'Send moodle-sync notifications';
$string['creditsfield'] = 'Credits profile field';
$string['creditsfield_desc'] = 'Shortname of the custom profile field that receives the credits earned. It is created if missing; it must match the worker\'s push.credits_field.';
$string['fieldcategory'] = 'Programme progression';
$string['fieldcredits'] = 'Credits earned';
$string['fieldprogression'] = 'Progression status';
$string['messageprovider:adminalert'] = 'Alerts that the programme sync needs attention';
$string['messageprovider:studentreminder'] = 'Reminders of your programme deadlines';
$string['messageprovider:tutordigest'] = 'Daily digest of the students at risk in your modules';
$string['pluginname'] = 'CETAD Sync';
$string['privacy:metadata:core_message'] = 'Reminders, digests and alerts are sent through Moodle\'s messaging.';
$string['privacy:metadata:moodlesync'] = 'The moodle-sync worker run by the institution reads enrolments and each student\'s dates through this plugin\'s web services, to compute progression and send reminders. Nothing is sent outside the institution.';
$string['privacy:metadata:moodlesync:dates'] = 'Each student\'s own due and cut-off dates and extensions.';
$string['privacy:metadata:moodlesync:enrolments'] = 'Enrolment status, dates and roles.';
$string['privacy:metadata:moodlesync:userid'] = 'The user\'s id.';
$string['privacy:metadata:progress'] = 'Each participant\'s progression in a course, as moodle-sync last computed it.';
$string['privacy:metadata:progress:courseid'] = 'The course.';
$string['privacy:metadata:progress:credits'] = 'Credits earned.';
$string['privacy:metadata:progress:nextdeadline'] = 'The next deadline.';
$string['privacy:metadata:progress:reasons'] = 'Why the participant has this status.';
$string['privacy:metadata:progress:status'] = 'The progression status.';
$string['privacy:metadata:progress:timemodified'] = 'When the record last changed.';
$string['privacy:metadata:progress:userid'] = 'The participant.';
$string['privacy:metadata:sent'] = 'A log of the notifications sent for moodle-sync, so that none is sent twice.';
$string['privacy:metadata:sent:courseid'] = 'The course the notification was about.';
$string['privacy:metadata:sent:idempotencykey'] = 'The worker\'s key for the notification.';
$string['privacy:metadata:sent:messageid'] = 'The Moodle notification sent.';
$string['privacy:metadata:sent:provider'] = 'The kind of notification.';
$string['privacy:metadata:sent:timesent'] = 'When it was sent.';
$string['privacy:metadata:sent:userid'] = 'The recipient.';
$string['progressionfield'] = 'Progression profile field';
$string['progressionfield_desc'] = 'Shortname of the custom profile field that receives the progression status. It is created if missing; it must match the worker\'s push.progression_field.';
$string['settingsintro'] = 'moodle-sync writes progression into these custom profile fields. Run <code>php local/cetadsync/cli/setup.php --username=cetad_sync</code> to create the integration user, its role and its token.';
