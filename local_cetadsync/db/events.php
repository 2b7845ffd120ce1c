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
 * Events that can move a student's assignment dates, so get_effective_dates can answer `since`;
 * and deleted users and courses, whose rows the plugin then deletes.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$observers = [];
foreach (
    ['user_override_created', 'user_override_updated', 'user_override_deleted',
        'group_override_created', 'group_override_updated', 'group_override_deleted'] as $event
) {
    $observers[] = ['eventname' => "\\mod_assign\\event\\$event",
        'callback' => '\local_cetadsync\observer::assign_override_changed'];
}
$observers[] = ['eventname' => '\mod_assign\event\extension_granted',
    'callback' => '\local_cetadsync\observer::extension_granted'];
$observers[] = ['eventname' => '\core\event\group_member_added',
    'callback' => '\local_cetadsync\observer::group_membership_changed'];
$observers[] = ['eventname' => '\core\event\group_member_removed',
    'callback' => '\local_cetadsync\observer::group_membership_changed'];
foreach (['user_enrolment_created', 'user_enrolment_updated', 'user_enrolment_deleted'] as $event) {
    $observers[] = ['eventname' => "\\core\\event\\$event",
        'callback' => '\local_cetadsync\observer::enrolment_changed'];
}
$observers[] = ['eventname' => '\core\event\user_deleted',
    'callback' => '\local_cetadsync\observer::user_deleted'];
$observers[] = ['eventname' => '\core\event\course_deleted',
    'callback' => '\local_cetadsync\observer::course_deleted'];
