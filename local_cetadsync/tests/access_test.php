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

/**
 * The web-service capabilities say what they carry (db/access.php), so an administrator sees the risk.
 *
 * @package    local_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @coversNothing
 */
final class access_test extends \advanced_testcase {
    /**
     * Each web-service capability and the risks it must carry.
     *
     * @return array
     */
    public static function risks(): array {
        return [
            'enrolments are personal data' => ['local/cetadsync:readenrolments', RISK_PERSONAL],
            'students\' own dates are personal data' => ['local/cetadsync:readdates', RISK_PERSONAL],
            'submissions and grades are personal data' => ['local/cetadsync:readrecords', RISK_PERSONAL],
            'notifications to anyone are spam; who got what, personal' => ['local/cetadsync:sendnotifications',
                RISK_SPAM | RISK_PERSONAL],
            'progression records are overwritten and personal' => ['local/cetadsync:saveprogression',
                RISK_PERSONAL | RISK_DATALOSS],
        ];
    }

    /**
     * The capability carries exactly those risks, at system level, for no archetype.
     *
     * @dataProvider risks
     * @param string $capability
     * @param int $risks
     */
    public function test_a_web_service_capability_says_what_it_carries(string $capability, int $risks): void {
        $info = get_capability_info($capability);
        $this->assertSame($risks, (int)$info->riskbitmask);
        $this->assertSame(CONTEXT_SYSTEM, (int)$info->contextlevel);
        $this->assertSame([], get_roles_with_capability($capability, CAP_ALLOW, \context_system::instance()));
    }
}
