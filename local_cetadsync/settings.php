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
 * Settings of the CETAD Sync integration plugin.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if ($hassiteconfig) {
    $settings = new admin_settingpage('local_cetadsync', new lang_string('pluginname', 'local_cetadsync'));
    $settings->add(new admin_setting_heading(
        'local_cetadsync/intro',
        '',
        new lang_string('settingsintro', 'local_cetadsync')
    ));
    foreach (\local_cetadsync\local\profile_fields::FIELDS as $setting => [$default]) {
        $field = new admin_setting_configtext(
            "local_cetadsync/$setting",
            new lang_string($setting, 'local_cetadsync'),
            new lang_string("{$setting}_desc", 'local_cetadsync'),
            $default,
            PARAM_ALPHANUMEXT
        );
        $field->set_updatedcallback('\local_cetadsync\local\profile_fields::ensure');
        $settings->add($field);
    }
    $ADMIN->add('localplugins', $settings);
}
