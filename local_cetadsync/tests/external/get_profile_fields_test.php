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

use core_external\external_api;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/webservice/tests/helpers.php');

/**
 * local_cetadsync_get_profile_fields tells moodle-sync check whether each progression field
 * exists, is locked and who sees it.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\get_profile_fields
 */
final class get_profile_fields_test extends \externallib_advanced_testcase {
    /**
     * The answer as REST gives it, keyed by shortname.
     *
     * @return array
     */
    private function fields(): array {
        $answer = external_api::clean_returnvalue(get_profile_fields::execute_returns(), get_profile_fields::execute());
        return array_column($answer['fields'], null, 'shortname');
    }

    /**
     * As installed: both fields, locked, seen by the user and her teachers.
     */
    public function test_the_installed_fields_are_locked_and_seen_by_the_user_and_teachers(): void {
        $this->resetAfterTest();
        $this->setUser($this->getDataGenerator()->create_user());
        $this->assignUserCapability('local/cetadsync:saveprogression', \context_system::instance()->id);
        $fields = $this->fields();
        $this->assertSame(['cetad_progression', 'cetad_credits'], array_keys($fields));
        $this->assertSame(
            ['setting' => 'progressionfield', 'shortname' => 'cetad_progression', 'exists' => true,
            'name' => 'Progression status', 'datatype' => 'text', 'locked' => true, 'visible' => 3],
            $fields['cetad_progression']
        );
    }

    /**
     * A field unlocked by hand, one shown to everyone and one missing are told as they are.
     */
    public function test_an_unlocked_a_public_and_a_missing_field_are_told(): void {
        global $DB;
        $this->resetAfterTest();
        $this->setUser($this->getDataGenerator()->create_user());
        $this->assignUserCapability('local/cetadsync:saveprogression', \context_system::instance()->id);
        $DB->set_field('user_info_field', 'locked', 0, ['shortname' => 'cetad_progression']);
        $DB->set_field('user_info_field', 'visible', 2, ['shortname' => 'cetad_progression']);
        set_config('creditsfield', 'no_such_field', 'local_cetadsync');
        $fields = $this->fields();
        $this->assertSame([false, 2], [$fields['cetad_progression']['locked'], $fields['cetad_progression']['visible']]);
        $this->assertSame(['creditsfield', false, ''], [$fields['no_such_field']['setting'],
            $fields['no_such_field']['exists'], $fields['no_such_field']['datatype']]);
    }

    /**
     * Without the plugin's capability the call is refused.
     */
    public function test_requires_the_capability(): void {
        $this->resetAfterTest();
        $this->setUser($this->getDataGenerator()->create_user());
        $this->expectException(\required_capability_exception::class);
        get_profile_fields::execute();
    }
}
