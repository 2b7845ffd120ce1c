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
require_once($CFG->dirroot . '/local/cetadsync/db/install.php');

/**
 * Install: no XMLDB warning, and fields a site made by hand before are adopted and locked.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     ::xmldb_local_cetadsync_install
 */
final class install_test extends \advanced_testcase {
    /**
     * Moodle reads install.xml without a warning (a CHAR NOT NULL with a '' default is one, and
     * fails core's privacy test_table_coverage on a site with the plugin): any debugging fails a test.
     */
    public function test_install_xml_loads_without_an_xmldb_warning(): void {
        global $CFG;
        $file = new \xmldb_file($CFG->dirroot . '/local/cetadsync/db/install.xml');
        $this->assertTrue($file->loadXMLStructure());
        $this->assertTrue($file->isLoaded());
        $this->assertDebuggingNotCalled();
    }

    /**
     * Fields made by hand (Part 1 by hand: category "CETAD", editable, shown to everyone) are
     * kept, locked and shown only to the user and her teachers; no field or category is added.
     */
    public function test_install_on_a_site_with_fields_made_by_hand_locks_them(): void {
        global $DB;
        $this->resetAfterTest();
        $category = $this->getDataGenerator()->create_custom_profile_field_category(['name' => 'CETAD']);
        $DB->set_field('user_info_field', 'categoryid', $category->id, []);
        $DB->set_field('user_info_field', 'locked', 0, []);
        $DB->set_field('user_info_field', 'visible', 2, []);
        unset_config('fieldcategory', 'local_cetadsync');
        $before = [$DB->count_records('user_info_field'), $DB->count_records('user_info_category')];
        $this->assertTrue(xmldb_local_cetadsync_install());
        $this->assertSame($before, [$DB->count_records('user_info_field'), $DB->count_records('user_info_category')]);
        foreach ($DB->get_records_list('user_info_field', 'shortname', ['cetad_progression', 'cetad_credits']) as $field) {
            $this->assertSame([1, 3, (int)$category->id], [(int)$field->locked, (int)$field->visible, (int)$field->categoryid]);
        }
    }
}
