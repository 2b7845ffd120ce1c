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
 * From zero to a working moodle-sync token in one command: parses the options and prints what
 * classes/local/setup.php did, or why it refused.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

[$options, $unrecognised] = cli_get_params(
    ['username' => '', 'email' => '', 'new-token' => false, 'revoke-old-tokens' => false,
        'use-existing-account' => false, 'valid-until' => '', 'ip-restriction' => '', 'help' => false],
    ['u' => 'username', 'h' => 'help']
);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode(', ', $unrecognised)), 2);
}
if ($options['help'] || $options['username'] === '') {
    cli_writeln(get_string('setuphelp', 'local_cetadsync'));
    exit($options['help'] ? 0 : 2);
}

$validuntil = 0;
if ($options['valid-until'] !== '') {
    $day = DateTime::createFromFormat('!Y-m-d', $options['valid-until'], core_date::get_server_timezone_object());
    if (!$day || $day->format('Y-m-d') !== $options['valid-until']) {
        cli_error(get_string('setupbaddate', 'local_cetadsync', $options['valid-until']), 2);
    }
    $validuntil = $day->modify('+1 day')->getTimestamp() - 1; // The whole day named.
}

\core\session\manager::set_user(get_admin());
$setup = new \local_cetadsync\local\setup([
    'username' => $options['username'],
    'email' => $options['email'],
    'newtoken' => (bool)$options['new-token'],
    'revokeoldtokens' => (bool)$options['revoke-old-tokens'],
    'useexistingaccount' => (bool)$options['use-existing-account'],
    'validuntil' => $validuntil,
    'iprestriction' => trim($options['ip-restriction']),
], 'cli_writeln');
try {
    $token = $setup->run();
} catch (moodle_exception $e) {
    cli_error(get_string('setuprefused', 'local_cetadsync', $e->getMessage()), 3);
}
if ($token !== null) {
    cli_writeln(get_string('setuptoken', 'local_cetadsync', $token));
    cli_writeln(get_string('setuptokenwhere', 'local_cetadsync'));
}
