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

use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_cetadsync\local\notifier;

/**
 * Send a batch of notifications through the plugin's message providers, once per idempotency key.
 *
 * The caller sends plain text only; the HTML is built on the server from it, escaped (notifier::html),
 * so a token holder cannot store script in anyone's notifications. A context link outside this site,
 * or a deleted or suspended recipient, fails that notification alone.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class send_notifications extends base {
    /**
     * Parameters: the messages.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'notifications' => new external_multiple_structure(new external_single_structure([
                'idempotencykey' => new external_value(PARAM_ALPHANUMEXT, 'The worker\'s outbox key, at most 128 characters'),
                'provider' => new external_value(PARAM_ALPHA, 'studentreminder, tutordigest or adminalert'),
                'touserid' => new external_value(PARAM_INT, 'Recipient'),
                'subject' => new external_value(PARAM_TEXT, 'Subject'),
                'fullmessage' => new external_value(PARAM_RAW, 'Plain-text body; the HTML is built from it, escaped'),
                'smallmessage' => new external_value(PARAM_TEXT, 'Short text for pop-ups and mobile'),
                'contexturl' => new external_value(
                    PARAM_RAW,
                    'Link into this site to what it is about, e.g. /mod/assign/view.php?id=3; another fails the notification',
                    VALUE_DEFAULT,
                    ''
                ),
                'contexturlname' => new external_value(PARAM_TEXT, 'Name of that link', VALUE_DEFAULT, ''),
                'courseid' => new external_value(PARAM_INT, 'Course it is about, 0 = none', VALUE_DEFAULT, 0),
            ]), 'Notifications to send'),
        ]);
    }

    /**
     * Send each notification whose key was never seen; report the stored result for the others.
     *
     * @param array $notifications
     * @return array
     */
    public static function execute(array $notifications): array {
        ['notifications' => $notifications] = self::begin(
            'local/cetadsync:sendnotifications',
            ['notifications' => $notifications]
        );
        foreach ($notifications as $item) {
            if (strlen($item['idempotencykey']) > 128 || $item['idempotencykey'] === '') {
                throw new \invalid_parameter_exception('idempotencykey must be 1 to 128 characters');
            }
        }
        return ['results' => array_map([notifier::class, 'send'], $notifications)];
    }

    /**
     * One result per notification, in the order sent.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'results' => new external_multiple_structure(self::result_structure()),
        ]);
    }

    /**
     * The result of one key, shared with get_delivered.
     *
     * @return external_single_structure
     */
    public static function result_structure(): external_single_structure {
        return new external_single_structure([
            'idempotencykey' => new external_value(PARAM_ALPHANUMEXT, 'The key'),
            'status' => new external_value(
                PARAM_ALPHA,
                'sent; failed (nothing stored, may be retried); pending (in doubt); unknown (never seen)'
            ),
            'duplicate' => new external_value(PARAM_BOOL, 'The key was seen before: nothing was sent now'),
            'messageid' => new external_value(PARAM_INT, 'Moodle notification id, 0 if none'),
            'userid' => new external_value(PARAM_INT, 'Recipient, 0 if none'),
            'timesent' => new external_value(PARAM_INT, 'When it was sent, 0 if not'),
            'errorcode' => new external_value(
                PARAM_ALPHANUMEXT,
                'invaliduser, invalidprovider, invalidcontexturl, messagenotsent (failed); '
                    . 'outputfailed (sent, an output such as email failed)'
            ),
        ]);
    }
}
