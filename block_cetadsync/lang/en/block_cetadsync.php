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

/**
 * English strings of the CETAD progression block.
 *
 * @package    block_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['cetadsync:addinstance'] = 'Add a programme progression block';
$string['cetadsync:myaddinstance'] = 'Add a programme progression block to the Dashboard';
$string['nextdeadline'] = 'Your next deadline';
$string['nodeadline'] = 'Nothing is due: no work is waiting for you.';
$string['nothingurgent'] = 'None of your students needs a look today.';
$string['pluginname'] = 'Programme progression';
$string['privacy:metadata'] = 'The block stores nothing: it shows what the CETAD Sync plugin (local_cetadsync) holds.';
$string['urgent'] = 'Students to look at first';
$string['viewall'] = 'All my students';
$string['viewmine'] = 'My progress';
