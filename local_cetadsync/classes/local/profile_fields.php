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

namespace local_cetadsync\local;

/**
 * The custom profile fields moodle-sync writes progression into, created when missing.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class profile_fields {
    /** @var array setting name => [default shortname (the worker's default), language string of its name] */
    public const FIELDS = [
        'progressionfield' => ['cetad_progression', 'fieldprogression'],
        'creditsfield' => ['cetad_credits', 'fieldcredits'],
    ];

    /**
     * The configured shortname of each field.
     *
     * @return string[] setting name => shortname
     */
    public static function shortnames(): array {
        $names = [];
        foreach (self::FIELDS as $setting => [$default]) {
            $names[$setting] = get_config('local_cetadsync', $setting) ?: $default;
        }
        return $names;
    }

    /**
     * Create each configured field that does not exist: text, locked, visible to teachers only.
     *
     * @return string[] shortnames of the fields created
     */
    public static function ensure(): array {
        global $DB;
        $created = [];
        foreach (self::shortnames() as $setting => $shortname) {
            if ($DB->record_exists('user_info_field', ['shortname' => $shortname])) {
                continue;
            }
            $DB->insert_record('user_info_field', (object)[
                'shortname' => $shortname,
                'name' => get_string(self::FIELDS[$setting][1], 'local_cetadsync'),
                'datatype' => 'text', 'description' => '', 'descriptionformat' => FORMAT_HTML,
                'categoryid' => self::category(),
                'sortorder' => $DB->count_records('user_info_field') + 1,
                'required' => 0, 'locked' => 1, 'visible' => 3, // PROFILE_VISIBLE_TEACHERS.
                'forceunique' => 0, 'signup' => 0, 'defaultdata' => '', 'defaultdataformat' => FORMAT_MOODLE,
                'param1' => 30, 'param2' => 255, 'param3' => 0, 'param4' => '', 'param5' => '',
            ]);
            $created[] = $shortname;
        }
        return $created;
    }

    /**
     * The id of the plugin's profile field category, created when missing.
     *
     * @return int
     */
    private static function category(): int {
        global $DB;
        $name = get_string('fieldcategory', 'local_cetadsync');
        $id = $DB->get_field('user_info_category', 'id', ['name' => $name]);
        if ($id) {
            return (int)$id;
        }
        $sortorder = (int)$DB->get_field_sql('SELECT MAX(sortorder) FROM {user_info_category}') + 1;
        return (int)$DB->insert_record('user_info_category', (object)['name' => $name, 'sortorder' => $sortorder]);
    }
}
