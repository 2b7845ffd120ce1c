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
 * What cli/setup.php does, and what it refuses.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\setup
 * @covers     \local_cetadsync\local\integration
 */
final class setup_test extends \advanced_testcase {
    /** @var string[] What the last run said. */
    private array $said = [];

    /**
     * Run setup as the CLI does (as the administrator) with these options.
     *
     * @param array $options
     * @return string|null the token
     */
    private function run_setup(array $options): ?string {
        $this->setAdminUser();
        $this->said = [];
        return (new setup($options, function (string $line) {
            $this->said[] = $line;
        }))->run();
    }

    /**
     * Whether a line said so far contains $text.
     *
     * @param string $text
     * @return bool
     */
    private function said(string $text): bool {
        return (bool)array_filter($this->said, fn($line) => str_contains($line, $text));
    }

    /**
     * The refusal's error code, after checking nothing was made.
     *
     * @param array $options
     * @return string
     */
    private function refusal(array $options): string {
        global $DB;
        $before = [$DB->count_records('role'), $DB->count_records('external_tokens'), $DB->count_records('user')];
        try {
            $this->run_setup($options);
        } catch (\moodle_exception $e) {
            $this->assertSame($before, [$DB->count_records('role'), $DB->count_records('external_tokens'),
                $DB->count_records('user')], 'a refusal changed nothing');
            return $e->errorcode;
        }
        $this->fail('setup was not refused');
    }

    /**
     * The capabilities the integration role holds.
     *
     * @return string[]
     */
    private function role_capabilities(): array {
        global $DB;
        $caps = $DB->get_fieldset_select(
            'role_capabilities',
            'capability',
            'roleid = ? AND permission = ?',
            [integration::role_id(), CAP_ALLOW]
        );
        sort($caps);
        return $caps;
    }

    /**
     * A new integration user: web-service authentication, the role with exactly the plugin path's
     * capabilities (neither moodle/user:update nor moodle/site:readallmessages), a token.
     */
    public function test_a_new_user_gets_web_service_authentication_the_exact_role_and_a_token(): void {
        global $CFG, $DB;
        $this->resetAfterTest();
        set_config('auth', '');
        set_config('enablewebservices', 0);
        set_config('webserviceprotocols', '');
        $token = $this->run_setup(['username' => 'Cetad_Sync']);
        $user = integration::find_user('cetad_sync');
        $this->assertSame('webservice', $user->auth);
        $this->assertSame(AUTH_PASSWORD_NOT_CACHED, $user->password, 'no password to log in with');
        $this->assertTrue($this->said('Enabled the Web services authentication plugin'));
        $this->assertStringContainsString('webservice', $CFG->auth);
        $this->assertSame(['1', '1', '1'], [$CFG->enablewebservices, get_config('local_cetadsync', 'setupenabledwebservices'),
            get_config('local_cetadsync', 'setupenabledrest')]);
        $this->assertSame(integration::capabilities(), $this->role_capabilities());
        $this->assertNotContains('moodle/user:update', $this->role_capabilities());
        $this->assertNotContains('moodle/site:readallmessages', $this->role_capabilities());
        $this->assertTrue(integration::holds_role($user->id));
        $this->assertSame((int)$user->id, (int)$DB->get_field('external_tokens', 'userid', ['token' => $token]));
        $this->assertTrue($this->said('works from any address and never expires'));
    }

    /**
     * The site administrator, or any other, is refused: a token for it could do anything.
     */
    public function test_a_site_administrator_is_refused(): void {
        global $CFG;
        $this->resetAfterTest();
        $this->assertSame('setupadmin', $this->refusal(['username' => 'admin']));
        $other = $this->getDataGenerator()->create_user(['username' => 'second_admin']);
        set_config('siteadmins', $CFG->siteadmins . ',' . $other->id);
        $this->assertSame('setupadmin', $this->refusal(['username' => 'second_admin', 'useexistingaccount' => true]));
        $this->assertSame('setupadmin', $this->refusal(['username' => 'guest', 'useexistingaccount' => true]));
    }

