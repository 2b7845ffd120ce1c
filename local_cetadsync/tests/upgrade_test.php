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

namespace local_cetadsync;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->libdir . '/upgradelib.php');
require_once($CFG->dirroot . '/local/cetadsync/db/upgrade.php');

/**
 * Upgrade from the schema and the site earlier versions left: each step once, no XMLDB warning.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     ::xmldb_local_cetadsync_upgrade
 */
final class upgrade_test extends \advanced_testcase {
    /** @var string[] The role 2026120401's cli/setup.php made: the by-hand path's and the plugin's. */
    private const OLD_ROLE = ['local/cetadsync:readdates', 'local/cetadsync:readenrolments', 'local/cetadsync:readrecords',
        'local/cetadsync:saveprogression', 'local/cetadsync:sendnotifications', 'mod/assign:grade', 'mod/assign:view',
        'mod/assign:viewgrades', 'moodle/course:view', 'moodle/course:viewhiddencourses', 'moodle/course:viewparticipants',
        'moodle/course:viewsuspendedusers', 'moodle/site:accessallgroups', 'moodle/site:readallmessages',
        'moodle/site:sendmessage', 'moodle/site:viewfullnames', 'moodle/site:viewuseridentity', 'moodle/user:update',
        'moodle/user:viewalldetails', 'moodle/user:viewdetails', 'webservice/rest:use'];

    /** @var string[] The page columns 2026120400 added. */
    private const PAGE_COLUMNS = ['award', 'awardcredits', 'priorcredits', 'priorcap', 'urgency', 'latework', 'detail'];

    /**
     * The site as an earlier version left it: its role on an integration user, fields a student
     * could edit and everyone could see (as Part 1 by hand made them), a progression record.
     *
     * @param int $version
     * @return int the role id
     */
    private function site_at(int $version): int {
        global $DB;
        $this->setAdminUser();
        $roleid = create_role('CETAD Sync integration', 'cetadsyncworker', '');
        foreach (self::OLD_ROLE as $capability) {
            assign_capability($capability, CAP_ALLOW, $roleid, \context_system::instance()->id);
        }
        role_assign($roleid, $this->getDataGenerator()->create_user()->id, \context_system::instance()->id);
        $DB->set_field('user_info_field', 'locked', 0, []);
        $DB->set_field('user_info_field', 'visible', 2, []);
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')
            ->create_progress(['userid' => $this->getDataGenerator()->create_user()->id]);
        set_config('version', $version, 'local_cetadsync');
        return $roleid;
    }

    /**
     * The capabilities the role allows.
     *
     * @param int $roleid
     * @return string[]
     */
    private function allowed(int $roleid): array {
        global $DB;
        $caps = $DB->get_fieldset_select(
            'role_capabilities',
            'capability',
            'roleid = ? AND permission = ?',
            [$roleid, CAP_ALLOW]
        );
        sort($caps);
        return $caps;
    }

    /**
     * From 2026120401: the role loses what only the by-hand path needs and gains enrolreview, the fields are locked and
     * seen by the user and her teachers, the record and the award column are as install makes them.
     */
    public function test_from_2026120401_the_role_is_cut_and_the_fields_locked(): void {
        global $DB;
        $this->resetAfterTest();
        $roleid = $this->site_at(2026120401);
        $this->assertTrue(xmldb_local_cetadsync_upgrade(2026120401));

        $this->assertEquals(2026120700, get_config('local_cetadsync', 'version'));
        $expected = array_merge(array_diff(self::OLD_ROLE, ['moodle/site:readallmessages', 'moodle/site:sendmessage',
            'moodle/user:update']), ['moodle/course:enrolreview']);
        sort($expected);
        $this->assertSame($expected, $this->allowed($roleid));
        $this->assertSame(\local_cetadsync\local\integration::capabilities(), $this->allowed($roleid));
        $fields = $DB->get_records_list('user_info_field', 'shortname', ['cetad_progression', 'cetad_credits']);
        $this->assertEquals([[1, 3], [1, 3]], array_values(array_map(fn($f) => [(int)$f->locked, (int)$f->visible], $fields)));
        $this->assertSame(1, $DB->count_records('local_cetadsync_progress'));
        $award = $DB->get_columns('local_cetadsync_progress')['award'];
        $this->assertSame([true, true, ''], [$award->not_null, $award->has_default, $award->default_value]);
    }

    /**
     * From before the page columns: they come back around the stored record without an XMLDB
     * warning (a test fails on any debugging), readrecords is given once, a lost field is made again.
     */
    public function test_from_2026110100_the_columns_and_a_lost_field_come_back(): void {
        global $DB;
        $this->resetAfterTest();
        $roleid = $this->site_at(2026110100);
        unassign_capability('local/cetadsync:readrecords', $roleid);
        $DB->delete_records('user_info_field', ['shortname' => 'cetad_credits']);
        $dbman = $DB->get_manager();
        $table = new \xmldb_table('local_cetadsync_progress');
        $dbman->drop_index($table, new \xmldb_index('courseurgency', XMLDB_INDEX_NOTUNIQUE, ['courseid', 'urgency']));
        try {
            foreach (self::PAGE_COLUMNS as $name) {
                $dbman->drop_field($table, new \xmldb_field($name));
            }
            $this->assertTrue(xmldb_local_cetadsync_upgrade(2026110100));
        } finally {
            $this->restore_page_columns();
        }
        $this->assertSame([], array_diff(self::PAGE_COLUMNS, array_keys($DB->get_columns('local_cetadsync_progress'))));
        $this->assertSame(1, $DB->count_records('local_cetadsync_progress'));
        $this->assertContains('local/cetadsync:readrecords', $this->allowed($roleid));
        $this->assertEquals(1, $DB->get_field('user_info_field', 'locked', ['shortname' => 'cetad_credits']));
    }

    /**
     * An upgrade with no step for this site changes nothing an administrator chose: a capability
     * taken from the role stays taken, a field's visibility stays as set.
     */
    public function test_a_later_upgrade_undoes_no_deliberate_change(): void {
        global $DB;
        $this->resetAfterTest();
        $roleid = $this->site_at(2026120401);
        xmldb_local_cetadsync_upgrade(2026120401);
        unassign_capability('local/cetadsync:readrecords', $roleid);
        $DB->set_field('user_info_field', 'visible', 1, ['shortname' => 'cetad_credits']);
        $this->assertTrue(xmldb_local_cetadsync_upgrade(2026120700));
        $this->assertNotContains('local/cetadsync:readrecords', $this->allowed($roleid));
        $this->assertEquals(1, $DB->get_field('user_info_field', 'visible', ['shortname' => 'cetad_credits']));
    }

    /**
     * Put back whatever page column a failed test left dropped, so later tests meet the real table.
     */
    private function restore_page_columns(): void {
        global $CFG, $DB;
        $dbman = $DB->get_manager();
        $structure = new \xmldb_file($CFG->dirroot . '/local/cetadsync/db/install.xml');
        $structure->loadXMLStructure();
        $table = $structure->getStructure()->getTable('local_cetadsync_progress');
        foreach (self::PAGE_COLUMNS as $name) {
            if (!$dbman->field_exists($table, $table->getField($name))) {
                $dbman->add_field($table, $table->getField($name));
            }
        }
        $index = $table->getIndex('courseurgency');
        if (!$dbman->index_exists($table, $index)) {
            $dbman->add_index($table, $index);
        }
    }
}
