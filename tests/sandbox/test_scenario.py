"""Scenario loading: relative dates, the default CETAD cohort, helpful errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from moodle_sync.sandbox.scenario import load_scenario, resolve

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("+0s", NOW),
        ("+7d", NOW + 7 * 86400),
        ("-2d3h", NOW - 2 * 86400 - 3 * 3600),
        ("-9d5h9m39s", NOW - (9 * 86400 + 5 * 3600 + 9 * 60 + 39)),
        (1_700_000_000, 1_700_000_000),
    ],
)
def test_dates_resolve_against_now(value: str | int | None, expected: int) -> None:
    assert resolve(value, NOW) == expected


@pytest.mark.parametrize("value", ["7d", "+", "+1w", "tomorrow"])
def test_bad_date_says_how_to_write_one(value: str) -> None:
    with pytest.raises(ValueError, match="write an offset"):
        resolve(value, NOW)


def test_default_scenario_is_the_cetad_cohort_with_recorded_ids() -> None:
    state = load_scenario(now=datetime.fromtimestamp(NOW, UTC))
    idnumbers = {c.idnumber for c in state.courses.values()}
    assert {
        "CETAD-RAPL",
        "CETAD-MPC",
        "CETAD-OCVB",
        "CETAD-LOTC",
        "CETAD-ULM",
        "CETAD-WBP",
        "CETAD-MRP",
    } <= idnumbers
    students = {e.userid for e in state.enrolments if e.role == "student"}
    assert students == set(range(5, 17))
    roles = {e.userid: e.role for e in state.enrolments if e.role != "student"}
    assert roles == {17: "editingteacher", 18: "editingteacher", 19: "teacher"}
    assert [(e.userid, e.courseid) for e in state.enrolments if e.status == "suspended"] == [
        (10, 5)
    ]


def test_default_scenario_has_both_overdue_and_upcoming_work() -> None:
    state = load_scenario(now=datetime.fromtimestamp(NOW, UTC))
    dues = [a.duedate - NOW for a in state.assignments.values()]
    assert min(dues) < 0 < max(dues)


def test_token_naming_an_undefined_service_is_explained(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "moodle_sync/sandbox/scenarios/cetad.json"
    text = source.read_text().replace('"service": "cetad_sync_partial"', '"service": "nope"')
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    with pytest.raises(ValueError, match=r"'nope'.*define it under 'services'"):
        load_scenario(bad)
