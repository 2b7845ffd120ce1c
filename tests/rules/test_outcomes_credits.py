"""Module marks, resits, condonation, prior-learning caps, awards and classification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from moodle_sync.rules.credits import classify, counted_prior, credit_position, highest_award_met
from moodle_sync.rules.outcomes import (
    AssessmentMark,
    ModuleResult,
    condone,
    module_result,
    round_mark,
    weighted_mean,
)
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.progression import WorkItem, _titled
from tests.rules.conftest import make_programme

PASS, CAP = Decimal(50), Decimal(50)


def marks(*values: float | None, resit: bool = False) -> list[AssessmentMark]:
    return [AssessmentMark(None if v is None else Decimal(str(v)), resit=resit) for v in values]


def test_69_85_rounds_half_up_to_69_9() -> None:
    assert round_mark(Decimal("69.85")) == Decimal("69.9")
    assert weighted_mean(marks(69.8, 69.9)) == Decimal("69.9")  # floats would give 69.8


def test_weights_change_the_mean() -> None:
    weighted = [AssessmentMark(Decimal(80), Decimal(3)), AssessmentMark(Decimal(40), Decimal(1))]
    assert weighted_mean(weighted) == Decimal(70)


@pytest.mark.parametrize(
    ("name", "assessments", "outcome", "mark"),
    [
        ("all released and passed", marks(55, 65), "passed", Decimal(60)),
        ("a mark not yet released", marks(70, None), "pending", None),
        ("failed, resit not yet taken", marks(45), "referred", Decimal(45)),
        ("failed, resit without a grade", marks(45) + marks(None, resit=True), "referred", 45),
        ("resit 68 is capped at 50", marks(42) + marks(68, resit=True), "passed", Decimal(50)),
        ("a worse resit keeps the first mark", marks(45) + marks(30, resit=True), "failed", 45),
        ("below the pass after resit", marks(38) + marks(41, resit=True), "failed", 41),
    ],
)
def test_module_outcome_before_condonation(
    name: str, assessments: list[AssessmentMark], outcome: str, mark: object
) -> None:
    result = module_result("MPC", assessments, PASS, CAP)
    assert (result.outcome, result.mark) == (outcome, None if mark is None else Decimal(mark))  # type: ignore[arg-type]


def _failed(code: str, mark: int) -> ModuleResult:
    return ModuleResult(code, "failed", Decimal(mark), below_after_resit=True)


def test_condonation_at_the_limit_takes_the_highest_marks_first(programme: Programme) -> None:
    results = [_failed("MPC", 44), _failed("OCVB", 47), _failed("LOTC", 39)]
    judged = condone(results, programme.modules, limit=30, min_mark=Decimal(40))
    assert [r.outcome for r in judged] == ["failed", "condoned", "failed"]


def test_condonation_up_to_exactly_the_limit(programme: Programme) -> None:
    results = [_failed("MPC", 44), _failed("OCVB", 47)]
    judged = condone(results, programme.modules, limit=40, min_mark=Decimal(40))
    assert [r.outcome for r in judged] == ["condoned", "condoned"]


def test_prior_learning_is_never_condoned(programme: Programme) -> None:
    judged = condone([_failed("RAPL", 45)], programme.modules, limit=60, min_mark=Decimal(40))
    assert judged[0].outcome == "failed"


@pytest.mark.parametrize(
    ("cap", "award", "counted"),
    [
        ("1/2", "pg_diploma", 60),  # CETAD's approved variation: 60 of 120
        ("1/3", "pg_diploma", 40),  # the normal rule
        ("1/2", "pg_certificate", 30),
        ("1/2", "masters", 60),
    ],
)
def test_sixty_prior_credits_against_the_cap(cap: str, award: str, counted: int) -> None:
    p = make_programme(prior_learning={"cap_fraction": cap})
    assert counted_prior(p, p.awards[award], 60) == counted


def passed(code: str, mark: int) -> ModuleResult:
    return ModuleResult(code, "passed", Decimal(mark))


def test_diploma_met_with_prior_learning_and_the_project(programme: Programme) -> None:
    results = [passed("MPC", 60), passed("OCVB", 60), passed("WBP", 65)]
    position = credit_position(programme, programme.awards["pg_diploma"], results, 60)
    assert (position.prior, position.total, position.met) == (60, 120, True)


def test_diploma_not_met_without_the_project(programme: Programme) -> None:
    results = [passed(c, 60) for c in ("MPC", "OCVB", "LOTC")]
    position = credit_position(programme, programme.awards["pg_diploma"], results, 60)
    assert position.total == 120 and position.missing_modules == ("WBP",)
    assert not position.met


def test_masters_student_leaves_with_a_diploma(programme: Programme) -> None:
    results = [passed(c, 62) for c in ("MPC", "OCVB", "LOTC", "ULM", "WBP")]
    best = highest_award_met(programme, [*results, ModuleResult("MRP", "pending", None)], 60)
    assert best is not None and best.award.id == "pg_diploma"


def test_masters_met_when_the_research_project_passes(programme: Programme) -> None:
    results = [passed(c, 62) for c in ("OCVB", "LOTC", "WBP", "MRP")]
    best = highest_award_met(programme, results, 60)
    assert best is not None and (best.award.id, best.total) == ("masters", 180)


def test_condoned_credits_count_toward_the_award(programme: Programme) -> None:
    results = [passed("MPC", 60), _failed("OCVB", 45), passed("WBP", 60)]
    best = highest_award_met(programme, results, 60)
    assert best is not None and best.award.id == "pg_diploma"
    assert [r.outcome for r in best.results] == ["passed", "condoned", "passed"]


@pytest.mark.parametrize(
    ("name", "module_marks", "expected"),
    [
        ("distinction", [72, 70, 71], "distinction"),
        ("merit", [65, 62, 60], "merit"),
        ("pass", [55, 50, 52], "pass"),
        ("borderline 68.x, half the credits at 70+: distinction", [70, 72, 62], "distinction"),
        ("borderline 68.x, under half at 70+: merit", [71, 67, 67], "merit"),
        ("borderline 58.x, half at 60+: merit", [60, 61, 55], "merit"),
        ("borderline 48.x, half at 50+: pass", [50, 52, 44], "pass"),
        ("below every band: no class", [45, 44, 47], None),
    ],
)
def test_classification_with_the_borderline_rule(
    programme: Programme, name: str, module_marks: list[int], expected: str | None
) -> None:
    codes = ("MPC", "OCVB", "LOTC")  # 20 credits each
    results = [
        ModuleResult(c, "passed", Decimal(m)) for c, m in zip(codes, module_marks, strict=True)
    ]
    assert classify(programme, results) == expected


def test_prior_learning_marks_never_enter_classification(programme: Programme) -> None:
    results = [passed("RAPL", 95), passed("MPC", 61), passed("OCVB", 61)]
    assert classify(programme, results) == "merit"


def test_a_reason_does_not_repeat_the_module_code_an_assignment_name_already_has() -> None:
    due = dt.datetime(2025, 12, 1, 12, tzinfo=dt.UTC)
    named = WorkItem("MPC", "MPC Assignment 1", due, graded=False, required=True)
    plain = WorkItem("MPC", "Essay", due, graded=False, required=True)
    assert (_titled(named), _titled(plain)) == ("MPC Assignment 1", "MPC Essay")
