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
 * Upgrade steps of the CETAD Sync integration plugin.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Upgrade from an older version; every upgrade also makes sure the profile fields exist and
 * that an existing integration role holds the plugin's own capabilities (a new version may
 * add one: without it the worker's call of the new function would be refused).
 *
 * @param int $oldversion
 * @return bool
 */
function xmldb_local_cetadsync_upgrade($oldversion) {
    global $DB;
    $dbman = $DB->get_manager();

    if ($oldversion < 2026120400) {
        // What the progression pages show: the target award, prior learning and its cap, the
        // worker's urgency, the late-work rule and each module and assessment (JSON).
        $table = new xmldb_table('local_cetadsync_progress');
        $fields = [
            new xmldb_field('award', XMLDB_TYPE_CHAR, '255', null, XMLDB_NOTNULL, null, '', 'nextdeadline'),
            new xmldb_field('awardcredits', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0', 'award'),
            new xmldb_field('priorcredits', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0', 'awardcredits'),
            new xmldb_field('priorcap', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0', 'priorcredits'),
            new xmldb_field('urgency', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0', 'priorcap'),
            new xmldb_field('latework', XMLDB_TYPE_TEXT, null, null, null, null, null, 'urgency'),
            new xmldb_field('detail', XMLDB_TYPE_TEXT, null, null, null, null, null, 'latework'),
        ];
        foreach ($fields as $field) {
            if (!$dbman->field_exists($table, $field)) {
                $dbman->add_field($table, $field);
            }
        }
        $index = new xmldb_index('courseurgency', XMLDB_INDEX_NOTUNIQUE, ['courseid', 'urgency']);
        if (!$dbman->index_exists($table, $index)) {
            $dbman->add_index($table, $index);
        }
        upgrade_plugin_savepoint(true, 2026120400, 'local', 'cetadsync');
    }

    \local_cetadsync\local\profile_fields::ensure();
    // Moodle reads db/access.php only after this function: read it now, so a capability this
    // version adds exists before the role is given it.
    update_capabilities('local_cetadsync');
    \local_cetadsync\local\integration::grant_plugin_capabilities();
    return true;
}
