"""The rules' own reading of Moodle's facts: when a mark counts as released."""

from __future__ import annotations

import pytest

from moodle_sync.rules.facts import mark_released


@pytest.mark.parametrize(
    ("marking_workflow", "workflow_state", "released"),
    [
        (False, None, True),  # no workflow: Moodle shows the mark at once
        (False, "inmarking", True),  # a stale state means nothing without the workflow
        (True, None, False),  # workflow on, no flag row yet
        (True, "readyforrelease", False),
        (True, "released", True),
    ],
)
def test_a_mark_is_released_at_once_or_when_the_workflow_releases_it(
    marking_workflow: bool, workflow_state: str | None, released: bool
) -> None:
    assert mark_released(marking_workflow, workflow_state) is released
