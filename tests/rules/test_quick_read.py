"""The quick reader agrees with the careful one: never more lenient, never a different fact."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moodle_sync.errors import RulesInputError
from moodle_sync.rules.facts import Participant
from moodle_sync.rules.inputs import _explained, _Reader, read_document
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.rules.quick_read import quick_participant
from tests.rules.conftest import PROGRAMME_TOML

PROGRAMME = load_programme(PROGRAMME_TOML)
NOW = "2025-12-10T09:30:00+00:00"


def careful(value: Any) -> tuple[Participant, list[str]]:
    r = _Reader(PROGRAMME)
    return _explained(r, value, "participants[0]"), r.problems


# Each field draws from values the careful reader accepts and values it rejects.
VALID: dict[str, list[Any]] = {
    "id": [7, "u-7"],
    "name": [None, "Essay", "Essay resit"],
    "due": [None, "2025-10-31T12:00:00+00:00", "2025-07-01T11:00:00+01:00"],
    "extension": [None, "2025-11-07T12:00:00Z"],
    "submission_status": [None, "new", "draft", "submitted", "reopened"],
    "grade": [None, 0, 62, 69.85, 100],
    "released": [None, True, False],
    "resit": [None, True, False],
    "weight": [None, 0, 2.5],
}
INVALID: dict[str, list[Any]] = {
    "id": [None, True, 1.5, [7]],
    "name": [3, ["x"]],
    "due": ["2025-10-31T12:00:00", "next Friday", 5, ""],
    "extension": [0, "2025-13-01T00:00:00Z"],
    "submission_status": ["done", "", 1],
    "grade": [True, "62", -1, 100.5, 10**400, float("nan"), float("inf")],
    "released": [1, "true"],
    "resit": [0, "yes"],
    "weight": [-1, False, float("inf")],
}


@st.composite
def assessments(draw: st.DrawFn, valid_only: bool) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for key, good in VALID.items():
        pool = good if valid_only else good + INVALID[key]
        if draw(st.booleans()) or key == "id":
            item[key] = draw(st.sampled_from(pool))
    if not valid_only and draw(st.integers(0, 9)) == 0:
        item["extention"] = None
    return item


@st.composite
def participants(draw: st.DrawFn, valid_only: bool) -> dict[str, Any]:
    codes = draw(st.lists(st.sampled_from(["MPC", "OCVB", "WBP"]), max_size=3, unique=True))
    if not valid_only:
        codes += draw(st.lists(st.sampled_from(["MPC", "XYZ", None]), max_size=1))
    modules = [
        {"module": code, "assessments": draw(st.lists(assessments(valid_only), max_size=2))}
        for code in codes
    ]
    if not valid_only and draw(st.integers(0, 5)) == 0:
        modules[0:0] = draw(st.sampled_from([["MPC"], [{"module": "ULM", "assessments": "x"}]]))
    people: dict[str, Any] = {"id": 1, "modules": modules}
    if not valid_only and draw(st.integers(0, 9)) == 0:
        people["modules"] = draw(st.sampled_from(["MPC", {}]))
    people["target_award"] = draw(
        st.sampled_from([None, "masters"] + [[], "phd"] * (not valid_only))
    )
    people["prior_learning_credits"] = draw(
        st.sampled_from([None, 0, 60] + [30.0, -1, True] * (not valid_only))
    )
    people["status"] = draw(st.sampled_from([None, "active"] + ["gone"] * (not valid_only)))
    return people


@settings(max_examples=300, deadline=None)
@given(participants(valid_only=False))
def test_quick_reading_is_never_more_lenient_and_gives_the_same_facts(value: Any) -> None:
    quick = quick_participant(value, PROGRAMME)
    slow, problems = careful(value)
    if quick is not None:
        assert problems == []
        assert quick == slow


@settings(max_examples=200, deadline=None)
@given(participants(valid_only=True))
def test_plainly_valid_participants_take_the_quick_path(value: Any) -> None:
    quick = quick_participant(value, PROGRAMME)
    assert quick is not None and quick == careful(value)[0]


@pytest.mark.parametrize(
    ("name", "participant", "problem"),
    [
        (
            "unhashable module code",
            {"id": 1, "modules": [{"module": ["MPC"]}]},
            "participants[0].modules[0].module: no module ['MPC'] in the programme",
        ),
        (
            "unhashable target award",
            {"id": 1, "target_award": {"x": 1}},
            "participants[0].target_award: no award {'x': 1}",
        ),
        (
            "integer too large for a float",
            {"id": 1, "modules": [{"module": "MPC", "assessments": [{"id": 1, "grade": 10**400}]}]},
            "participants[0].modules[0].assessments[0].grade: must be between 0 and 100",
        ),
    ],
)
def test_odd_values_are_reported_not_crashed_on(
    programme: Programme, name: str, participant: dict[str, Any], problem: str
) -> None:
    with pytest.raises(RulesInputError) as caught:
        read_document({"now": NOW, "participants": [participant]}, programme)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
