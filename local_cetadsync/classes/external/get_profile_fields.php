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

namespace local_cetadsync\external;

use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_cetadsync\local\profile_fields;

/**
 * The definitions of the progression profile fields save_profile_values writes: whether each
 * exists, is locked (users cannot edit it) and who sees it. Core has no function that lists
 * profile field definitions; moodle-sync check reads these.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_profile_fields extends external_api {
    /**
     * No parameters: the fields are the plugin's settings.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([]);
    }

    /**
     * Each configured field, in the settings' order.
     *
     * @return array
     */
    public static function execute(): array {
        $system = context_system::instance();
        self::validate_context($system);
        require_capability('local/cetadsync:saveprogression', $system);
        $settings = array_flip(profile_fields::shortnames());
        $found = [];
        foreach (profile_fields::definitions() as $shortname => $field) {
            $found[] = [
                'setting' => $settings[$shortname],
                'shortname' => $shortname,
                'exists' => $field !== null,
                'name' => $field ? format_string($field->name, true, ['context' => $system]) : '',
                'datatype' => $field->datatype ?? '',
                'locked' => (bool)($field->locked ?? false),
                'visible' => (int)($field->visible ?? 0),
            ];
        }
        return ['fields' => $found];
    }

    /**
     * One entry per configured field.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'fields' => new external_multiple_structure(new external_single_structure([
                'setting' => new external_value(PARAM_ALPHA, 'progressionfield or creditsfield'),
                'shortname' => new external_value(PARAM_ALPHANUMEXT, 'The field\'s shortname'),
                'exists' => new external_value(PARAM_BOOL, 'Whether the site has the field'),
                'name' => new external_value(PARAM_TEXT, 'Its name, empty when it does not exist'),
                'datatype' => new external_value(PARAM_ALPHA, 'e.g. text; empty when it does not exist'),
                'locked' => new external_value(PARAM_BOOL, 'Users cannot edit their own value'),
                'visible' => new external_value(PARAM_INT, 'Who sees it: 0 nobody but managers, 1 the user, '
                    . '3 the user and her teachers, 2 everyone'),
            ])),
        ]);
    }
}
