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
 * What the upgrade steps of the CETAD Sync integration plugin need, frozen as they were.
 *
 * A step must do the same on every site whatever the plugin's classes become later, so nothing
 * here calls the plugin's classes: names, lists and definitions are copied in.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * The integration role's id, or 0 when setup never made it.
 *
 * @return int
 */
function local_cetadsync_upgrade_role_id(): int {
    global $DB;
    return (int)$DB->get_field('role', 'id', ['shortname' => 'cetadsyncworker']);
}

/**
 * Allow a capability this version adds to the integration role, once (from its step).
 *
 * @param string $capability
 */
function local_cetadsync_upgrade_allow(string $capability): void {
    $roleid = local_cetadsync_upgrade_role_id();
    if (!$roleid || !get_capability_info($capability)) {
        return;
    }
    $system = context_system::instance();
    assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
    $system->mark_dirty();
}

/**
 * The integration role as the worker needs it with this plugin (2026120700): without the by-hand
 * path's profile writes and chat messages, with what local_cetadsync_get_enrolments now checks
 * as core does (moodle/course:enrolreview).
 */
function local_cetadsync_upgrade_2026120700_role(): void {
    $roleid = local_cetadsync_upgrade_role_id();
    if (!$roleid) {
        return;
    }
    $system = context_system::instance();
    foreach (['moodle/site:readallmessages', 'moodle/site:sendmessage', 'moodle/user:update'] as $capability) {
        unassign_capability($capability, $roleid, $system->id);
    }
    assign_capability('moodle/course:enrolreview', CAP_ALLOW, $roleid, $system->id, true);
    $system->mark_dirty();
}

/**
 * The progression fields as 2026120700 wants them: locked and seen only by the user and her
 * teachers (PROFILE_VISIBLE_TEACHERS), created when missing; through the profile API.
 */
function local_cetadsync_upgrade_2026120700_fields(): void {
    global $CFG, $DB;
    require_once($CFG->dirroot . '/user/profile/definelib.php');
    $names = ['progressionfield' => ['cetad_progression', 'Progression status'],
        'creditsfield' => ['cetad_credits', 'Credits earned']];
    $missing = [];
    $categoryid = 0;
    foreach ($names as $setting => [$default, $name]) {
        $shortname = get_config('local_cetadsync', $setting) ?: $default;
        $field = $DB->get_record('user_info_field', ['shortname' => $shortname]);
        if (!$field) {
            $missing[$shortname] = $name;
            continue;
        }
        $categoryid = (int)$field->categoryid;
        if ((int)$field->locked !== 1 || (int)$field->visible !== 3) {
            local_cetadsync_upgrade_save_field((object)(['locked' => 1, 'visible' => 3] + (array)$field));
        }
    }
    if ($missing && !$categoryid) {
        $categoryid = local_cetadsync_upgrade_category();
    }
    foreach ($missing as $shortname => $name) {
        local_cetadsync_upgrade_save_field((object)[
            'shortname' => $shortname, 'name' => $name, 'datatype' => 'text', 'description' => '',
            'descriptionformat' => FORMAT_HTML, 'categoryid' => $categoryid, 'required' => 0, 'locked' => 1,
            'visible' => 3, 'forceunique' => 0, 'signup' => 0, 'defaultdata' => '', 'defaultdataformat' => FORMAT_MOODLE,
            'param1' => 30, 'param2' => 255, 'param3' => 0, 'param4' => '', 'param5' => '',
        ]);
    }
}

/**
 * Save a field definition through profile_save_field (events, cache purge, sort orders).
 *
 * @param stdClass $field a user_info_field record, with or without id
 */
function local_cetadsync_upgrade_save_field(stdClass $field): void {
    $field->description = ['text' => (string)$field->description, 'format' => (int)$field->descriptionformat];
    profile_save_field($field, []);
}

/**
 * The category the plugin made before (found by the id it recorded, not by its translated
 * name), else a new one, recorded.
 *
 * @return int
 */
function local_cetadsync_upgrade_category(): int {
    global $DB;
    $id = (int)get_config('local_cetadsync', 'fieldcategory');
    if ($id && $DB->record_exists('user_info_category', ['id' => $id])) {
        return $id;
    }
    $category = (object)['name' => 'Programme progression'];
    profile_save_category($category);
    set_config('fieldcategory', $category->id, 'local_cetadsync');
    return (int)$category->id;
}
