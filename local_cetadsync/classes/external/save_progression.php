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
use core_external\external_warnings;
use local_cetadsync\local\progression;

/**
 * Store participants' progression as moodle-sync computed it, only where changed; the pages read it.
 *
 * Every call, even with no records, is the worker saying it has synchronised (config lastsync).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class save_progression extends base {
    /** @var float The largest credits value the table's number(10,2) column holds. */
    private const MAX_CREDITS = 99999999.99;

    /**
     * Parameters: the records.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'records' => new external_multiple_structure(
                new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'Participant'),
                'courseid' => new external_value(PARAM_INT, 'Course; the site course id for the whole programme'),
                'status' => new external_value(PARAM_ALPHANUMEXT, 'Progression status, e.g. on_track, at_risk'),
                'reasons' => new external_multiple_structure(
                    new external_value(PARAM_TEXT, 'Reason in plain words'),
                    'Why',
                    VALUE_DEFAULT,
                    []
                ),
                'credits' => new external_value(PARAM_FLOAT, 'Credits toward the target award'),
                'nextdeadline' => new external_value(PARAM_INT, 'Next deadline, 0 = none', VALUE_DEFAULT, 0),
                'award' => new external_value(PARAM_TEXT, 'Title of the target award', VALUE_DEFAULT, ''),
                'awardcredits' => new external_value(PARAM_INT, 'Credits the target award needs', VALUE_DEFAULT, 0),
                'priorcredits' => new external_value(PARAM_INT, 'Prior-learning credits counted', VALUE_DEFAULT, 0),
                'priorcap' => new external_value(PARAM_INT, 'Cap on prior-learning credits', VALUE_DEFAULT, 0),
                'urgency' => new external_value(PARAM_INT, 'Sort key, higher is more urgent', VALUE_DEFAULT, 0),
                'latework' => new external_value(PARAM_TEXT, 'The late-work rule in words', VALUE_DEFAULT, ''),
                'modules' => new external_multiple_structure(new external_single_structure([
                    'code' => new external_value(PARAM_ALPHANUMEXT, 'Module code'),
                    'title' => new external_value(PARAM_TEXT, 'Module title'),
                    'credits' => new external_value(PARAM_INT, 'Module credits'),
                    'outcome' => new external_value(PARAM_ALPHANUMEXT, 'passed, referred, failed, in_progress...'),
                    'mark' => new external_value(PARAM_FLOAT, 'Module mark', VALUE_DEFAULT, null, NULL_ALLOWED),
                ]), 'Modules', VALUE_DEFAULT, []),
                'items' => new external_multiple_structure(new external_single_structure([
                    'courseid' => new external_value(PARAM_INT, 'Course of the assignment'),
                    'assignid' => new external_value(PARAM_INT, 'Assignment instance'),
                    'cmid' => new external_value(PARAM_INT, 'Course module'),
                    'name' => new external_value(PARAM_TEXT, 'Assignment name'),
                    'module' => new external_value(PARAM_ALPHANUMEXT, 'Programme module code'),
                    'duedate' => new external_value(PARAM_INT, 'Effective deadline for the student, 0 = none'),
                    'extension' => new external_value(PARAM_INT, 'Extension until, 0 = none', VALUE_DEFAULT, 0),
                    'owndate' => new external_value(PARAM_BOOL, 'The student has her own due date', VALUE_DEFAULT, false),
                    'state' => new external_value(PARAM_ALPHA, 'new, draft, submitted or graded'),
                    'concern' => new external_value(
                        PARAM_ALPHANUMEXT,
                        'overdue, draft_due_soon, awaiting_marking or empty',
                        VALUE_DEFAULT,
                        ''
                    ),
                    'required' => new external_value(PARAM_BOOL, 'Whether the student must do it', VALUE_DEFAULT, true),
                    'mark' => new external_value(
                        PARAM_FLOAT,
                        'Final mark after any penalty',
                        VALUE_DEFAULT,
                        null,
                        NULL_ALLOWED
                    ),
                ]), 'Assessments', VALUE_DEFAULT, []),
                ]),
                'Progression records; none (REST cannot send an empty list) is a call that only says "synchronised"',
                VALUE_DEFAULT,
                []
            ),
        ]);
    }

    /**
     * Upsert each record of an existing user and course; the others become warnings.
     *
     * @param array $records
     * @return array
     */
    public static function execute(array $records): array {
        global $DB;
        ['records' => $records] = self::begin('local/cetadsync:saveprogression', ['records' => $records]);
        $now = time();
        $epoch = progression::records_epoch(); // Read first: a removal after it shows in the next answer.
        $results = [];
        $warnings = [];
        $transaction = $DB->start_delegated_transaction();
        foreach ($records as $record) {
            $refusal = self::refusal($record);
            if ($refusal) {
                $warnings[] = $refusal;
                continue;
            }
            $results[] = ['userid' => $record['userid'], 'courseid' => $record['courseid'],
                'outcome' => progression::upsert($record, $now)];
        }
        $transaction->allow_commit();
        set_config('lastsync', $now, 'local_cetadsync');
        return ['results' => $results, 'warnings' => $warnings, 'recordsepoch' => $epoch];
    }

    /**
     * Why one record cannot be stored, as a warning, or null: a deleted or unknown user, an unknown
     * course, or a value the table cannot hold (refused here, so that one bad record does not fail
     * the batch's transaction).
     *
     * @param array $record a validated record
     * @return array|null
     */
    private static function refusal(array $record): ?array {
        global $DB;
        if (!$DB->record_exists('user', ['id' => $record['userid'], 'deleted' => 0])) {
            return self::warning('user', $record['userid'], 'invaliduser', get_string('invaliduser', 'error'));
        }
        if (!$DB->record_exists('course', ['id' => $record['courseid']])) {
            return self::warning('course', $record['courseid'], 'invalidcourseid', get_string('invalidcourseid', 'error'));
        }
        $bad = match (true) {
            \core_text::strlen($record['status']) > 50 => 'status',
            \core_text::strlen($record['award']) > 255 => 'award',
            !is_finite($record['credits']) || $record['credits'] < 0 || $record['credits'] > self::MAX_CREDITS => 'credits',
            $record['nextdeadline'] < 0 => 'nextdeadline',
            default => null,
        };
        if ($bad === null) {
            return null;
        }
        return self::warning('user', $record['userid'], 'invalidvalue', get_string('warninginvalidvalue', 'local_cetadsync', $bad));
    }

    /**
     * One outcome per stored record.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'results' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'Participant'),
                'courseid' => new external_value(PARAM_INT, 'Course'),
                'outcome' => new external_value(PARAM_ALPHA, 'created, updated or unchanged'),
            ])),
            'warnings' => new external_warnings(),
            'recordsepoch' => new external_value(
                PARAM_INT,
                'Counts removals of stored records (privacy deletions, deleted users or courses): when it differs '
                    . 'from the last answer, send every record again'
            ),
        ]);
    }
}
