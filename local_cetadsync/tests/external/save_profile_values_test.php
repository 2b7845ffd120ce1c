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
require_once($CFG->dirroot . '/user/profile/lib.php');

/**
 * local_cetadsync_save_profile_values writes the two progression fields of students, nothing else.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_cetadsync\external\save_profile_values
 */
final class save_profile_values_test extends \externallib_advanced_testcase {
    /** @var \stdClass A course where students may submit assignments. */
    private \stdClass $course;

    /**
     * The caller holds the plugin's capability, and nothing else; a course to enrol people in.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $this->setUser($this->getDataGenerator()->create_user());
        $this->assignUserCapability('local/cetadsync:saveprogression', \context_system::instance()->id);
        $this->course = $this->getDataGenerator()->create_course();
    }

    /**
     * Call the function as the worker does and clean the answer as REST would.
     *
     * @param array $users
     * @return array
     */
    private function save(array $users): array {
        $result = save_profile_values::execute($users);
        return external_api::clean_returnvalue(save_profile_values::execute_returns(), $result);
    }

    /**
     * A user enrolled with that role in the test course.
     *
     * @param string $role
     * @param int $status ENROL_USER_ACTIVE or ENROL_USER_SUSPENDED
     * @return \stdClass
     */
    private function enrolled(string $role, int $status = ENROL_USER_ACTIVE): \stdClass {
        $user = $this->getDataGenerator()->create_user();
        $this->getDataGenerator()->enrol_user($user->id, $this->course->id, $role, 'manual', 0, 0, $status);
        return $user;
    }

    /**
     * The two progression values of a user.
     *
     * @param int $userid
     * @return array
     */
    private function values(int $userid): array {
        $record = profile_user_record($userid, false);
        return [$record->cetad_progression ?? null, $record->cetad_credits ?? null];
    }

    /**
     * Both values of a student, and core's user_updated event; the same values again change nothing.
     */
    public function test_writes_a_students_two_fields_and_says_so(): void {
        $student = $this->enrolled('student');
        $values = [['shortname' => 'cetad_progression', 'value' => 'At risk: MPC Essay 4 days overdue'],
            ['shortname' => 'cetad_credits', 'value' => '80 of 120 (PG Diploma)']];
        $sink = $this->redirectEvents();
        $answer = $this->save([['userid' => $student->id, 'fields' => $values]]);
        $this->assertSame([['userid' => (int)$student->id, 'outcome' => 'updated']], $answer['results']);
        $this->assertSame([], $answer['warnings']);
        $this->assertSame(['At risk: MPC Essay 4 days overdue', '80 of 120 (PG Diploma)'], $this->values($student->id));
        $events = array_filter($sink->get_events(), fn($e) => $e instanceof \core\event\user_updated);
        $this->assertCount(1, $events);
        $this->assertEquals($student->id, reset($events)->relateduserid);

        $sink->clear();
        $again = $this->save([['userid' => $student->id, 'fields' => $values]]);
        $this->assertSame('unchanged', $again['results'][0]['outcome']);
        $this->assertEmpty($sink->get_events());
    }

    /**
     * A suspended student (withdrawn) is still a student: her status is written.
     */
    public function test_a_suspended_student_is_written_too(): void {
        $student = $this->enrolled('student', ENROL_USER_SUSPENDED);
        $answer = $this->save([['userid' => $student->id,
            'fields' => [['shortname' => 'cetad_progression', 'value' => 'Withdrawn']]]]);
        $this->assertSame('updated', $answer['results'][0]['outcome']);
        $this->assertSame('Withdrawn', $this->values($student->id)[0]);
    }

