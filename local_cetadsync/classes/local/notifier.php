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

use core\message\message;
use core_user;
use moodle_url;

/**
 * Sends notifications through the plugin's providers, at most once per idempotency key.
 *
 * A key is first reserved by inserting its row (the unique index makes a concurrent second
 * insert fail), then the message is sent and the row marked sent. A key already stored returns
 * the stored result and sends nothing. A failed send deletes the reservation, so the key may be
 * tried again. A row left `pending` means the process died between the two: in doubt.
 *
 * The caller sends plain text only: the HTML Moodle stores and shows is built here from it,
 * escaped, so no caller's HTML is ever stored. A context link must point into this site.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class notifier {
    /** @var string[] The message providers of db/messages.php. */
    public const PROVIDERS = ['studentreminder', 'tutordigest', 'adminalert'];

    /** @var string The table of sent notifications. */
    public const TABLE = 'local_cetadsync_sent';

    /**
     * Send one notification unless its key was seen before.
     *
     * @param array $item validated send_notifications item
     * @return array the result row of send_notifications
     */
    public static function send(array $item): array {
        global $DB;
        $existing = $DB->get_record(self::TABLE, ['idempotencykey' => $item['idempotencykey']]);
        if ($existing) {
            return self::result($existing, true);
        }
        if (!in_array($item['provider'], self::PROVIDERS)) {
            return self::failure($item['idempotencykey'], 'invalidprovider');
        }
        $user = self::recipient($item['touserid']);
        if (!$user) {
            return self::failure($item['idempotencykey'], 'invaliduser');
        }
        if ($item['contexturl'] !== '' && !self::local_url($item['contexturl'])) {
            return self::failure($item['idempotencykey'], 'invalidcontexturl');
        }
        if (!recipients::may_receive((int)$user->id, $item['provider'])) {
            return self::failure($item['idempotencykey'], 'notarecipient');
        }
        $row = (object)['idempotencykey' => $item['idempotencykey'], 'provider' => $item['provider'],
            'userid' => $user->id, 'courseid' => $item['courseid'], 'status' => 'pending',
            'messageid' => 0, 'timecreated' => time(), 'timesent' => 0];
        try {
            $row->id = $DB->insert_record(self::TABLE, $row);
        } catch (\dml_write_exception $e) {
            // Another request reserved the same key between our read and our insert.
            return self::result($DB->get_record(
                self::TABLE,
                ['idempotencykey' => $item['idempotencykey']],
                '*',
                MUST_EXIST
            ), true);
        }
        $messageid = self::message_send($item, $user);
        $errorcode = '';
        if (!$messageid) {
            // Function message_send() answers false when any output (e.g. email) failed, even though the
            // notification was stored and shown: only a stored notification is the truth.
            $messageid = self::stored_notification($item['idempotencykey'], (int)$user->id);
            $errorcode = 'outputfailed';
        }
        if (!$messageid) {
            $DB->delete_records(self::TABLE, ['id' => $row->id]);
            return self::failure($item['idempotencykey'], 'messagenotsent');
        }
        $row->status = 'sent';
        $row->messageid = $messageid;
        $row->timesent = time();
        $DB->update_record(self::TABLE, $row);
        return ['errorcode' => $errorcode] + self::result($row, false);
    }

    /**
     * The recipient, if she may receive notifications at all: an existing user, neither deleted nor
     * suspended, and not the guest.
     *
     * @param int $userid
     * @return \stdClass|null
     */
    private static function recipient(int $userid): ?\stdClass {
        $user = $userid > 0 ? core_user::get_user($userid) : false;
        if (!$user || $user->deleted || $user->suspended || isguestuser($user)) {
            return null;
        }
        return $user;
    }

    /**
     * The URL, if it points into this site: root-relative (`/mod/assign/view.php?id=3`) or under wwwroot.
     *
     * @param string $url
     * @return moodle_url|null
     */
    public static function local_url(string $url): ?moodle_url {
        global $CFG;
        if ($url === '' || clean_param($url, PARAM_LOCALURL) !== $url) {
            return null;
        }
        try {
            $local = new moodle_url($url);
        } catch (\moodle_exception $e) {
            return null;
        }
        $out = $local->out(false);
        return $out === $CFG->wwwroot || str_starts_with($out, $CFG->wwwroot . '/') ? $local : null;
    }

    /**
     * The HTML of a plain-text body: every character escaped, line breaks kept, and links into this
     * site made clickable (only those: the same rule as the context link).
     *
     * @param string $text
     * @return string
     */
    public static function html(string $text): string {
        $html = nl2br(s($text));
        return preg_replace_callback('~https?://[^\s<]*[^\s<.,;:!?)]~', function (array $match): string {
            $url = html_entity_decode($match[0], ENT_QUOTES | ENT_HTML401);
            return self::local_url($url) ? '<a href="' . $match[0] . '">' . $match[0] . '</a>' : $match[0];
        }, $html);
    }

    /**
     * The id of the notification Moodle stored for a key, 0 if none.
     *
     * @param string $key
     * @param int $userid recipient
     * @return int
     */
    private static function stored_notification(string $key, int $userid): int {
        global $DB;
        $like = $DB->sql_like('customdata', ':pattern');
        $pattern = '%' . $DB->sql_like_escape('"cetadsynckey":"' . $key . '"') . '%';
        $ids = $DB->get_fieldset_select(
            'notifications',
            'id',
            "useridto = :userid AND component = :component AND $like",
            ['userid' => $userid, 'component' => 'local_cetadsync', 'pattern' => $pattern]
        );
        return $ids ? (int)max($ids) : 0;
    }

    /**
     * Hand the message to Moodle's messaging, from the no-reply user.
     *
     * @param array $item
     * @param \stdClass $user recipient
     * @return int|false the notification id, false when Moodle did not send it
     */
    private static function message_send(array $item, \stdClass $user) {
        $message = new message();
        $message->component = 'local_cetadsync';
        $message->name = $item['provider'];
        $message->userfrom = core_user::get_noreply_user();
        $message->userto = $user;
        $message->subject = $item['subject'];
        $message->fullmessage = $item['fullmessage'];
        $message->fullmessageformat = FORMAT_PLAIN;
        $message->fullmessagehtml = self::html($item['fullmessage']);
        $message->smallmessage = $item['smallmessage'];
        $message->notification = 1;
        $message->customdata = ['cetadsynckey' => $item['idempotencykey']];
        $message->courseid = $item['courseid'] ?: SITEID;
        if ($item['contexturl'] !== '') {
            $message->contexturl = self::local_url($item['contexturl']);
            $message->contexturlname = $item['contexturlname'];
        }
        try {
            return message_send($message);
        } catch (\moodle_exception $e) {
            debugging('local_cetadsync: message_send failed: ' . $e->getMessage(), DEBUG_DEVELOPER);
            return false;
        }
    }

    /**
     * What the stored row says about a key.
     *
     * @param \stdClass $row
     * @param bool $duplicate whether this request found the key already stored
     * @return array
     */
    public static function result(\stdClass $row, bool $duplicate): array {
        return ['idempotencykey' => $row->idempotencykey, 'status' => $row->status, 'duplicate' => $duplicate,
            'messageid' => (int)$row->messageid, 'userid' => (int)$row->userid,
            'timesent' => (int)$row->timesent, 'errorcode' => ''];
    }

    /**
     * A send that did not happen; nothing stored, so the key may be tried again.
     *
     * @param string $key
     * @param string $errorcode
     * @return array
     */
    private static function failure(string $key, string $errorcode): array {
        return ['idempotencykey' => $key, 'status' => 'failed', 'duplicate' => false, 'messageid' => 0,
            'userid' => 0, 'timesent' => 0, 'errorcode' => $errorcode];
    }
}
