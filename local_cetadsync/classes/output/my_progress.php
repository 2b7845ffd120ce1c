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

namespace local_cetadsync\output;

use local_cetadsync\local\presenter;
use local_cetadsync\local\progression;
use renderable;
use renderer_base;
use stdClass;
use templatable;

/**
 * A participant's own progression (local_cetadsync/my_progress): only her record, nobody else's.
 *
 * @package    local_cetadsync
 * @copyright  2026 CETAD
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class my_progress implements renderable, templatable {
    /**
     * The record to show.
     *
     * @param stdClass $row her local_cetadsync_progress row
     * @param int $now
     */
    public function __construct(
        /** @var stdClass The record. */
        protected stdClass $row,
        /** @var int The time the page is drawn at. */
        protected int $now,
    ) {
    }

    /**
     * Context for the template.
     *
     * @param renderer_base $output
     * @return array
     */
    public function export_for_template(renderer_base $output): array {
        $row = $this->row;
        $detail = progression::detail($row);
        $deadlines = [];
        foreach ($detail['items'] as $item) {
            if (!empty($item['required']) && ($item['state'] ?? '') !== 'graded') {
                $deadlines[] = presenter::item($item, $this->now, null);
            }
        }
        $deadlines = presenter::pressing_first($deadlines);
        $modules = array_map(fn($m) => [
            'code' => (string)($m['code'] ?? ''),
            'title' => format_string($m['title'] ?? '', true, ['escape' => false]),
            'credits' => (int)($m['credits'] ?? 0),
            'outcome' => self::outcome((string)($m['outcome'] ?? '')),
            'mark' => isset($m['mark']) ? format_float($m['mark'], -1) : '',
        ], $detail['modules']);
        $needed = (int)$row->awardcredits;
        $prior = (object)['credits' => (int)$row->priorcredits, 'cap' => (int)$row->priorcap];
        return [
            'status' => presenter::status($row->status),
            'reasons' => presenter::reasons($row),
            'credits' => presenter::credits($row),
            'percent' => $needed ? min(100, (int)round(100 * (float)$row->credits / $needed)) : 0,
            'hasprior' => $prior->credits > 0 || $prior->cap > 0,
            'prior' => $prior->cap ? get_string('priorcapped', 'local_cetadsync', $prior)
                : get_string('prior', 'local_cetadsync', $prior),
            'modules' => $modules,
            'hasmodules' => (bool)$modules,
            'deadlines' => $deadlines,
            'hasdeadlines' => (bool)$deadlines,
            'latework' => (string)($row->latework ?? ''),
            'haslatework' => trim($row->latework ?? '') !== '',
        ];
    }

    /**
     * A module outcome in words.
     *
     * @param string $outcome the worker's code
     * @return string
     */
    public static function outcome(string $outcome): string {
        $key = "outcome_{$outcome}";
        return get_string_manager()->string_exists($key, 'local_cetadsync')
            ? get_string($key, 'local_cetadsync') : ucfirst(str_replace('_', ' ', $outcome));
    }
}
