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

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/local/cetadsync/tests/fixtures/programme_scene.php');

/**
 * Each notification is offered to, and sent to, only those who can receive it: reminders to
 * students, digests to tutors, alerts to those who hold receivealerts.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\local\recipients
 * @covers     \local_cetadsync\local\notifier
 */
final class recipients_test extends \advanced_testcase {
    /**
     * The plugin's providers Moodle offers a user in her notification preferences.
     *
     * @param int $userid
     * @return string[] sorted
     */
    private static function offered(int $userid): array {
        $names = [];
        foreach (message_get_providers_for_user($userid) as $provider) {
            if ($provider->component === 'local_cetadsync') {
                $names[] = $provider->name;
            }
        }
        sort($names);
        return $names;
    }

    /**
     * A student is offered reminders only; a teacher the digest; a manager the digest and the alert.
     */
    public function test_each_provider_is_offered_to_those_who_can_receive_it(): void {
        $this->resetAfterTest();
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $this->assertSame(['studentreminder'], self::offered($scene->id('ann')));
        $this->assertSame(['tutordigest'], self::offered($scene->id('nora')));
        $this->assertSame([], self::offered($scene->id('nobody')));
        $this->assertSame(['adminalert', 'tutordigest'], self::offered($scene->id('manager')));
        foreach (['ann', 'nora', 'nobody', 'manager', 'leader'] as $who) {
            foreach (notifier::PROVIDERS as $provider) {
                $this->assertSame(
                    in_array($provider, self::offered($scene->id($who)), true),
                    recipients::may_receive($scene->id($who), $provider),
                    "$who $provider"
                );
            }
        }
    }

    /**
     * A digest or an alert to a student fails with notarecipient, nothing stored; the others go.
     */
    public function test_a_digest_to_a_student_is_refused_and_the_rest_are_sent(): void {
        global $DB;
        $this->resetAfterTest();
        $this->preventResetByRollback(); // Messaging sends after the transaction.
        $scene = new \local_cetadsync_programme_scene($this->getDataGenerator());
        $sink = $this->redirectMessages();
        $note = fn(string $key, string $who, string $provider) => ['idempotencykey' => $key, 'provider' => $provider,
            'touserid' => $scene->id($who), 'subject' => 'S', 'fullmessage' => 'F', 'fullmessagehtml' => '<p>F</p>',
            'smallmessage' => 'S', 'contexturl' => '', 'contexturlname' => '', 'courseid' => 0];
        $results = [
            notifier::send($note('k-digest-ann', 'ann', 'tutordigest')),
            notifier::send($note('k-alert-ann', 'ann', 'adminalert')),
            notifier::send($note('k-reminder-ann', 'ann', 'studentreminder')),
            notifier::send($note('k-digest-nora', 'nora', 'tutordigest')),
            notifier::send($note('k-alert-manager', 'manager', 'adminalert')),
        ];
        $this->assertSame(['failed', 'failed', 'sent', 'sent', 'sent'], array_column($results, 'status'));
        $this->assertSame(['notarecipient', 'notarecipient', '', '', ''], array_column($results, 'errorcode'));
        $this->assertFalse($DB->record_exists(notifier::TABLE, ['idempotencykey' => 'k-digest-ann']));
        $this->assertSame(3, $sink->count());
    }
}
