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

use moodle_exception;

/**
 * What cli/setup.php does and refuses: from zero to a working moodle-sync token, or a reason.
 *
 * Refuses a site administrator or the guest, and an existing account that is not already the
 * integration user unless told to use it (then says every role it keeps). Turns web services,
 * REST and web-service authentication on (recording what it turned on, for uninstall), makes the
 * profile fields right, creates the integration user with web-service authentication, gives it
 * the role with exactly the plugin path's capabilities, authorises it on the service and issues
 * a token only when there is none or when asked (optionally revoking the older ones).
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class setup {
    /** @var array What setup may turn on => the config (local_cetadsync) recording that it did. */
    public const TURNED_ON = [
        'webservices' => 'setupenabledwebservices',
        'rest' => 'setupenabledrest',
        'webserviceauth' => 'setupenabledwsauth',
    ];

    /** @var array username, email, newtoken, revokeoldtokens, useexistingaccount, validuntil, iprestriction */
    private array $options;

    /** @var callable Prints one line. */
    private $output;

    /**
     * Set up with these options, telling each step through $say.
     *
     * @param array $options username (required), email, newtoken, revokeoldtokens, useexistingaccount (bools),
     *      validuntil (timestamp, 0 = none), iprestriction ('' = none)
     * @param callable $say takes one line of text
     */
    public function __construct(array $options, callable $say) {
        $this->options = $options + ['email' => '', 'newtoken' => false, 'revokeoldtokens' => false,
            'useexistingaccount' => false, 'validuntil' => 0, 'iprestriction' => ''];
        $this->output = $say;
    }

    /**
     * Every step, in order; a refusal changes nothing.
     *
     * @return string|null the new token (shown once), null when none was issued
     * @throws moodle_exception when the options or the account are refused
     */
    public function run(): ?string {
        $username = $this->username();
        $this->check_token_options();
        $user = integration::find_user($username);
        if ($user) {
            $this->check_existing($user);
        }
        $this->turn_on_web_services();
        $this->fix_profile_fields();
        $user = $user ?: $this->create_user($username);
        [$roleid, $removed, $added] = integration::ensure_role($user->id);
        $role = ['role' => integration::ROLE, 'id' => $roleid, 'capabilities' => implode(', ', integration::capabilities())];
        $this->say(get_string('setuprole', 'local_cetadsync', (object)$role));
        if ($removed) {
            $this->say(get_string('setuproleremoved', 'local_cetadsync', implode(', ', $removed)));
        }
        if ($added && count($added) < count(integration::capabilities())) {
            $this->say(get_string('setuproleadded', 'local_cetadsync', implode(', ', $added)));
        }
        $service = integration::authorise($user->id);
        $authorised = ['service' => $service->shortname, 'id' => $service->id];
        $this->say(get_string('setupauthorised', 'local_cetadsync', (object)$authorised));
        return $this->token($service, $user);
    }

    /**
     * The username asked for, in lower case, if Moodle accepts it.
     *
     * @return string
     */
    private function username(): string {
        $username = \core_text::strtolower(trim((string)($this->options['username'] ?? '')));
        if ($username === '' || clean_param($username, PARAM_USERNAME) !== $username) {
            throw new moodle_exception('setupbadusername', 'local_cetadsync', '', $username);
        }
        return $username;
    }

    /**
     * Revoking needs a new token; an expiry must be in the future.
     */
    private function check_token_options(): void {
        if ($this->options['revokeoldtokens'] && !$this->options['newtoken']) {
            throw new moodle_exception('setuprevokeneedsnew', 'local_cetadsync');
        }
        $validuntil = (int)$this->options['validuntil'];
        if ($validuntil && $validuntil <= time()) {
            throw new moodle_exception('setupexpired', 'local_cetadsync', '', userdate($validuntil));
        }
    }

    /**
     * An administrator or the guest is refused; another existing account only when told, then
     * with every role it keeps said.
     *
     * @param \stdClass $user
     */
    private function check_existing(\stdClass $user): void {
        if (is_siteadmin($user) || isguestuser($user)) {
            throw new moodle_exception('setupadmin', 'local_cetadsync', '', $user->username);
        }
        $a = ['username' => $user->username, 'id' => $user->id, 'auth' => $user->auth];
        if (integration::holds_role($user->id)) {
            $this->say(get_string('setupfounduser', 'local_cetadsync', (object)$a));
        } else {
            $a['roles'] = implode('; ', integration::roles_held($user->id)) ?: get_string('none');
            if (!$this->options['useexistingaccount']) {
                throw new moodle_exception('setupexisting', 'local_cetadsync', '', (object)$a);
            }
            $this->say(get_string('setupreused', 'local_cetadsync', (object)$a));
        }
        if ($user->auth !== integration::AUTH) {
            $this->say(get_string('setupinteractiveauth', 'local_cetadsync', (object)$a));
        }
    }

    /**
     * Web services, REST and web-service authentication on, each recorded when setup turned it on.
     */
    private function turn_on_web_services(): void {
        global $CFG;
        if (empty($CFG->enablewebservices)) {
            add_to_config_log('enablewebservices', '0', '1', 'core');
            set_config('enablewebservices', 1);
            $this->turned_on('webservices', get_string('setupturnedonwebservices', 'local_cetadsync'));
        }
        if (\core\plugininfo\webservice::enable_plugin('rest', 1)) {
            $this->turned_on('rest', get_string('setupturnedonrest', 'local_cetadsync'));
        }
        if (\core\plugininfo\auth::enable_plugin(integration::AUTH, 1)) {
            $this->turned_on('webserviceauth', get_string('setupturnedonwsauth', 'local_cetadsync'));
        }
    }

    /**
     * Say that setup turned $what on, and record it for uninstall.
     *
     * @param string $what a key of TURNED_ON
     * @param string $line what to say
     */
    private function turned_on(string $what, string $line): void {
        set_config(self::TURNED_ON[$what], 1, 'local_cetadsync');
        $this->say($line);
    }

    /**
     * The progression fields exist, locked and visible as the guide says; say what changed.
     */
    private function fix_profile_fields(): void {
        $done = profile_fields::ensure();
        foreach ($done['created'] as $shortname) {
            $this->say(get_string('setupfieldcreated', 'local_cetadsync', $shortname));
        }
        foreach ($done['locked'] as $shortname) {
            $this->say(get_string('setupfieldlocked', 'local_cetadsync', $shortname));
        }
        foreach ($done['visibility'] as $shortname => $old) {
            $a = ['shortname' => $shortname, 'old' => profile_fields::visibility_name($old),
                'new' => profile_fields::visibility_name(profile_fields::VISIBLE)];
            $this->say(get_string('setupfieldvisibility', 'local_cetadsync', (object)$a));
        }
    }

    /**
     * A new integration user: web-service authentication, so nobody can log in with it.
     *
     * @param string $username
     * @return \stdClass
     */
    private function create_user(string $username): \stdClass {
        $user = integration::create_user($username, $this->options['email'] ?: "$username@invalid.example");
        $this->say(get_string('setupcreateduser', 'local_cetadsync', (object)['username' => $username, 'id' => $user->id]));
        return $user;
    }

    /**
     * A token when there is none or a new one is asked for; the older ones revoked when asked.
     *
     * @param \stdClass $service
     * @param \stdClass $user
     * @return string|null
     */
    private function token(\stdClass $service, \stdClass $user): ?string {
        $older = integration::token_ids($service, $user->id);
        $token = integration::issue_token(
            $service,
            $user->id,
            (bool)$this->options['newtoken'],
            (int)$this->options['validuntil'],
            (string)$this->options['iprestriction']
        );
        if ($token === null) {
            $this->say(get_string('setuptokenexists', 'local_cetadsync', count($older)));
            return null;
        }
        if ($older && $this->options['revokeoldtokens']) {
            integration::revoke_tokens($older);
            $this->say(get_string('setuptokensrevoked', 'local_cetadsync', count($older)));
        } else if ($older) {
            $this->say(get_string('setuptokenskept', 'local_cetadsync', count($older)));
        }
        if (!$this->options['validuntil'] && $this->options['iprestriction'] === '') {
            $this->say(get_string('setuptokenunrestricted', 'local_cetadsync'));
        }
        return $token;
    }

    /**
     * Say one line.
     *
     * @param string $line
     */
    private function say(string $line): void {
        ($this->output)($line);
    }
}
