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
 * local_cetadsync_send_notifications: plain text in, escaped HTML stored, local links only.
 *
 * @package    local_cetadsync
 * @category   external
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\send_notifications
 * @covers     \local_cetadsync\local\notifier
 */
final class send_notifications_test extends \externallib_advanced_testcase {
    /**
     * Call the function as the current user and clean its answer as the web service would.
     *
     * @param array $notifications
     * @return array[] the results
     */
    private function call(array $notifications): array {
        $answer = send_notifications::execute($notifications);
        return external_api::clean_returnvalue(send_notifications::execute_returns(), $answer)['results'];
    }

    /**
     * Log in as an integration user lacking the given capabilities.
     *
     * @param string[] $without
     * @return \stdClass the user
     */
    private function login(array $without = []): \stdClass {
        $user = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_integration_user($without);
        $this->setUser($user);
        return $user;
    }

    /**
     * One notification as the worker sends it: plain text only.
     *
     * @param string $key
     * @param int $touserid
     * @param array $more other fields
     * @return array
     */
    private static function note(string $key, int $touserid, array $more = []): array {
        return $more + ['idempotencykey' => $key, 'provider' => 'studentreminder', 'touserid' => $touserid,
            'subject' => 'Essay due on Friday', 'fullmessage' => "Dear Ann,\n\nYour essay is due on Friday.",
            'smallmessage' => 'Essay due Friday'];
    }

    /**
     * Script and event handlers in the text are stored escaped in Moodle's notifications: the HTML
     * is the server's, built from the plain text.
     */
    public function test_the_stored_html_is_the_text_escaped(): void {
        global $DB;
        $this->resetAfterTest();
        $sink = $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();
        $text = "Hello <script>alert('x')</script>\n<img src=x onerror=alert(1)> & \"bye\"";

        [$result] = $this->call([self::note('xss-1', $student->id, ['fullmessage' => $text])]);

        $this->assertSame(['sent', false, ''], [$result['status'], $result['duplicate'], $result['errorcode']]);
        $stored = $DB->get_record('notifications', ['id' => $result['messageid']], '*', MUST_EXIST);
        $this->assertSame(
            "Hello &lt;script&gt;alert(&#039;x&#039;)&lt;/script&gt;<br />\n"
                . '&lt;img src=x onerror=alert(1)&gt; &amp; &quot;bye&quot;',
            $stored->fullmessagehtml
        );
        $this->assertSame($text, $stored->fullmessage);
        $this->assertSame((string)FORMAT_PLAIN, (string)$stored->fullmessageformat);
        $this->assertCount(1, $sink->get_messages());
    }

    /**
     * Moodle refuses a key a function does not declare: caller HTML cannot even be sent.
     */
    public function test_caller_html_is_refused(): void {
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();
        $this->expectException(\invalid_parameter_exception::class);
        send_notifications::execute([self::note('html-1', $student->id, ['fullmessagehtml' => '<p>hi</p>'])]);
    }

    /**
     * Links into the site become clickable; others stay text.
     */
    public function test_links_into_the_site_become_clickable_and_no_others(): void {
        global $CFG, $DB;
        $this->resetAfterTest();
        $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();
        $local = $CFG->wwwroot . '/mod/assign/view.php?id=3&action=view';
        $text = "Open the assignment: $local.\nNot this: https://evil.example/login";

        [$result] = $this->call([self::note('link-1', $student->id, ['fullmessage' => $text])]);

        $html = $DB->get_field('notifications', 'fullmessagehtml', ['id' => $result['messageid']]);
        $escaped = s($local);
        $this->assertStringContainsString("<a href=\"$escaped\">$escaped</a>.", $html);
        $this->assertStringContainsString('Not this: https://evil.example/login', $html);
        $this->assertSame(1, substr_count($html, '<a '));
    }

