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

/**
 * Who may receive each of the plugin's notifications: the rule Moodle uses to offer a message
 * provider in a user's notification preferences (its capability, held anywhere), so nobody is
 * sent what she cannot even switch off.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class recipients {
    /**
     * Whether Moodle offers this provider of the plugin to the user.
     *
     * @param int $userid
     * @param string $provider studentreminder, tutordigest or adminalert
     * @return bool
     */
    public static function may_receive(int $userid, string $provider): bool {
        foreach (message_get_providers_for_user($userid) as $offered) {
            if ($offered->component === 'local_cetadsync' && $offered->name === $provider) {
                return true;
            }
        }
        return false;
    }
}
