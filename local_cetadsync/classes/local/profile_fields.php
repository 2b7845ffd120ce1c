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
 * The custom profile fields moodle-sync writes progression into: created when missing, locked and
 * shown only to the student herself and her teachers, always through Moodle's profile API.
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

    /** @var int Who sees a field: PROFILE_VISIBLE_TEACHERS, the user herself and her teachers. */
    public const VISIBLE = 3;

    /** @var string Config holding the id of the category the plugin made (its name is translated). */
    public const CATEGORY_CONFIG = 'fieldcategory';

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
     * Each configured field's definition as the site holds it.
     *
     * @return array shortname => user_info_field record, or null when the field does not exist
     */
    public static function definitions(): array {
        global $DB;
        $found = [];
        foreach (self::shortnames() as $shortname) {
            $found[$shortname] = $DB->get_record('user_info_field', ['shortname' => $shortname]) ?: null;
        }
        return $found;
    }

    /**
     * Create each configured field that is missing and lock, and show as VISIBLE, each that is not.
     *
     * @return array ['created' => shortnames, 'locked' => shortnames, 'visibility' => shortname => old visibility]
     */
    public static function ensure(): array {
        $done = ['created' => [], 'locked' => [], 'visibility' => []];
        foreach (self::definitions() as $shortname => $field) {
            if ($field === null) {
                self::create($shortname);
                $done['created'][] = $shortname;
                continue;
            }
            if ((int)$field->locked !== 1) {
                $done['locked'][] = $shortname;
            }
            if ((int)$field->visible !== self::VISIBLE) {
                $done['visibility'][$shortname] = (int)$field->visible;
            }
            if ((int)$field->locked !== 1 || (int)$field->visible !== self::VISIBLE) {
                self::save($field, ['locked' => 1, 'visible' => self::VISIBLE]);
            }
        }
        return $done;
    }

    /**
     * Who sees a field of that visibility, in Moodle's own words.
     *
     * @param int $visible a PROFILE_VISIBLE_* value
     * @return string
     */
    public static function visibility_name(int $visible): string {
        $names = [0 => 'profilevisiblenone', 1 => 'profilevisibleprivate', 2 => 'profilevisibleall',
            3 => 'profilevisibleteachers'];
        return isset($names[$visible]) ? get_string($names[$visible], 'admin') : (string)$visible;
    }

    /**
     * A text field of the configured shortname, locked and visible as VISIBLE, in the plugin's category.
     *
     * @param string $shortname
     */
    private static function create(string $shortname): void {
        $setting = array_search($shortname, self::shortnames(), true);
        self::save((object)[
            'shortname' => $shortname, 'datatype' => 'text',
            'name' => get_string(self::FIELDS[$setting][1], 'local_cetadsync'),
            'description' => '', 'descriptionformat' => FORMAT_HTML, 'categoryid' => self::category(),
            'required' => 0, 'locked' => 1, 'visible' => self::VISIBLE, 'forceunique' => 0, 'signup' => 0,
            'defaultdata' => '', 'defaultdataformat' => FORMAT_MOODLE,
            'param1' => 30, 'param2' => 255, 'param3' => 0, 'param4' => '', 'param5' => '',
        ], []);
    }

    /**
     * Save a field definition through the profile API (events, cache purge, sort orders).
     *
     * @param \stdClass $field a user_info_field record, new (no id) or existing
     * @param array $changes column => value
     */
    private static function save(\stdClass $field, array $changes): void {
        global $CFG;
        require_once($CFG->dirroot . '/user/profile/definelib.php');
        $data = (object)($changes + (array)$field);
        // The API takes the description as the editor gives it.
        $data->description = ['text' => (string)$data->description, 'format' => (int)$data->descriptionformat];
        profile_save_field($data, []);
    }

    /**
     * The category for a new field: the one the other configured field is in, else the one the
     * plugin made before (by id: its name is translated), else a new one.
     *
     * @return int
     */
    private static function category(): int {
        global $CFG, $DB;
        foreach (self::definitions() as $field) {
            if ($field !== null) {
                return (int)$field->categoryid;
            }
        }
        $id = (int)get_config('local_cetadsync', self::CATEGORY_CONFIG);
        if ($id && $DB->record_exists('user_info_category', ['id' => $id])) {
            return $id;
        }
        require_once($CFG->dirroot . '/user/profile/definelib.php');
        $category = (object)['name' => get_string('fieldcategory', 'local_cetadsync')];
        profile_save_category($category);
        set_config(self::CATEGORY_CONFIG, $category->id, 'local_cetadsync');
        return (int)$category->id;
    }
}
