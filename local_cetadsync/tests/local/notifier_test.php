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
 * Notifications at most once per key, from plain text only.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\notifier
 */
final class notifier_test extends \advanced_testcase {
    /**
     * One validated send_notifications item.
     *
     * @param string $key
     * @param int $userid
     * @return array
     */
    private static function item(string $key, int $userid): array {
        return ['idempotencykey' => $key, 'provider' => 'studentreminder', 'touserid' => $userid, 'subject' => 'Due',
            'fullmessage' => 'Your essay is due.', 'smallmessage' => 'Due', 'contexturl' => '', 'contexturlname' => '',
            'courseid' => 0];
    }

    /**
     * The second send of a key sends nothing and answers with the first.
     */
    public function test_a_key_is_sent_once(): void {
        global $DB;
        $this->resetAfterTest();
        $sink = $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();

        $first = notifier::send(self::item('k-1', $student->id));
        $again = notifier::send(self::item('k-1', $student->id));

        $this->assertSame(['sent', false], [$first['status'], $first['duplicate']]);
        $this->assertSame(['sent', true, $first['messageid']], [$again['status'], $again['duplicate'], $again['messageid']]);
        $this->assertCount(1, $sink->get_messages());
        $this->assertSame('sent', $DB->get_field(notifier::TABLE, 'status', ['idempotencykey' => 'k-1']));
    }

    /**
     * A send Moodle refuses leaves nothing stored: the key is free to be tried again.
     */
    public function test_a_failed_send_frees_the_key(): void {
        global $DB;
        $this->resetAfterTest();
        $sink = $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        set_config('local_cetadsync_studentreminder_disable', 1, 'message');

        $failed = notifier::send(self::item('k-2', $student->id));

        $this->assertSame(['failed', 'messagenotsent', 0], [$failed['status'], $failed['errorcode'], $failed['messageid']]);
        $this->assertFalse($DB->record_exists(notifier::TABLE, ['idempotencykey' => 'k-2']));
        set_config('local_cetadsync_studentreminder_disable', 0, 'message');
        $retried = notifier::send(self::item('k-2', $student->id));
        $this->assertSame(['sent', false], [$retried['status'], $retried['duplicate']]);
        $this->assertCount(1, $sink->get_messages());
    }

    /**
     * A key reserved by a request that died before recording the outcome stays in doubt: pending,
     * and nothing is sent.
     */
    public function test_a_pending_key_is_in_doubt_and_sends_nothing(): void {
        $this->resetAfterTest();
        $sink = $this->redirectMessages();
        $student = $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_student();
        $this->getDataGenerator()->get_plugin_generator('local_cetadsync')->create_sent(['userid' => $student->id,
            'idempotencykey' => 'k-3', 'status' => 'pending', 'timesent' => 0]);

        $result = notifier::send(self::item('k-3', $student->id));

        $this->assertSame(['pending', true, 0], [$result['status'], $result['duplicate'], $result['messageid']]);
        $this->assertCount(0, $sink->get_messages());
    }

    /**
     * Plain text and the HTML the server builds from it.
     *
     * @return array
     */
    public static function texts(): array {
        return [
            'tags are escaped' => ['<b onclick="x()">hi</b>', '&lt;b onclick=&quot;x()&quot;&gt;hi&lt;/b&gt;'],
            'line breaks are kept' => ["one\ntwo", "one<br />\ntwo"],
            'a local link is clickable, the full stop is not in it' => [
                'See https://www.example.com/moodle/mod/assign/view.php?id=3&a=1.',
                'See <a href="https://www.example.com/moodle/mod/assign/view.php?id=3&amp;a=1">'
                . 'https://www.example.com/moodle/mod/assign/view.php?id=3&amp;a=1</a>.',
            ],
            'another site\'s link is text' => [
                'https://www.example.com.evil.test/moodle/x',
                'https://www.example.com.evil.test/moodle/x',
            ],
            'a quote cannot leave the attribute' => ['https://www.example.com/moodle/x"onmouseover="y()',
                'https://www.example.com/moodle/x&quot;onmouseover=&quot;y()'],
        ];
    }

    /**
     * Every character the caller sends is text in the HTML.
     *
     * @dataProvider texts
     * @param string $text
     * @param string $html
     */
    public function test_the_html_is_built_from_the_text_escaped(string $text, string $html): void {
        global $CFG;
        $this->resetAfterTest();
        $this->assertSame('https://www.example.com/moodle', $CFG->wwwroot, 'the test site\'s wwwroot');
        $this->assertSame($html, notifier::html($text));
    }

    /**
     * Only links into this site are local.
     */
    public function test_only_links_into_this_site_are_local(): void {
        global $CFG;
        $this->resetAfterTest();
        $relative = notifier::local_url('/mod/assign/view.php?id=3');
        $this->assertSame($CFG->wwwroot . '/mod/assign/view.php?id=3', $relative->out(false));
        $this->assertNotNull(notifier::local_url($CFG->wwwroot . '/course/view.php?id=2'));
        foreach (
            ['', 'mod/assign/view.php', 'https://evil.example/', '//evil.example/x', 'javascript:alert(1)',
                $CFG->wwwroot . '.evil.example/x'] as $url
        ) {
            $this->assertNull(notifier::local_url($url), $url);
        }
    }
}
