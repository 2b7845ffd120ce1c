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
 * Upgrade from an older version, one step per version that changed something; each step does
 * its work once and uses only db/upgradelib.php, never the plugin's live classes.
 *
 * @param int $oldversion
 * @return bool
 */
function xmldb_local_cetadsync_upgrade($oldversion) {
    global $DB;
    require_once(__DIR__ . '/upgradelib.php');
    $dbman = $DB->get_manager();

    if ($oldversion < 2026120205) {
        // New capability local/cetadsync:readrecords: the integration role needs it for the new
        // function. Moodle reads db/access.php only after the upgrade: read it now.
        update_capabilities('local_cetadsync');
        local_cetadsync_upgrade_allow('local/cetadsync:readrecords');
        upgrade_plugin_savepoint(true, 2026120205, 'local', 'cetadsync');
    }

    if ($oldversion < 2026120400) {
        // What the progression pages show: the target award, prior learning and its cap, the
        // worker's urgency, the late-work rule and each module and assessment (JSON).
        $table = new xmldb_table('local_cetadsync_progress');
        $fields = [
            new xmldb_field('award', XMLDB_TYPE_CHAR, '255', null, XMLDB_NOTNULL, null, null, 'nextdeadline'),
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

    if ($oldversion < 2026120700) {
        // The award column as install.xml now declares it: CHAR NOT NULL with no '' default,
        // which XMLDB refuses with a warning (the database default stays '', XMLDB's own).
        $table = new xmldb_table('local_cetadsync_progress');
        $dbman->change_field_default(
            $table,
            new xmldb_field('award', XMLDB_TYPE_CHAR, '255', null, XMLDB_NOTNULL, null, null, 'nextdeadline')
        );
        // The worker writes profile values and sends messages through the plugin now: the
        // role loses what only the by-hand path needs (writing any account, reading every chat).
        local_cetadsync_upgrade_2026120700_role();
        // Students could edit their own progression status: the fields are locked.
        local_cetadsync_upgrade_2026120700_fields();
        upgrade_plugin_savepoint(true, 2026120700, 'local', 'cetadsync');
    }

    return true;
}
