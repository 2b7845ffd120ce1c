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
 * From zero to a working moodle-sync token in one command.
 *
 * Creates or updates the integration user, its system role with exactly the capabilities the
 * worker needs, authorises it on the plugin's service, makes sure web services and REST are on
 * and the profile fields exist, and prints a new token once.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

use local_cetadsync\local\integration;
use local_cetadsync\local\profile_fields;

[$options, $unrecognised] = cli_get_params(
    ['username' => '', 'email' => '', 'new-token' => false, 'help' => false],
    ['u' => 'username', 'h' => 'help']
);
if ($unrecognised) {
    cli_error('Unknown options: ' . implode(', ', $unrecognised));
}
if ($options['help'] || $options['username'] === '') {
    echo "Set up the moodle-sync integration user and print its token.

Options:
  -u, --username=NAME   the integration user (created if missing), e.g. cetad_sync
  --email=ADDRESS       its email when it is created (default NAME@invalid.example)
  --new-token           issue a new token even if the user already has one
  -h, --help            print this help

Example:
  php local/cetadsync/cli/setup.php --username=cetad_sync
";
    exit($options['help'] ? 0 : 2);
}

$username = core_text::strtolower($options['username']);
if (clean_param($username, PARAM_USERNAME) !== $username) {
    cli_error("Invalid username: '$username'");
}
\core\session\manager::set_user(get_admin());

set_config('enablewebservices', 1);
$protocols = array_filter(explode(',', get_config('core', 'webserviceprotocols') ?: ''));
if (!in_array('rest', $protocols)) {
    set_config('webserviceprotocols', implode(',', array_merge($protocols, ['rest'])));
}
foreach (profile_fields::ensure() as $shortname) {
    cli_writeln("Created profile field $shortname");
}

[$user, $created] = integration::ensure_user($username, $options['email'] ?: "$username@invalid.example");
cli_writeln(($created ? 'Created' : 'Found') . " user $username (id $user->id)");
$roleid = integration::ensure_role($user->id);
cli_writeln('Role ' . integration::ROLE . " (id $roleid) holds exactly: " . implode(', ', integration::capabilities()));
$service = integration::authorise($user->id);
cli_writeln("Authorised on service $service->shortname (id $service->id)");
$token = integration::issue_token($service, $user->id, (bool)$options['new-token']);
if ($token === null) {
    cli_writeln('A token exists already; it is not shown again. Run with --new-token to issue another.');
} else {
    cli_writeln("Token (shown once, store it as the worker's moodle.token): $token");
}
