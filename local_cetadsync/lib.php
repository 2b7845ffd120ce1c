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
 * Navigation callbacks: "Progression" in a course, "My progress" and "My students" on the profile.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Add "Progression" to the course's navigation for those who may view it.
 *
 * @param navigation_node $navigation the course's settings node
 * @param stdClass $course
 * @param context $context the course context
 */
function local_cetadsync_extend_navigation_course(navigation_node $navigation, stdClass $course, context $context) {
    global $USER;
    if (\local_cetadsync\local\access::course_page($course, $USER->id)) {
        $url = new moodle_url('/local/cetadsync/course.php', ['id' => $course->id]);
        $navigation->add(
            get_string('progression', 'local_cetadsync'),
            $url,
            navigation_node::TYPE_SETTING,
            null,
            'local_cetadsync_progression',
            new pix_icon('i/report', '')
        );
    }
}

/**
 * Add "My progress" and, for teachers, "My students" to the viewer's own profile page.
 *
 * @param core_user\output\myprofile\tree $tree
 * @param stdClass $user the profile's owner
 * @param bool $iscurrentuser
 * @param stdClass|null $course
 * @return bool
 */
function local_cetadsync_myprofile_navigation(core_user\output\myprofile\tree $tree, $user, $iscurrentuser, $course) {
    if (!$iscurrentuser || isguestuser($user)) {
        return false;
    }
    $category = new core_user\output\myprofile\category(
        'local_cetadsync',
        get_string('fieldcategory', 'local_cetadsync'),
        'contact'
    );
    $tree->add_category($category);
    if (\local_cetadsync\local\access::myprogress_page($user->id)) {
        $tree->add_node(new core_user\output\myprofile\node(
            'local_cetadsync',
            'myprogress',
            get_string('myprogress', 'local_cetadsync'),
            null,
            new moodle_url('/local/cetadsync/myprogress.php')
        ));
    }
    if (\local_cetadsync\local\access::mystudents_page($user->id)) {
        $tree->add_node(new core_user\output\myprofile\node(
            'local_cetadsync',
            'mystudents',
            get_string('mystudents', 'local_cetadsync'),
            null,
            new moodle_url('/local/cetadsync/mystudents.php')
        ));
    }
    return true;
}
