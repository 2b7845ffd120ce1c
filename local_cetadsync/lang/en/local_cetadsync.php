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

$string['allstatuses'] = 'All statuses';
$string['assessment'] = 'Assessment';
$string['awaitingmarking'] = 'handed in, awaiting marking';
$string['cetadsync:readdates'] = 'Read every student\'s own assignment dates for moodle-sync';
$string['cetadsync:readenrolments'] = 'Read courses by idnumber and enrolments of many courses for moodle-sync';
$string['cetadsync:readrecords'] = 'Read submissions, grades and user flags of many courses for moodle-sync';
$string['cetadsync:receivealerts'] = 'Receive moodle-sync\'s alerts that the programme sync needs attention';
$string['cetadsync:saveprogression'] = 'Store participants\' progression records for moodle-sync';
$string['cetadsync:sendnotifications'] = 'Send moodle-sync notifications';
$string['cetadsync:viewcourse'] = 'See the progression of a course\'s students';
$string['cetadsync:viewown'] = 'See one\'s own progression';
$string['cetadsync:viewprogramme'] = 'See the whole programme record of one\'s students: reasons, credits and every course\'s work';
$string['credits'] = 'Credits';
$string['creditsfield'] = 'Credits profile field';
$string['creditsfield_desc'] = 'Shortname of the custom profile field that receives the credits earned. It is created if missing, locked and visible to the user, teachers and admins; it must match the worker\'s push.credits_field.';
$string['creditsonly'] = '{$a->credits} credits';
$string['creditstoward'] = '{$a->credits} of {$a->needed} credits toward {$a->award}';
$string['draftonly'] = 'draft only, not submitted: due in {$a} hours';
$string['due'] = 'due {$a}';
$string['duedate'] = 'Due';
$string['extensionuntil'] = 'extension until {$a}';
$string['fieldcategory'] = 'Programme progression';
$string['fieldcredits'] = 'Credits earned';
$string['fieldprogression'] = 'Progression status';
$string['filterstatus'] = 'Status';
$string['lastsync'] = 'Last synchronised with moodle-sync: {$a}';
$string['lastsyncnever'] = 'moodle-sync has not synchronised with this site yet.';
$string['latework'] = 'If your work is late';
$string['mark'] = 'Mark';
$string['messageprovider:adminalert'] = 'Alerts that the programme sync needs attention';
$string['messageprovider:studentreminder'] = 'Reminders of your programme deadlines';
$string['messageprovider:tutordigest'] = 'Daily digest of the students at risk in your modules';
$string['module'] = 'Module';
$string['myprogress'] = 'My progress';
$string['mystudents'] = 'My students';
$string['nextdeadline'] = 'Next deadline';
$string['nodeadlines'] = 'Nothing is due: no work is waiting for you.';
$string['norecord'] = 'No progression has been recorded for you yet. It appears here after the next synchronisation.';
$string['notes'] = 'Notes';
$string['outcome'] = 'Outcome';
$string['outcome_condoned'] = 'Passed (condoned)';
$string['outcome_failed'] = 'Failed';
$string['outcome_in_progress'] = 'In progress';
$string['outcome_not_started'] = 'Not started';
$string['outcome_passed'] = 'Passed';
$string['outcome_referred'] = 'Referred: resit needed';
$string['overdueday'] = '1 day overdue';
$string['overduedays'] = '{$a} days overdue';
$string['owndate'] = 'own due date';
$string['pluginname'] = 'CETAD Sync';
$string['prior'] = '{$a->credits} credits from prior learning';
$string['priorcapped'] = '{$a->credits} credits from prior learning (at most {$a->cap} count toward this award)';
$string['privacy:metadata:core_message'] = 'Reminders, digests and alerts are sent through Moodle\'s messaging.';
$string['privacy:metadata:moodlesync'] = 'The moodle-sync worker run by the institution reads these through Moodle\'s web services (core functions and this plugin\'s), keeps them in its own database to compute each participant\'s progression and send reminders, digests and alerts, and writes progression back here. Nothing is sent outside the institution; docs/retention.md of moodle-sync says how long it keeps them.';
$string['privacy:metadata:moodlesync:dates'] = 'Each student\'s own due, cut-off and allow-submissions-from dates (user and group overrides) and the assignments\' dates.';
$string['privacy:metadata:moodlesync:email'] = 'The user\'s email address.';
$string['privacy:metadata:moodlesync:enrolments'] = 'Each enrolment in a programme course: its status (active, suspended, not current) and why, its start and end dates, the method and the roles held.';
$string['privacy:metadata:moodlesync:fullname'] = 'The user\'s first and last names.';
$string['privacy:metadata:moodlesync:grades'] = 'Assignment grades: the grade, the attempt, who graded it and when.';
$string['privacy:metadata:moodlesync:groups'] = 'The course groups the user is a member of.';
$string['privacy:metadata:moodlesync:idnumber'] = 'The user\'s ID number.';
$string['privacy:metadata:moodlesync:messages'] = 'The reminders, digests and alerts sent to the user for moodle-sync (subject and text), and whether each was delivered.';
$string['privacy:metadata:moodlesync:profilefields'] = 'The values of the progression and credits profile fields.';
$string['privacy:metadata:moodlesync:progression'] = 'The progression records this plugin stores for the user (the worker computes and sends them).';
$string['privacy:metadata:moodlesync:submissions'] = 'Assignment submissions: their status (new, draft, submitted, reopened), attempt, group and when they were created and changed; not their content.';
$string['privacy:metadata:moodlesync:userflags'] = 'Assignment user flags: extensions granted, whether the submission is locked, the marking workflow state and the allocated marker.';
$string['privacy:metadata:moodlesync:userid'] = 'The user\'s id.';
$string['privacy:metadata:moodlesync:username'] = 'The user\'s username.';
$string['privacy:metadata:progress'] = 'Each participant\'s progression in a course, as moodle-sync last computed it.';
$string['privacy:metadata:progress:award'] = 'The award the participant is working toward.';
$string['privacy:metadata:progress:awardcredits'] = 'Credits that award needs.';
$string['privacy:metadata:progress:courseid'] = 'The course.';
$string['privacy:metadata:progress:credits'] = 'Credits earned.';
$string['privacy:metadata:progress:detail'] = 'Each module\'s outcome and each assessment\'s dates, state and mark.';
$string['privacy:metadata:progress:latework'] = 'The late-work rule that applies.';
$string['privacy:metadata:progress:nextdeadline'] = 'The next deadline.';
$string['privacy:metadata:progress:priorcap'] = 'The cap on prior-learning credits.';
$string['privacy:metadata:progress:priorcredits'] = 'Prior-learning credits counted.';
$string['privacy:metadata:progress:reasons'] = 'Why the participant has this status.';
$string['privacy:metadata:progress:status'] = 'The progression status.';
$string['privacy:metadata:progress:timecreated'] = 'When the record was first stored.';
$string['privacy:metadata:progress:timemodified'] = 'When the record last changed.';
$string['privacy:metadata:progress:urgency'] = 'How urgently a tutor should look, as moodle-sync ranks it.';
$string['privacy:metadata:progress:userid'] = 'The participant.';
$string['privacy:metadata:sent'] = 'A log of the notifications sent for moodle-sync, so that none is sent twice.';
$string['privacy:metadata:sent:courseid'] = 'The course the notification was about.';
$string['privacy:metadata:sent:idempotencykey'] = 'The worker\'s key for the notification.';
$string['privacy:metadata:sent:messageid'] = 'The Moodle notification sent.';
$string['privacy:metadata:sent:provider'] = 'The kind of notification.';
$string['privacy:metadata:sent:status'] = 'Whether the notification is being sent or was sent.';
$string['privacy:metadata:sent:timecreated'] = 'When sending it began.';
$string['privacy:metadata:sent:timesent'] = 'When it was sent.';
$string['privacy:metadata:sent:userid'] = 'The recipient.';
$string['progression'] = 'Progression';
$string['progressionfield'] = 'Progression profile field';
$string['progressionfield_desc'] = 'Shortname of the custom profile field that receives the progression status. It is created if missing, locked and visible to the user, teachers and admins; it must match the worker\'s push.progression_field.';
$string['progressionof'] = 'Progression: {$a}';
$string['reasons'] = 'Why';
$string['reasonswithheld'] = 'Reasons from other courses are shown to programme leaders only.';
$string['settingsintro'] = 'moodle-sync writes progression into these custom profile fields. Run <code>php local/cetadsync/cli/setup.php --username=cetad_sync</code> to create the integration user, its role and its token.';
$string['setupadmin'] = '{$a} is a site administrator or the guest: a token for it could do anything on the site. Choose another username, e.g. cetad_sync.';
$string['setupauthorised'] = 'Authorised on service {$a->service} (id {$a->id})';
$string['setupbaddate'] = 'Invalid --valid-until date \'{$a}\': write it as YYYY-MM-DD.';
$string['setupbadusername'] = 'Invalid username \'{$a}\'';
$string['setupcreateduser'] = 'Created user {$a->username} (id {$a->id}) with Web services authentication: nobody can log in with it';
$string['setupexisting'] = 'The account {$a->username} (id {$a->id}) exists and is not the integration user. Made the integration user, it would keep every role it has ({$a->roles}) and its authentication ({$a->auth}). Choose a new username, or run again with --use-existing-account to use this account anyway.';
$string['setupexpired'] = 'The --valid-until date is already past ({$a}).';
$string['setupfieldcreated'] = 'Created profile field {$a}';
$string['setupfieldlocked'] = 'Locked profile field {$a}: users could edit their own value';
$string['setupfieldvisibility'] = 'Profile field {$a->shortname} was "{$a->old}", now "{$a->new}"';
$string['setupfounduser'] = 'Found user {$a->username} (id {$a->id}), the integration user';
$string['setuphelp'] = 'Set up the moodle-sync integration user and print its token.

