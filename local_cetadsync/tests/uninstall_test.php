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

use local_cetadsync\local\integration;
use local_cetadsync\local\setup;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/local/cetadsync/db/uninstall.php');

/**
 * Uninstall takes away the power setup gave, and leaves what others still use.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     ::xmldb_local_cetadsync_uninstall
 * @covers     ::local_cetadsync_uninstall_turn_off
 */
final class uninstall_test extends \advanced_testcase {
    /**
     * A site set up by cli/setup.php from nothing on: web services, REST, web-service
     * authentication and the mobile app service off before; two tokens for the integration user.
     *
     * @return \stdClass the integration user
     */
    private function set_up_from_nothing(): \stdClass {
        $this->setAdminUser();
        set_config('enablewebservices', 0);
        set_config('webserviceprotocols', '');
        set_config('auth', '');
        set_config('enablemobilewebservice', 0);
        $options = ['username' => 'cetad_sync'];
        (new setup($options, fn() => null))->run();
        (new setup($options + ['newtoken' => true], fn() => null))->run();
        return integration::find_user('cetad_sync');
    }

    /**
     * The role and its assignment, the service's tokens, authorised users and every function row
     * go; web services, REST and web-service authentication, which setup turned on, go off; the
     * profile fields and their values stay.
     */
    public function test_uninstall_removes_the_role_tokens_and_service_and_turns_off_what_setup_turned_on(): void {
        global $CFG, $DB;
        $this->resetAfterTest();
        $user = $this->set_up_from_nothing();
        $service = $DB->get_record('external_services', ['shortname' => integration::SERVICE]);
        $roleid = integration::role_id();
        $this->assertTrue($DB->record_exists('external_services_functions', ['externalserviceid' => $service->id,
            'functionname' => 'core_webservice_get_site_info']));
        $fields = $DB->count_records('user_info_field');

        $this->assertTrue(xmldb_local_cetadsync_uninstall());

        $this->assertFalse($DB->record_exists('role', ['id' => $roleid]));
        $this->assertFalse($DB->record_exists('role_assignments', ['roleid' => $roleid]));
        $this->assertFalse($DB->record_exists('role_capabilities', ['roleid' => $roleid]));
        foreach (['external_tokens', 'external_services_users', 'external_services_functions'] as $table) {
            $this->assertSame(0, $DB->count_records($table, ['externalserviceid' => $service->id]), $table);
        }
        $this->assertFalse($DB->record_exists('external_tokens', ['userid' => $user->id]));
        $this->assertEquals(0, $CFG->enablewebservices);
        $this->assertStringNotContainsString('rest', $CFG->webserviceprotocols);
        $this->assertStringNotContainsString('webservice', $CFG->auth);
        $this->assertSame($fields, $DB->count_records('user_info_field'));
        $this->assertTrue($DB->record_exists('user', ['id' => $user->id, 'deleted' => 0]));
    }

    /**
     * Another service's token, or the mobile app, still needs web services and REST: they stay
     * on; another web-service account keeps web-service authentication on.
     */
    public function test_what_something_else_uses_stays_on(): void {
        global $CFG, $DB;
        $this->resetAfterTest();
        $this->set_up_from_nothing();
        $other = $this->getDataGenerator()->create_user(['auth' => 'webservice']);
        $serviceid = $DB->insert_record('external_services', ['name' => 'Other', 'shortname' => 'other', 'enabled' => 1,
            'restrictedusers' => 0, 'timecreated' => time()]);
        \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $DB->get_record(
            'external_services',
            ['id' => $serviceid]
        ), $other->id, \context_system::instance());

        xmldb_local_cetadsync_uninstall();

        $this->assertEquals(1, $CFG->enablewebservices);
        $this->assertStringContainsString('rest', $CFG->webserviceprotocols);
        $this->assertStringContainsString('webservice', $CFG->auth);
    }

    /**
     * The mobile app service (on by default on an https site) needs web services and REST.
     */
    public function test_the_mobile_app_keeps_web_services_on(): void {
        global $CFG;
        $this->resetAfterTest();
        $this->set_up_from_nothing();
        set_config('enablemobilewebservice', 1);
        xmldb_local_cetadsync_uninstall();
        $this->assertEquals(1, $CFG->enablewebservices);
        $this->assertStringContainsString('rest', $CFG->webserviceprotocols);
    }

    /**
     * Web services that were on before setup stay on after uninstall, with nothing else using them.
     */
    public function test_web_services_on_before_setup_stay_on(): void {
        global $CFG;
        $this->resetAfterTest();
        $this->setAdminUser();
        set_config('enablewebservices', 1);
        set_config('webserviceprotocols', 'rest');
        set_config('enablemobilewebservice', 0);
        (new setup(['username' => 'cetad_sync'], fn() => null))->run();
        xmldb_local_cetadsync_uninstall();
        $this->assertEquals(1, $CFG->enablewebservices);
        $this->assertSame('rest', $CFG->webserviceprotocols);
    }
}
