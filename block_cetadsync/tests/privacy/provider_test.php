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

namespace block_cetadsync\privacy;

use core_privacy\local\metadata\null_provider;
use core_privacy\tests\provider_testcase;

/**
 * The block stores nothing of its own, and says so (and where the data it shows lives).
 *
 * @package    block_cetadsync
 * @category   test
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_cetadsync\privacy\provider
 */
final class provider_test extends provider_testcase {
    /**
     * A null provider with a reason in words that names the plugin holding the data.
     */
    public function test_null_provider_with_its_reason(): void {
        $this->assertTrue(is_subclass_of(provider::class, null_provider::class));
        $reason = get_string(provider::get_reason(), 'block_cetadsync');
        $this->assertStringContainsString('local_cetadsync', $reason);
        $this->assertTrue((new \core_privacy\manager())->component_is_compliant('block_cetadsync'));
    }
}
