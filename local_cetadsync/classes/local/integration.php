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
 * The integration user's pieces: its account, its role, its access to the service and its tokens.
 *
 * cli/setup.php drives them (classes/local/setup.php decides what may be done); db/uninstall.php
 * removes what they made.
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

    /** @var string Authentication of a new integration user: web services only, no interactive login. */
    public const AUTH = 'webservice';

    /**
     * Every capability the integration role holds: exactly what the worker needs on the plugin path.
     *
     * @return string[] sorted
     */
    public static function capabilities(): array {
        $caps = worker_needs::CAPABILITIES;
        sort($caps);
        return $caps;
    }

    /**
     * The local account of that username, deleted ones aside.
     *
     * @param string $username
     * @return \stdClass|null
     */
    public static function find_user(string $username): ?\stdClass {
        global $CFG, $DB;
        $conditions = ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id, 'deleted' => 0];
        return $DB->get_record('user', $conditions) ?: null;
    }

    /**
     * A new integration user that can only use web services (no password anyone knows, no login).
     *
     * @param string $username
     * @param string $email
     * @return \stdClass the user record
     */
    public static function create_user(string $username, string $email): \stdClass {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/user/lib.php');
        $id = user_create_user((object)[
            'username' => $username, 'auth' => self::AUTH, 'confirmed' => 1, 'policyagreed' => 1,
            'mnethostid' => $CFG->mnet_localhost_id, 'password' => generate_password(32),
            'firstname' => 'CETAD Sync', 'lastname' => 'Integration', 'email' => $email,
        ]);
        return $DB->get_record('user', ['id' => $id], '*', MUST_EXIST);
    }

    /**
     * The id of the integration role, or 0 when there is none.
     *
     * @return int
     */
    public static function role_id(): int {
        global $DB;
        return (int)$DB->get_field('role', 'id', ['shortname' => self::ROLE]);
    }

    /**
     * Whether the user holds the integration role at system level (is already the integration user).
     *
     * @param int $userid
     * @return bool
     */
    public static function holds_role(int $userid): bool {
        $roleid = self::role_id();
        return $roleid && user_has_role_assignment($userid, $roleid, context_system::instance()->id);
    }

    /**
     * Every role the user holds anywhere, in words.
     *
     * @param int $userid
     * @return string[] e.g. "Teacher (editingteacher) in Course: Leading practice"
     */
    public static function roles_held(int $userid): array {
        global $DB;
        $rows = $DB->get_records_sql(
            'SELECT ra.id, ra.contextid, r.id AS roleid, r.shortname, r.name, r.archetype
               FROM {role_assignments} ra
               JOIN {role} r ON r.id = ra.roleid
              WHERE ra.userid = ?
           ORDER BY ra.contextid, r.sortorder',
            [$userid]
        );
        $held = [];
        foreach ($rows as $row) {
            $context = \context::instance_by_id($row->contextid, IGNORE_MISSING);
            $where = $context ? $context->get_context_name() : "context $row->contextid";
            $held[] = role_get_name($row) . " ($row->shortname) in $where";
        }
        return $held;
    }

    /**
     * The integration role at system level with exactly capabilities(), assigned to the user.
     *
     * @param int $userid
     * @return array [role id, capabilities removed, capabilities added]
     */
    public static function ensure_role(int $userid): array {
        global $DB;
        $system = context_system::instance();
        $roleid = self::role_id();
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
            'roleid = ? AND contextid = ? AND permission = ?',
            [$roleid, $system->id, CAP_ALLOW]
        );
        $other = $DB->get_fieldset_select(
            'role_capabilities',
            'capability',
            'roleid = ? AND contextid = ? AND permission <> ?',
            [$roleid, $system->id, CAP_ALLOW]
        );
        $removed = array_values(array_diff(array_merge($held, $other), $wanted));
        foreach ($removed as $capability) {
            unassign_capability($capability, $roleid, $system->id);
        }
        $added = array_values(array_diff($wanted, $held));
        foreach ($added as $capability) {
            assign_capability($capability, CAP_ALLOW, $roleid, $system->id, true);
        }
        if (!user_has_role_assignment($userid, $roleid, $system->id)) {
            role_assign($roleid, $userid, $system->id);
        }
        $system->mark_dirty();
        return [(int)$roleid, $removed, $added];
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
     * The ids of the user's permanent tokens on the service.
     *
     * @param \stdClass $service
     * @param int $userid
     * @return int[]
     */
    public static function token_ids(\stdClass $service, int $userid): array {
        global $DB;
        $conditions = ['externalserviceid' => $service->id, 'userid' => $userid, 'tokentype' => EXTERNAL_TOKEN_PERMANENT];
        return array_map('intval', array_keys($DB->get_records('external_tokens', $conditions, 'id', 'id')));
    }

    /**
     * A new permanent token for the user on the service, unless one exists and $force is false.
     *
     * @param \stdClass $service
     * @param int $userid
     * @param bool $force issue another token even if one exists
     * @param int $validuntil last second the token works, 0 = no expiry
     * @param string $iprestriction addresses or ranges the token works from, '' = anywhere
     * @return string|null the token, null when one exists already
     */
    public static function issue_token(
        \stdClass $service,
        int $userid,
        bool $force,
        int $validuntil = 0,
        string $iprestriction = ''
    ): ?string {
        if (self::token_ids($service, $userid) && !$force) {
            return null;
        }
        return \core_external\util::generate_token(
            EXTERNAL_TOKEN_PERMANENT,
            $service,
            $userid,
            context_system::instance(),
            $validuntil,
            $iprestriction,
            'moodle-sync ' . date('Y-m-d H:i')
        );
    }

    /**
     * Delete tokens of the service by id, as Manage tokens does.
     *
     * @param int[] $ids
     */
    public static function revoke_tokens(array $ids): void {
        global $DB;
        if ($ids) {
            $DB->delete_records_list('external_tokens', 'id', $ids);
        }
    }
}
