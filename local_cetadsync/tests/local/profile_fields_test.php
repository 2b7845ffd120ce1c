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
 * The progression fields are made and fixed through Moodle's profile API.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\profile_fields
 */
final class profile_fields_test extends \advanced_testcase {
    /**
     * A missing field is created through the API (its event fires), locked, seen by the user and
     * her teachers, in the category of the other field.
     */
    public function test_a_missing_field_is_created_through_the_profile_api(): void {
        global $DB;
        $this->resetAfterTest();
        $category = $DB->get_field('user_info_field', 'categoryid', ['shortname' => 'cetad_progression']);
        $DB->delete_records('user_info_field', ['shortname' => 'cetad_credits']);
        $sink = $this->redirectEvents();
        $this->assertSame(['created' => ['cetad_credits'], 'locked' => [], 'visibility' => []], profile_fields::ensure());
        $created = array_filter($sink->get_events(), fn($e) => $e instanceof \core\event\user_info_field_created);
        $this->assertCount(1, $created);
        $field = $DB->get_record('user_info_field', ['shortname' => 'cetad_credits']);
        $this->assertSame(
            [1, 3, (int)$category, 'text'],
            [(int)$field->locked, (int)$field->visible, (int)$field->categoryid, $field->datatype]
        );
    }

    /**
     * After a language change (the category's name is not the translated string any more), both
     * fields made again go into the category the plugin made, not a new one.
     */
    public function test_a_renamed_category_is_found_by_its_id_not_its_name(): void {
        global $DB;
        $this->resetAfterTest();
        $category = (int)$DB->get_field('user_info_field', 'categoryid', ['shortname' => 'cetad_progression']);
        $DB->set_field('user_info_category', 'name', 'Progression de programme', ['id' => $category]);
        $DB->delete_records('user_info_field', ['shortname' => 'cetad_progression']);
        $DB->delete_records('user_info_field', ['shortname' => 'cetad_credits']);
        $categories = $DB->count_records('user_info_category');
        profile_fields::ensure();
        $this->assertSame($categories, $DB->count_records('user_info_category'));
        $this->assertEquals([$category], array_values(array_unique($DB->get_fieldset_select(
            'user_info_field',
            'categoryid',
            "shortname IN ('cetad_progression', 'cetad_credits')"
        ))));
    }

    /**
     * Fields made by hand before (Part 1 by hand): editable by the user and shown to everyone,
     * they are locked and shown to the user and her teachers, through the API, and said.
     */
    public function test_existing_fields_made_by_hand_are_locked(): void {
        global $DB;
        $this->resetAfterTest();
        $DB->set_field('user_info_field', 'locked', 0, []);
        $DB->set_field('user_info_field', 'visible', 2, ['shortname' => 'cetad_credits']);
        $sink = $this->redirectEvents();
        $done = profile_fields::ensure();
        $this->assertSame(['created' => [], 'locked' => ['cetad_progression', 'cetad_credits'],
            'visibility' => ['cetad_credits' => 2]], $done);
        $updated = array_filter($sink->get_events(), fn($e) => $e instanceof \core\event\user_info_field_updated);
        $this->assertCount(2, $updated);
        $this->assertEquals([[1, 3], [1, 3]], array_map(
            fn($f) => [(int)$f->locked, (int)$f->visible],
            array_values($DB->get_records_list('user_info_field', 'shortname', ['cetad_progression', 'cetad_credits']))
        ));
        $this->assertSame(['created' => [], 'locked' => [], 'visibility' => []], profile_fields::ensure());
    }
}
