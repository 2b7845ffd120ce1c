"""`rules evaluate`: the JSON contract, progression statuses end to end, input errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from moodle_sync.errors import RulesInputError
from moodle_sync.rules import evaluate_document
from moodle_sync.rules.inputs import read_document
from moodle_sync.rules.policy import Programme
from tests.rules.conftest import ROOT

EXAMPLE = ROOT / "config" / "examples" / "rules-input.json"
NOW = "2025-12-10T09:30:00+00:00"


def essay(ident: object, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "name": "Essay", **fields}


def run(programme: Programme, *participants: dict[str, Any], now: str = NOW) -> list[Any]:
    doc = {"now": now, "participants": list(participants)}
    result: list[Any] = evaluate_document(doc, programme)["participants"]
    return result


def person(*modules: tuple[str, list[dict[str, Any]]], **fields: Any) -> dict[str, Any]:
    base = {"id": 1, "name": "P", "target_award": "pg_diploma", "prior_learning_credits": 60}
    mods = [{"module": code, "assessments": items} for code, items in modules]
    return {**base, **fields, "modules": mods}


def test_example_matches_the_documented_output(programme: Programme) -> None:
    result = evaluate_document(json.loads(EXAMPLE.read_text()), programme)
    expected = json.loads((EXAMPLE.parent / "rules-output.json").read_text())
    assert json.loads(json.dumps(result)) == expected


def test_output_field_names_are_exactly_the_contract(programme: Programme) -> None:
    (out,) = run(programme, person(("MPC", [essay(9, due="2025-12-01T12:00:00Z", grade=60)])))
    assert list(out) == [
        "id",
        "status",
        "reasons",
        "award_eligible",
        "classification",
        "prior_learning_credits",
        "total_credits",
        "credits_by_module",
        "modules",
        "assessments",
    ]
    assert list(out["modules"][0]) == ["module", "outcome", "final_mark"]
    assert list(out["assessments"][0]) == [
        "id",
        "effective_deadline",
        "days_late",
        "penalty",
        "final_mark",
        "reminders_due",
    ]


def test_ids_are_echoed_unchanged(programme: Programme) -> None:
    (out,) = run(programme, person(("MPC", [essay("a-1")]), id="u 7"))
    assert out["id"] == "u 7" and out["assessments"][0]["id"] == "a-1"


def test_effective_deadline_is_written_in_london_time(programme: Programme) -> None:
    (out,) = run(programme, person(("MPC", [essay(1, due="2025-07-01T11:00:00Z")])))
    assert out["assessments"][0]["effective_deadline"] == "2025-07-01T12:00:00+01:00"


def test_late_work_reports_days_penalty_and_final_mark(programme: Programme) -> None:
    work = essay(
        1,
        due="2025-11-05T12:00:00Z",
        submitted_at="2025-11-06T12:30:00Z",
        submission_status="submitted",
        grade=62,
    )
    (out,) = run(programme, person(("MPC", [work])))
    assert out["assessments"][0] | {"reminders_due": None} == {
        "id": 1,
        "effective_deadline": "2025-11-05T12:00:00+00:00",
        "days_late": 2,
        "penalty": 10.0,
        "final_mark": 52.0,
        "reminders_due": None,
    }


def test_unreleased_grade_has_no_final_mark(programme: Programme) -> None:
    (out,) = run(programme, person(("MPC", [essay(1, grade=70, released=False)])))
    assert out["assessments"][0]["final_mark"] is None
    assert out["modules"][0] == {"module": "MPC", "outcome": "pending", "final_mark": None}


def test_resit_is_recognised_by_name_when_not_flagged(programme: Programme) -> None:
    items = [essay(1, grade=42), {"id": 2, "name": "Essay RESIT", "grade": 68}]
    (out,) = run(programme, person(("MPC", items)))
    assert out["modules"][0] == {"module": "MPC", "outcome": "passed", "final_mark": 50.0}


ALL_TAUGHT = [(c, [essay(i, grade=65)]) for i, c in enumerate(["MPC", "OCVB", "WBP"])]


@pytest.mark.parametrize(
    ("name", "participant", "status", "reason"),
    [
        ("suspended everywhere", person(status="suspended"), "withdrawn", "suspended"),
        ("interrupted", person(*ALL_TAUGHT, status="interrupted"), "interrupted", "interrupted"),
        ("target met", person(*ALL_TAUGHT), "eligible_pg_diploma", "Meets PG Diploma"),
        ("referred", person(("MPC", [essay(1, grade=41)])), "referred", "MPC referred"),
        (
            "overdue",
            person(("MPC", [essay(1, due="2025-12-06T12:00:00Z")])),
            "at_risk",
            "MPC Essay 4 days overdue",
        ),
        (
            "draft close to the deadline",
            person(("MPC", [essay(1, due="2025-12-11T12:00:00Z", submission_status="draft")])),
            "at_risk",
            "draft not submitted, due in 26 hours",
        ),
        (
            "failed after resit",
            person(("MPC", [essay(1, grade=30), essay(2, grade=35, resit=True)])),
            "at_risk",
            "MPC failed after resit",
        ),
        ("on track", person(("MPC", [essay(1, grade=60)])), "on_track", "80 of 120 credits"),
        (
            "not started",
            person(("MPC", [essay(1, due="2026-01-10T12:00:00Z")])),
            "not_started",
            "Nothing due",
        ),
    ],
)
def test_progression_status(
    programme: Programme, name: str, participant: dict[str, Any], status: str, reason: str
) -> None:
    (out,) = run(programme, participant)
    assert out["status"] == status
    assert any(reason in r for r in out["reasons"]), out["reasons"]


def test_exit_award_shows_only_in_award_eligible(programme: Programme) -> None:
    (out,) = run(programme, person(*ALL_TAUGHT, target_award="masters"))
    assert (out["status"], out["award_eligible"]) == ("on_track", "pg_diploma")
    assert out["classification"] == "merit"


def test_reminders_due_now(programme: Programme) -> None:
    work = essay(1, due="2025-12-12T12:00:00Z", submission_status="draft")
    (out,) = run(programme, person(("MPC", [work])))
    assert out["assessments"][0]["reminders_due"] == ["before_7d", "before_2d"]
    (later,) = run(programme, person(("MPC", [work])), now="2025-12-12T10:00:00Z")
    assert later["assessments"][0]["reminders_due"] == [
        "before_7d",
        "before_2d",
        "due_today",
        "draft_not_submitted",
    ]


def test_no_reminders_for_interrupted_participants(programme: Programme) -> None:
    work = essay(1, due="2025-12-12T12:00:00Z")
    (out,) = run(programme, person(("MPC", [work]), status="interrupted"))
    assert out["assessments"][0]["reminders_due"] == []


def test_credits_by_module_add_up_to_total_credits(programme: Programme) -> None:
    (out,) = run(programme, person(*ALL_TAUGHT))
    assert sum(out["credits_by_module"].values()) == out["total_credits"] == 120
    assert out["credits_by_module"]["RAPL"] == 60


def test_every_input_problem_is_reported_with_its_location(programme: Programme) -> None:
    bad = person(
        ("MPC", [essay(1, due="next Friday", grade=120), essay(2, extention=None)]),
        ("XYZ", []),
        target_award="phd",
    )
    with pytest.raises(RulesInputError) as caught:
        run(programme, person(), bad)
    assert caught.value.problems == [
        "participants[1].target_award: no award 'phd'; use one of "
        "pg_certificate, pg_diploma, masters",
        "participants[1].modules[0].assessments[0].due: "
        "not an ISO-8601 time with an offset: 'next Friday'",
        "participants[1].modules[0].assessments[0].grade: must be between 0 and 100, got 120",
        "participants[1].modules[0].assessments[1].extention: unknown key; expected one of "
        "cutoff, due, extension, grade, id, name, released, resit, submission_status, "
        "submitted_at, weight",
        "participants[1].modules[1].module: no module 'XYZ' in the programme; use one of "
        "RAPL, MPC, OCVB, LOTC, ULM, WBP, MRP",
    ]


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"participants": []}, "now: required"),
        ({"now": "2025-12-10T09:30:00", "participants": []}, "now: not an ISO-8601"),
        ([], "input: must be a JSON object"),
    ],
)
def test_document_level_problems(programme: Programme, doc: Any, problem: str) -> None:
    with pytest.raises(RulesInputError) as caught:
        evaluate_document(copy.deepcopy(doc), programme)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_problems_after_valid_participants_are_all_reported_and_nothing_returned(
    programme: Programme,
) -> None:
    """Evaluation streams participant by participant, yet never returns a partial result."""
    doc = {
        "now": NOW,
        "participants": [
            person(("MPC", [essay(1, grade=60)])),
            person(("MPC", [essay(2, grade="sixty")])),
            person(("OCVB", [essay(3, grade=60)])),
            person(status="gone"),
        ],
    }
    with pytest.raises(RulesInputError) as caught:
        evaluate_document(doc, programme)
    with pytest.raises(RulesInputError) as read:
        read_document(doc, programme)
    assert (
        caught.value.problems
        == read.value.problems
        == [
            "participants[1].modules[0].assessments[0].grade: must be a number, got 'sixty'",
            "participants[3].status: must be one of active, suspended, interrupted (or null), "
            "got 'gone'",
        ]
    )