    /**
     * Who is refused, each as a warning about that user, while a student in the same call is written.
     */
    public function test_refuses_administrators_teachers_deleted_guests_and_strangers(): void {
        global $CFG;
        $student = $this->enrolled('student');
        $teacher = $this->enrolled('editingteacher');
        $deleted = $this->enrolled('student');
        delete_user($deleted);
        $adminstudent = $this->enrolled('student');
        set_config('siteadmins', $CFG->siteadmins . ',' . $adminstudent->id);
        $nobody = $this->getDataGenerator()->create_user();
        $value = [['shortname' => 'cetad_progression', 'value' => 'On track']];
        $ids = [$adminstudent->id, get_admin()->id, $teacher->id, $deleted->id, $CFG->siteguest, $nobody->id,
            987654, $student->id];
        $answer = $this->save(array_map(fn($id) => ['userid' => $id, 'fields' => $value], $ids));

        $this->assertSame([['userid' => (int)$student->id, 'outcome' => 'updated']], $answer['results']);
        $codes = array_column($answer['warnings'], 'warningcode', 'itemid');
        $this->assertSame([
            (int)$adminstudent->id => 'usernotupdatedadmin',
            (int)get_admin()->id => 'usernotupdatedadmin',
            (int)$teacher->id => 'notastudent',
            (int)$deleted->id => 'invaliduser',
            (int)$CFG->siteguest => 'usernotupdated',
            (int)$nobody->id => 'notastudent',
            987654 => 'invaliduser',
        ], $codes);
        foreach ([$adminstudent->id, get_admin()->id, $teacher->id] as $id) {
            $this->assertSame([null, null], array_map(fn($v) => $v === '' ? null : $v, $this->values($id)));
        }
    }

    /**
     * Another profile field is refused, even beside a progression field, and nothing of that user is written.
     */
    public function test_only_the_configured_fields_may_be_written(): void {
        $student = $this->enrolled('student');
        $this->getDataGenerator()->create_custom_profile_field(['datatype' => 'text', 'shortname' => 'employer',
            'name' => 'Employer']);
        $answer = $this->save([['userid' => $student->id, 'fields' => [
            ['shortname' => 'cetad_progression', 'value' => 'On track'],
            ['shortname' => 'employer', 'value' => 'Acme'],
        ]]]);
        $this->assertSame([], $answer['results']);
        $this->assertSame('fieldnotallowed', $answer['warnings'][0]['warningcode']);
        $record = profile_user_record($student->id, false);
        $this->assertSame('', (string)$record->cetad_progression);
        $this->assertSame('', (string)$record->employer);
    }

    /**
     * The configured shortname is the one written, whatever it is.
     */
    public function test_a_configured_shortname_is_the_one_allowed(): void {
        $student = $this->enrolled('student');
        $this->getDataGenerator()->create_custom_profile_field(['datatype' => 'text', 'shortname' => 'prog2',
            'name' => 'Progress']);
        set_config('progressionfield', 'prog2', 'local_cetadsync');
        $old = $this->save([['userid' => $student->id,
            'fields' => [['shortname' => 'cetad_progression', 'value' => 'On track']]]]);
        $this->assertSame('fieldnotallowed', $old['warnings'][0]['warningcode']);
        $new = $this->save([['userid' => $student->id, 'fields' => [['shortname' => 'prog2', 'value' => 'On track']]]]);
        $this->assertSame('updated', $new['results'][0]['outcome']);
        $this->assertSame('On track', profile_user_record($student->id, false)->prog2);
    }

    /**
     * Values are plain text that fits the field; a missing field is said, not ignored.
     */
    public function test_html_too_long_and_missing_fields_are_refused(): void {
        global $DB;
        $student = $this->enrolled('student');
        $cases = [
            'invalidvalue' => [['shortname' => 'cetad_progression', 'value' => 'On <b>track</b>']],
            'valuetoolong' => [['shortname' => 'cetad_credits', 'value' => str_repeat('x', 256)]],
        ];
        foreach ($cases as $code => $fields) {
            $answer = $this->save([['userid' => $student->id, 'fields' => $fields]]);
            $this->assertSame($code, $answer['warnings'][0]['warningcode'] ?? null, $code);
        }
        $DB->delete_records('user_info_field', ['shortname' => 'cetad_credits']);
        $answer = $this->save([['userid' => $student->id, 'fields' => [['shortname' => 'cetad_credits', 'value' => '1']]]]);
        $this->assertSame('fieldmissing', $answer['warnings'][0]['warningcode']);
    }

    /**
     * Without the plugin's capability the whole call is refused.
     */
    public function test_requires_the_capability(): void {
        $this->setUser($this->getDataGenerator()->create_user());
        $this->expectException(\required_capability_exception::class);
        $this->save([['userid' => $this->enrolled('student')->id,
            'fields' => [['shortname' => 'cetad_progression', 'value' => 'On track']]]]);
    }
}
