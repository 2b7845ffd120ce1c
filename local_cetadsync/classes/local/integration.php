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

use context_system;

/**
 * Sets up the integration user: its account, its role, its access to the service and its token.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class integration {
    /** @var string The predefined service of db/services.php. */
    public const SERVICE = 'local_cetadsync';

    /** @var string Shortname of the integration role. */
    public const ROLE = 'cetadsyncworker';

    /** @var string[] The plugin's own capabilities, which the worker needs for the plugin's functions. */
    public const PLUGIN_CAPABILITIES = [
        'local/cetadsync:readdates',
        'local/cetadsync:readenrolments',
        'local/cetadsync:readrecords',
        'local/cetadsync:saveprogression',
        'local/cetadsync:sendnotifications',
    ];

    /**
     * Every capability the integration role holds: the worker's core ones and the plugin's.
     *
     * @return string[] sorted
     */
    public static function capabilities(): array {
        $caps = array_merge(worker_needs::CAPABILITIES, self::PLUGIN_CAPABILITIES);
        sort($caps);
        return $caps;
    }

    /**
     * The integration user, created when missing.
     *
     * @param string $username
     * @param string $email
     * @return array [user record, whether it was created]
     */
    public static function ensure_user(string $username, string $email): array {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/user/lib.php');
        $user = $DB->get_record('user', ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id, 'deleted' => 0]);
        if ($user) {
            return [$user, false];
        }
        $id = user_create_user((object)[
            'username' => $username, 'auth' => 'manual', 'confirmed' => 1, 'policyagreed' => 1,
            'mnethostid' => $CFG->mnet_localhost_id, 'password' => generate_password(32),
            'firstname' => 'CETAD Sync', 'lastname' => 'Integration', 'email' => $email,
        ]);
        return [$DB->get_record('user', ['id' => $id], '*', MUST_EXIST), true];
    }

    /**
     * The integration role at system level with exactly capabilities(), assigned to the user.
     *
     * @param int $userid
     * @return int role id
     */
    public static function ensure_role(int $userid): int {
        global $DB;
        $system = context_system::instance();
        $roleid = $DB->get_field('role', 'id', ['shortname' => self::ROLE]);
        if (!$roleid) {
            $roleid = create_role(
                'CETAD Sync integration',
                self::ROLE,
                'Exactly the capabilities the moodle-sync worker needs. Managed by local/cetadsync/cli/setup.php.'
            );
        }
        set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);
        $wanted = self::capabilities();
        $held = $DB->get_fieldset_select(
            'role_capabilities',
            'capability',
            'roleid = ? AND contextid = ?',
            [$roleid, $system->id]
        );
        foreach (array_diff($held, $wanted) as $capability) {
            unassign_capability($capability, $roleid, $system->id);
        }
        foreach ($wanted as $capability) {
            assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
        }
        if (!user_has_role_assignment($userid, $roleid, $system->id)) {
            role_assign($roleid, $userid, $system->id);
        }
        $system->mark_dirty();
        return (int)$roleid;
    }

    /**
     * Give an existing integration role the plugin's own capabilities it lacks (an upgrade that
     * adds one); nothing else is changed: cli/setup.php keeps the role exact.
     *
     * @return string[] the capabilities granted now
     */
    public static function grant_plugin_capabilities(): array {
        global $DB;
        $roleid = $DB->get_field('role', 'id', ['shortname' => self::ROLE]);
        if (!$roleid) {
            return [];
        }
        $system = context_system::instance();
        $held = $DB->get_fieldset_select(
            'role_capabilities',
            'capability',
            'roleid = ? AND contextid = ? AND permission = ?',
            [$roleid, $system->id, CAP_ALLOW]
        );
        $granted = array_values(array_filter(
            array_diff(self::PLUGIN_CAPABILITIES, $held),
            fn(string $capability) => (bool)get_capability_info($capability)
        ));
        foreach ($granted as $capability) {
            assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
        }
        if ($granted) {
            $system->mark_dirty();
        }
        return $granted;
    }

    /**
     * Authorise the user on the plugin's service.
     *
     * @param int $userid
     * @return \stdClass the service
     */
    public static function authorise(int $userid): \stdClass {
        global $DB;
        $service = $DB->get_record('external_services', ['shortname' => self::SERVICE], '*', MUST_EXIST);
        $key = ['externalserviceid' => $service->id, 'userid' => $userid];
        if (!$DB->record_exists('external_services_users', $key)) {
            $DB->insert_record('external_services_users', (object)($key + ['timecreated' => time()]));
        }
        return $service;
    }

    /**
     * A new permanent token for the user on the service, unless one exists and $force is false.
     *
     * @param \stdClass $service
     * @param int $userid
     * @param bool $force issue another token even if one exists
     * @return string|null the token, null when one exists already
     */
    public static function issue_token(\stdClass $service, int $userid, bool $force): ?string {
        global $DB;
        $exists = $DB->record_exists(
            'external_tokens',
            ['externalserviceid' => $service->id, 'userid' => $userid, 'tokentype' => EXTERNAL_TOKEN_PERMANENT]
        );
        if ($exists && !$force) {
            return null;
        }
        return \core_external\util::generate_token(
            EXTERNAL_TOKEN_PERMANENT,
            $service,
            $userid,
            context_system::instance(),
            0,
            '',
            'moodle-sync ' . date('Y-m-d H:i')
        );
    }
}