Options:
  -u, --username=NAME       the integration user, created if missing, e.g. cetad_sync.
                            A site administrator is refused; so is an existing account that
                            is not the integration user yet, unless --use-existing-account
  --email=ADDRESS           its email when it is created (default NAME@invalid.example)
  --use-existing-account    make an existing account the integration user: it keeps every
                            role it has (they are listed)
  --new-token               issue a new token even if the user already has one
  --revoke-old-tokens       with --new-token: revoke the user\'s older tokens on the service
  --ip-restriction=LIST     the new token works only from these addresses or ranges
                            (e.g. 192.0.2.10 or 192.0.2.0/24, comma-separated)
  --valid-until=YYYY-MM-DD  the new token stops working after that day
  -h, --help                print this help

Example:
  php local/cetadsync/cli/setup.php --username=cetad_sync --ip-restriction=192.0.2.10';
$string['setupinteractiveauth'] = '{$a->username} uses \'{$a->auth}\' authentication: anyone who knows its password can log in with it. Web services authentication allows tokens only: change its Authentication method in its profile.';
$string['setuprefused'] = 'Refused, nothing was changed: {$a}';
$string['setupreused'] = 'Using the existing account {$a->username} (id {$a->id}) as the integration user (--use-existing-account). It keeps every role it has ({$a->roles}) and its authentication ({$a->auth}).';
$string['setuprevokeneedsnew'] = '--revoke-old-tokens revokes the older tokens when a new one is issued: add --new-token.';
$string['setuprole'] = 'Role {$a->role} (id {$a->id}) holds exactly: {$a->capabilities}';
$string['setuproleadded'] = 'Role: allowed {$a}';
$string['setuproleremoved'] = 'Role: removed {$a} (the worker does not need them with this plugin)';
$string['setuptoken'] = 'Token (shown once): {$a}';
$string['setuptokenexists'] = 'A token exists already ({$a}); it is not shown again. Run with --new-token to issue another, and --revoke-old-tokens to revoke the older ones.';
$string['setuptokenskept'] = '{$a} older token(s) of this user on the service still work: --new-token --revoke-old-tokens revokes them, or delete them in Site administration > Server > Web services > Manage tokens.';
$string['setuptokensrevoked'] = 'Revoked {$a} older token(s) of this user on the service';
$string['setuptokenunrestricted'] = 'The token works from any address and never expires: --ip-restriction and --valid-until restrict a new one (admin guide, Part 1).';
$string['setuptokenwhere'] = 'Put it in the file moodle-sync\'s moodle.token_file names (/etc/moodle-sync/token, admin guide step 9) or in MOODLE_SYNC_MOODLE__TOKEN, never in the settings file; then run moodle-sync check.';
$string['setupturnedonrest'] = 'Enabled the REST protocol';
$string['setupturnedonwebservices'] = 'Enabled web services';
$string['setupturnedonwsauth'] = 'Enabled the Web services authentication plugin (the integration user\'s)';
$string['state_draft'] = 'Draft, not submitted';
$string['state_graded'] = 'Marked';
$string['state_new'] = 'Not started';
$string['state_submitted'] = 'Handed in';
$string['status_at_risk'] = 'At risk';
$string['status_eligible'] = 'Eligible for an award';
$string['status_interrupted'] = 'Interrupted';
$string['status_none'] = 'Not synchronised yet';
$string['status_not_started'] = 'Not started';
$string['status_on_track'] = 'On track';
$string['status_referred'] = 'Referred';
$string['status_withdrawn'] = 'Withdrawn';
$string['totalstudents'] = '{$a} students in all';
$string['warninggroupsonly'] = 'The course is in separate groups mode: only the members of your own groups are listed.';
$string['warninginvalidvalue'] = 'The record was not stored: its {$a} is out of range or too long.';
$string['work'] = 'Work to look at';
$string['yourcredits'] = 'Your credits';
$string['yourdeadlines'] = 'Your deadlines';
$string['yourmodules'] = 'Your modules';
