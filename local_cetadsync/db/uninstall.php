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
 * Uninstall of the CETAD Sync integration plugin: take away the power setup gave.
 *
 * Moodle then drops the tables, capabilities, message providers, settings and the service's own
 * rows. The profile fields and their values stay (README, "Uninstall"), and so does the
 * integration user's account, without role or token.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Remove the integration role and every assignment of it, the service's tokens, authorised
 * users and function list (core removes only its rows of the plugin's functions), and turn web
 * services, REST and web-service authentication off again where setup turned them on and
 * nothing else uses them.
 *
 * @return bool
 */
function xmldb_local_cetadsync_uninstall() {
    global $CFG, $DB;
    require_once($CFG->dirroot . '/webservice/lib.php');
    $roleid = (int)$DB->get_field('role', 'id', ['shortname' => 'cetadsyncworker']);
    $holders = $roleid ? $DB->get_fieldset_select('role_assignments', 'DISTINCT userid', 'roleid = ?', [$roleid]) : [];
    if ($roleid) {
        delete_role($roleid);
    }
    $serviceid = $DB->get_field('external_services', 'id', ['shortname' => 'local_cetadsync', 'component' => 'local_cetadsync']);
    if ($serviceid) {
        (new webservice())->delete_service($serviceid);
    }
    local_cetadsync_uninstall_turn_off($holders);
    return true;
}

/**
 * Turn off what setup turned on (it recorded each) when nothing else needs it: web services and
 * REST while no other token exists and the mobile app service is off; web-service
 * authentication while no other account uses it.
 *
 * @param int[] $integrationusers the integration role's holders
 */
function local_cetadsync_uninstall_turn_off(array $integrationusers): void {
    global $DB;
    $turnedon = fn(string $name) => (bool)get_config('local_cetadsync', $name);
    $webservicesused = $DB->count_records('external_tokens') > 0 || get_config('core', 'enablemobilewebservice');
    if (!$webservicesused) {
        if ($turnedon('setupenabledrest')) {
            \core\plugininfo\webservice::enable_plugin('rest', 0);
        }
        if ($turnedon('setupenabledwebservices')) {
            add_to_config_log('enablewebservices', '1', '0', 'core');
            set_config('enablewebservices', 0);
        }
    }
    [$notours, $params] = $integrationusers
        ? $DB->get_in_or_equal($integrationusers, SQL_PARAMS_QM, 'param', false)
        : ['<> 0', []];
    $authused = $DB->record_exists_select('user', "auth = 'webservice' AND deleted = 0 AND id $notours", $params);
    if ($turnedon('setupenabledwsauth') && !$authused) {
        \core\plugininfo\auth::enable_plugin('webservice', 0);
    }
}