    /**
     * A context link outside the site fails its own notification only; a local one is kept.
     */
    public function test_a_context_link_outside_the_site_fails_only_its_notification(): void {
        global $CFG, $DB;
        $this->resetAfterTest();
        $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();

        $results = $this->call([
            self::note('url-relative', $student->id, ['contexturl' => '/mod/assign/view.php?id=3', 'contexturlname' => 'Essay']),
            self::note('url-away', $student->id, ['contexturl' => 'https://evil.example/mod/assign/view.php?id=3']),
            self::note('url-script', $student->id, ['contexturl' => 'javascript:alert(1)']),
            self::note('url-absolute', $student->id, ['contexturl' => $CFG->wwwroot . '/course/view.php?id=2']),
        ]);

        $this->assertSame(
            [['sent', ''], ['failed', 'invalidcontexturl'], ['failed', 'invalidcontexturl'], ['sent', '']],
            array_map(fn($r) => [$r['status'], $r['errorcode']], $results)
        );
        $this->assertSame(
            $CFG->wwwroot . '/mod/assign/view.php?id=3',
            $DB->get_field('notifications', 'contexturl', ['id' => $results[0]['messageid']])
        );
        $this->assertFalse($DB->record_exists('local_cetadsync_sent', ['idempotencykey' => 'url-away']));
    }

    /**
     * A recipient who cannot receive notifications fails that notification only, with invaliduser.
     */
    public function test_an_unknown_deleted_suspended_or_guest_recipient_fails_with_invaliduser(): void {
        global $CFG;
        $this->resetAfterTest();
        $this->redirectMessages();
        $gen = $this->getDataGenerator();
        $active = $gen->get_plugin_generator('local_cetadsync')->create_student();
        $suspended = $gen->create_user(['suspended' => 1]);
        $deleted = $gen->create_user();
        delete_user($deleted);
        $this->login();

        $results = $this->call([
            self::note('u-unknown', 987654),
            self::note('u-deleted', $deleted->id),
            self::note('u-suspended', $suspended->id),
            self::note('u-guest', $CFG->siteguest),
            self::note('u-noreply', \core_user::NOREPLY_USER),
            self::note('u-active', $active->id),
        ]);

        $this->assertSame(
            ['invaliduser', 'invaliduser', 'invaliduser', 'invaliduser', 'invaliduser', ''],
            array_column($results, 'errorcode')
        );
        $this->assertSame('sent', $results[5]['status']);
    }

    /**
     * An unknown provider fails that notification only.
     */
    public function test_an_unknown_provider_fails_with_invalidprovider(): void {
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();

        [$result] = $this->call([self::note('p-1', $student->id, ['provider' => 'instantmessage'])]);

        $this->assertSame(['failed', 'invalidprovider'], [$result['status'], $result['errorcode']]);
    }

    /**
     * A key seen before sends nothing and answers with the original send.
     */
    public function test_a_key_seen_before_sends_nothing(): void {
        $this->resetAfterTest();
        $sink = $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();

        [$first] = $this->call([self::note('once-1', $student->id)]);
        [$again] = $this->call([self::note('once-1', $student->id, ['subject' => 'Changed'])]);

        $this->assertSame(array_merge($first, ['duplicate' => true]), $again);
        $this->assertCount(1, $sink->get_messages());
    }

    /**
     * A bad key fails the whole batch before anything is sent.
     *
     * @return array
     */
    public static function bad_keys(): array {
        return ['a dot' => ['a.b'], 'empty' => [''], 'too long' => [str_repeat('k', 129)]];
    }

    /**
     * A key outside [A-Za-z0-9_-] or of the wrong length fails the whole batch, before anything is sent.
     *
     * @dataProvider bad_keys
     * @param string $key
     */
    public function test_a_bad_key_fails_the_whole_batch(string $key): void {
        $this->resetAfterTest();
        $sink = $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login();
        try {
            $this->call([self::note('good-1', $student->id), self::note($key, $student->id)]);
            $this->fail('a bad key was accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertCount(0, $sink->get_messages());
        }
    }

    /**
     * Without the plugin capability the whole call is refused.
     */
    public function test_a_caller_without_sendnotifications_is_refused(): void {
        $this->resetAfterTest();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->login(['local/cetadsync:sendnotifications']);
        $this->expectException(\required_capability_exception::class);
        $this->call([self::note('cap-1', $student->id)]);
    }
}
