"""What the progression pages show: work states, pending modules, next deadline, urgency,
the late-work sentence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from moodle_sync.rules.detail import late_work, module_outcome, next_deadline, urgency, work_state
from moodle_sync.rules.evaluate import ParticipantResult, evaluate_participant
from moodle_sync.rules.facts import Assessment, ModuleRecord, Participant
from moodle_sync.rules.policy import Programme
from tests.rules.conftest import london

NOW = london(2025, 12, 1, 10)
DAY = dt.timedelta(days=1)


def _result(programme: Programme, *work: Assessment, module: str = "MPC") -> ParticipantResult:
    p = Participant(1, "P", (ModuleRecord(module, work),))
    return evaluate_participant(p, programme, NOW)


def test_work_states_follow_the_submission_and_a_released_grade() -> None:
    assert work_state(Assessment(1, "A")) == "new"
    assert work_state(Assessment(1, "A", submission_status="reopened")) == "new"
    assert work_state(Assessment(1, "A", submission_status="draft")) == "draft"
    assert work_state(Assessment(1, "A", submission_status="submitted")) == "submitted"
    held = Assessment(1, "A", submission_status="submitted", grade=Decimal(60), released=False)
    assert work_state(held) == "submitted"
    assert work_state(Assessment(1, "A", grade=Decimal(60))) == "graded"


def test_the_next_deadline_is_the_earliest_extended_one_still_ahead(programme: Programme) -> None:
    r = _result(
        programme,
        Assessment(1, "Overdue", due=NOW - DAY),
        Assessment(2, "Extended", due=NOW + DAY, extension=NOW + 5 * DAY),
        Assessment(
            3, "Handed in", due=NOW + 2 * DAY, submission_status="submitted", submitted_at=NOW
        ),
        Assessment(4, "Later", due=NOW + 9 * DAY),
        Assessment(5, "Resit not needed", due=NOW + DAY / 2, resit=True),
    )
    assert next_deadline(r.assessments, NOW) == NOW + 5 * DAY


def test_a_pending_module_is_in_progress_once_work_is_in_or_a_deadline_passed(
    programme: Programme,
) -> None:
    ahead = _result(programme, Assessment(1, "Essay", due=NOW + DAY))
    started = _result(programme, Assessment(1, "Essay", due=NOW + DAY, submission_status="draft"))
    passed = _result(programme, Assessment(1, "Essay", due=NOW - DAY))
    outcomes = [
        module_outcome(r.target.results[0], r.assessments, NOW) for r in (ahead, started, passed)
    ]
    assert outcomes == ["not_started", "in_progress", "in_progress"]


def test_urgency_orders_at_risk_then_referred_then_due_soon(programme: Programme) -> None:
    r = _result(programme, Assessment(1, "Essay", due=NOW - 4 * DAY + dt.timedelta(hours=1)))
    assert r.progression.status == "at_risk"
    assert urgency("at_risk", r.assessments, None, NOW) == 3004
    assert urgency("referred", (), None, NOW) == 2000
    soon = NOW + dt.timedelta(hours=20, minutes=30)
    assert urgency("on_track", (), soon, NOW) == 1000 + 168 - 20
    assert urgency("on_track", (), NOW + 8 * DAY, NOW) == 0
    assert urgency("withdrawn", r.assessments, soon, NOW) == 0
    assert urgency("interrupted", (), soon, NOW) == 0


def test_days_overdue_are_capped_so_bands_never_overlap(programme: Programme) -> None:
    r = _result(programme, Assessment(1, "Essay", due=NOW - 5000 * DAY))
    assert urgency("at_risk", r.assessments, None, NOW) == 3999


def test_the_late_work_sentence_is_worded_from_the_settings(
    programme: Programme, programme_with: Callable[..., Programme]
) -> None:
    assert late_work(programme) == (
        "Work submitted after the deadline and up to 3 days after it (Monday 10:00 when that "
        "is a weekend) loses 10 marks; after that it scores 0."
    )
    capped = programme_with(late_penalty={"scheme": "cap_at_pass_mark", "window_days": 1,
                                          "weekend_moves_to": None})  # fmt: skip
    assert late_work(capped) == (
        "Work submitted after the deadline and up to 1 day after it is capped at the pass mark "
        "(50); after that it scores 0."
    )
