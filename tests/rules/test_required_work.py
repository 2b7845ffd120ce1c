"""Which work a participant must do: resits only when referred, courses they are enrolled in;
and the policy behind 'at risk' read from the programme, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from moodle_sync.rules.document import evaluate_document
from moodle_sync.rules.evaluate import evaluate_participant
from moodle_sync.rules.facts import Assessment, ModuleRecord, Participant
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.progression import Concern
from tests.rules.conftest import london, make_programme

NOW = london(2025, 12, 10, 10)
PAST = london(2025, 12, 3, 12)  # a week before NOW
SOON = london(2025, 12, 11, 12)  # 26 hours after NOW


def essay(grade: float | None, **fields: object) -> Assessment:
    values: dict[str, object] = {"due": london(2025, 11, 1, 12), "submission_status": "submitted",
                                 "submitted_at": london(2025, 11, 1, 9)}  # fmt: skip
    values.update(fields)
    mark = None if grade is None else Decimal(str(grade))
    return Assessment(1, "MPC Essay", grade=mark, **values)  # type: ignore[arg-type]


def resit_due(when: dt.datetime = PAST) -> Assessment:
    return Assessment(2, "MPC Essay resit", due=when, submission_status="new", resit=True)


def one_module(*work: Assessment, enrolled: bool = True) -> Participant:
    return Participant(101, "Asha Patel", (ModuleRecord("MPC", work, enrolled),))


def test_a_student_who_passed_is_not_reminded_of_a_resit_nor_at_risk_for_it(
    programme: Programme,
) -> None:
    result = evaluate_participant(one_module(essay(62), resit_due(SOON)), programme, NOW)
    resit = result.assessments[1]
    assert (resit.required, resit.reminders_due, resit.concern) == (False, (), None)
    assert result.progression.status != "at_risk"
    overdue = evaluate_participant(one_module(essay(62), resit_due(PAST)), programme, NOW)
    assert overdue.assessments[1].days_late == 0
    assert overdue.progression.status == "on_track"


def test_a_referred_student_is_reminded_of_the_resit_and_at_risk_once_it_is_overdue(
    programme: Programme,
) -> None:
    soon = evaluate_participant(one_module(essay(41), resit_due(SOON)), programme, NOW)
    assert soon.assessments[1].required and soon.assessments[1].reminders_due
    assert soon.progression.status == "referred"
    late = evaluate_participant(one_module(essay(41), resit_due(PAST)), programme, NOW)
    assert late.assessments[1].concern == Concern("overdue", days=7)


def test_a_resit_is_not_required_while_the_first_mark_is_unreleased(programme: Programme) -> None:
    pending = evaluate_participant(
        one_module(essay(41, released=False), resit_due(PAST)), programme, NOW
    )
    assert pending.assessments[1].required is False
    assert pending.progression.status != "at_risk"


def test_work_in_a_course_the_student_is_suspended_in_is_neither_reminded_nor_a_risk(
    programme: Programme,
) -> None:
    overdue = Assessment(3, "MPC Report", due=PAST, submission_status="new")
    suspended = evaluate_participant(one_module(overdue, enrolled=False), programme, NOW)
    assert suspended.assessments[0].reminders_due == () and suspended.assessments[0].concern is None
    assert suspended.progression.status != "at_risk"
    enrolled = evaluate_participant(one_module(overdue), programme, NOW)
    assert enrolled.progression.status == "at_risk"


def test_marks_of_a_course_the_student_is_suspended_in_still_count(programme: Programme) -> None:
    result = evaluate_participant(one_module(essay(70), enrolled=False), programme, NOW)
    assert result.target.credits_by_module(programme)["MPC"] == 20


def test_the_draft_warning_follows_the_programmes_draft_hours(programme: Programme) -> None:
    draft = Assessment(4, "MPC Report", due=SOON, submission_status="draft")
    default = evaluate_participant(one_module(draft), programme, NOW)  # 26 h left, within 48
    assert default.progression.status == "at_risk"
    assert default.assessments[0].concern == Concern("draft_due_soon", hours=26)
    shorter = make_programme(reminders={"draft_hours_before": 24})
    later = evaluate_participant(one_module(draft), shorter, NOW)
    assert later.assessments[0].concern is None and later.progression.status != "at_risk"


def test_submitted_unmarked_work_awaits_marking(programme: Programme) -> None:
    result = evaluate_participant(one_module(essay(None)), programme, NOW)
    assert result.assessments[0].concern == Concern("awaiting_marking")


def test_the_json_contract_takes_enrolled_per_module(programme: Programme) -> None:
    work = {"id": 9, "name": "Essay", "due": PAST.isoformat(), "submission_status": "new"}
    module = {"module": "MPC", "enrolled": False, "assessments": [work]}
    doc = {"now": NOW.isoformat(), "participants": [{"id": 1, "name": "A", "modules": [module]}]}
    out = evaluate_document(doc, programme)["participants"][0]
    assert out["status"] != "at_risk" and out["assessments"][0]["reminders_due"] == []


@pytest.mark.parametrize("value", ["no", 0, None])
def test_enrolled_must_be_true_or_false(programme: Programme, value: object) -> None:
    from moodle_sync.errors import RulesInputError

    doc = {"now": NOW.isoformat(), "participants": [{"id": 1, "modules": [
        {"module": "MPC", "enrolled": value, "assessments": []}]}]}  # fmt: skip
    if value is None:
        evaluate_document(doc, programme)  # null means the default: enrolled
        return
    with pytest.raises(RulesInputError, match=r"modules\[0\]\.enrolled: must be true or false"):
        evaluate_document(doc, programme)