    /**
     * An existing teacher's account is refused unless asked for, and then every role it keeps is said.
     */
    public function test_an_existing_account_is_used_only_when_asked_and_its_roles_are_said(): void {
        global $DB;
        $this->resetAfterTest();
        $teacher = $this->getDataGenerator()->create_user(['username' => 'tutor']);
        $course = $this->getDataGenerator()->create_course(['fullname' => 'Leading practice']);
        $this->getDataGenerator()->enrol_user($teacher->id, $course->id, 'editingteacher');
        $this->assertSame('setupexisting', $this->refusal(['username' => 'tutor']));
        $this->assertFalse(integration::holds_role($teacher->id));

        $this->assertNotNull($this->run_setup(['username' => 'tutor', 'useexistingaccount' => true]));
        $this->assertTrue($this->said('It keeps every role it has'));
        $this->assertTrue($this->said('(editingteacher) in Course: Leading practice'));
        $this->assertTrue($this->said("uses 'manual' authentication"));
        $this->assertTrue(integration::holds_role($teacher->id));
        $this->assertSame('manual', $DB->get_field('user', 'auth', ['id' => $teacher->id]));
        // Now it is the integration user: found, not refused, no new token.
        $this->assertNull($this->run_setup(['username' => 'tutor']));
        $this->assertTrue($this->said('Found user tutor'));
    }

    /**
     * Run again: nothing new, no token shown; a role an administrator widened is made exact again.
     */
    public function test_running_again_issues_no_token_and_keeps_the_role_exact(): void {
        $this->resetAfterTest();
        $this->run_setup(['username' => 'cetad_sync']);
        $system = \context_system::instance();
        assign_capability('moodle/user:update', CAP_ALLOW, integration::role_id(), $system->id);
        $this->assertNull($this->run_setup(['username' => 'cetad_sync']));
        $this->assertTrue($this->said('A token exists already'));
        $this->assertTrue($this->said('Role: removed moodle/user:update'));
        $this->assertSame(integration::capabilities(), $this->role_capabilities());
    }

    /**
     * --new-token keeps the older tokens unless --revoke-old-tokens; revoking needs a new token.
     */
    public function test_a_new_token_can_revoke_the_older_ones(): void {
        global $DB;
        $this->resetAfterTest();
        $first = $this->run_setup(['username' => 'cetad_sync']);
        $second = $this->run_setup(['username' => 'cetad_sync', 'newtoken' => true]);
        $this->assertTrue($this->said('1 older token(s)'));
        $this->assertTrue($DB->record_exists('external_tokens', ['token' => $first]));
        $this->assertSame('setuprevokeneedsnew', $this->refusal(['username' => 'cetad_sync', 'revokeoldtokens' => true]));
        $third = $this->run_setup(['username' => 'cetad_sync', 'newtoken' => true, 'revokeoldtokens' => true]);
        $this->assertTrue($this->said('Revoked 2 older token(s)'));
        $this->assertSame([$third], array_values($DB->get_fieldset_select(
            'external_tokens',
            'token',
            'userid = ?',
            [integration::find_user('cetad_sync')->id]
        )));
        $this->assertNotEquals($second, $third);
    }

    /**
     * A token restricted to an address and a date carries both; a date already past is refused.
     */
    public function test_a_token_can_be_restricted_by_address_and_expiry(): void {
        global $DB;
        $this->resetAfterTest();
        $until = time() + 30 * DAYSECS;
        $token = $this->run_setup(['username' => 'cetad_sync', 'iprestriction' => '192.0.2.10', 'validuntil' => $until]);
        $row = $DB->get_record('external_tokens', ['token' => $token]);
        $this->assertSame(['192.0.2.10', $until], [$row->iprestriction, (int)$row->validuntil]);
        $this->assertFalse($this->said('never expires'));
        $this->assertSame('setupexpired', $this->refusal(['username' => 'cetad_sync', 'newtoken' => true,
            'validuntil' => time() - 1]));
    }

    /**
     * Fields a student could edit (made by hand before) are locked, and it is said.
     */
    public function test_setup_locks_fields_a_student_could_edit(): void {
        global $DB;
        $this->resetAfterTest();
        $DB->set_field('user_info_field', 'locked', 0, ['shortname' => 'cetad_progression']);
        $this->run_setup(['username' => 'cetad_sync']);
        $this->assertTrue($this->said('Locked profile field cetad_progression'));
        $this->assertEquals(1, $DB->get_field('user_info_field', 'locked', ['shortname' => 'cetad_progression']));
    }

    /**
     * Web services, REST and web-service authentication already on are left as they were, and
     * setup records nothing for uninstall to turn off.
     */
    public function test_what_was_on_already_is_not_recorded_as_setups(): void {
        $this->resetAfterTest();
        set_config('enablewebservices', 1);
        set_config('webserviceprotocols', 'rest');
        set_config('auth', 'webservice');
        $this->run_setup(['username' => 'cetad_sync']);
        $this->assertFalse($this->said('Enabled'));
        foreach (setup::TURNED_ON as $config) {
            $this->assertFalse(get_config('local_cetadsync', $config));
        }
    }
}
