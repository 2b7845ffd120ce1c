"""One participant through every rule: deadlines, penalties, outcomes, credits, status, plan.

Pure: `now` is a parameter and nothing is read or written, so the same facts always give the
same evaluation, whether they came from the JSON command or from the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from moodle_sync.rules.credits import CreditPosition, classify, highest_met, positions
from moodle_sync.rules.deadlines import effective_deadline, started_days
from moodle_sync.rules.facts import Assessment, Participant
from moodle_sync.rules.outcomes import AssessmentMark, ModuleResult, module_result
from moodle_sync.rules.penalties import ON_TIME, Lateness, lateness, penalised_mark
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.progression import Progression, WorkItem, progression
from moodle_sync.rules.reminders import reminders_due

_ZERO = Decimal(0)


@dataclass(slots=True)
class AssessmentResult:
    assessment: Assessment
    module: str
    deadline: dt.datetime | None
    lateness: Lateness
    days_late: int
    final_mark: Decimal | None
    penalty: Decimal | None
    reminders_due: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParticipantResult:
    participant: Participant
    progression: Progression
    target: CreditPosition
    best: CreditPosition | None
    classification: str | None
    assessments: tuple[AssessmentResult, ...]


def evaluate_participant(
    p: Participant, programme: Programme, now: dt.datetime
) -> ParticipantResult:
    active = p.status == "active"
    works = [
        evaluate_assessment(p.id, rec.module, a, programme, now, plan=active)
        for rec in p.modules
        for a in rec.assessments
    ]
    results = module_results(programme, p, works)
    target_award = programme.awards[p.target_award or programme.default_target_award]
    prior = prior_awarded(programme, p, results)
    by_award = positions(programme, results, prior)
    target, best = by_award[target_award.id], highest_met(by_award)
    items = [_work_item(w) for w in works]
    status = progression(programme, p.status, target, best, items, now)
    if status.status in ("withdrawn", "interrupted"):
        works = [_without_reminders(w) if w.reminders_due else w for w in works]
    classification = classify(programme, best.results) if best else None
    return ParticipantResult(p, status, target, best, classification, tuple(works))


def evaluate_assessment(
    recipient: str | int,
    module: str,
    a: Assessment,
    programme: Programme,
    now: dt.datetime,
    *,
    plan: bool = True,
) -> AssessmentResult:
    tz, rule = programme.timezone, programme.late_penalty
    deadline = effective_deadline(a.due, a.extension)
    handed_in = a.submitted_at if a.submission_status not in ("new", "draft") else None
    late = lateness(deadline, handed_in, rule, tz) if handed_in else ON_TIME
    days_late = late.days_late
    if handed_in is None and not a.is_submitted and deadline is not None and a.grade is None:
        days_late = started_days(deadline, now)
    grade = a.released_grade
    final = None if grade is None else penalised_mark(grade, late, rule, programme.pass_mark)
    penalty = _penalty(late, grade, final)
    due = reminders_due(recipient, a, deadline, programme.reminders, tz, now) if plan else []
    return AssessmentResult(a, module, deadline, late, days_late, final, penalty, tuple(due))


def _penalty(late: Lateness, grade: Decimal | None, final: Decimal | None) -> Decimal | None:
    """The mark before the penalty minus the final mark: 0 on time, unknown until graded."""
    if late.state == "on_time":
        return _ZERO
    return None if grade is None or final is None else grade - final


def module_results(
    programme: Programme, p: Participant, works: list[AssessmentResult]
) -> list[ModuleResult]:
    """Module outcomes before condonation, in the participant's module order."""
    by_module: dict[str, list[AssessmentMark]] = {rec.module: [] for rec in p.modules}
    for w in works:
        mark = AssessmentMark(w.final_mark, w.assessment.weight, w.assessment.resit)
        by_module.setdefault(w.module, []).append(mark)
    cap, pass_mark = programme.resit_cap, programme.pass_mark
    return [module_result(code, marks, pass_mark, cap) for code, marks in by_module.items()]


def prior_awarded(programme: Programme, p: Participant, results: list[ModuleResult]) -> int:
    """The stated prior-learning credits, else those of passed prior-learning modules."""
    if p.prior_learning_credits is not None:
        return p.prior_learning_credits
    return sum(
        programme.modules[r.code].credits
        for r in results
        if r.outcome == "passed" and programme.modules[r.code].kind == "prior_learning"
    )


def _work_item(w: AssessmentResult) -> WorkItem:
    a = w.assessment
    return WorkItem(
        w.module, a.name, w.deadline, a.is_submitted, a.has_draft, a.released_grade is not None
    )


def _without_reminders(w: AssessmentResult) -> AssessmentResult:
    return replace(w, reminders_due=())
