"""One participant through every rule: deadlines, penalties, outcomes, credits, status, plan.

Pure: `now` is a parameter and nothing is read or written, so the same facts always give the
same evaluation, whether they came from the JSON command or from the database.

Marks come first (they decide the module outcomes); only then is each piece of work judged
*required*: its module's course enrolment is current, and a resit only of a module that is
referred. Work that is not required gets no reminders, no lateness and no concern, so nobody
is reminded of, or put at risk by, a resit they do not need or a course they are suspended in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from moodle_sync.rules.credits import CreditPosition, classify, highest_met, positions
from moodle_sync.rules.deadlines import effective_deadline, started_days
from moodle_sync.rules.facts import Assessment, Participant
from moodle_sync.rules.outcomes import AssessmentMark, ModuleResult, module_result
from moodle_sync.rules.penalties import ON_TIME, Lateness, lateness, penalised_mark
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.progression import (
    SILENT_STATUSES,
    Concern,
    Progression,
    WorkItem,
    concern,
    progression,
)
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
    reminders_due: tuple[str, ...] = ()
    required: bool = True
    concern: Concern | None = None


@dataclass(frozen=True, slots=True)
class ParticipantResult:
    participant: Participant
    progression: Progression
    target: CreditPosition
    best: CreditPosition | None
    classification: str | None
    assessments: tuple[AssessmentResult, ...]

    @property
    def silent(self) -> bool:
        """Withdrawn or interrupted: no messages at all."""
        return self.progression.status in SILENT_STATUSES


def evaluate_participant(
    p: Participant, programme: Programme, now: dt.datetime
) -> ParticipantResult:
    works = [
        mark_assessment(rec.module, a, programme) for rec in p.modules for a in rec.assessments
    ]
    results = module_results(programme, p, works)
    referred = {r.code for r in results if r.outcome == "referred"}
    enrolled = {rec.module: rec.enrolled for rec in p.modules}
    active = p.status == "active"
    for w in works:
        required = enrolled[w.module] and (not w.assessment.resit or w.module in referred)
        judge(p.id, w, required, programme, now, plan=active)
    target_award = programme.awards[p.target_award or programme.default_target_award]
    prior = prior_awarded(programme, p, results)
    by_award = positions(programme, results, prior)
    target, best = by_award[target_award.id], highest_met(by_award)
    items = [_work_item(w) for w in works]
    status = progression(programme, p.status, target, best, items, now)
    if status.status in SILENT_STATUSES:
        for w in works:
            w.reminders_due = ()
    classification = classify(programme, best.results) if best else None
    return ParticipantResult(p, status, target, best, classification, tuple(works))


def mark_assessment(module: str, a: Assessment, programme: Programme) -> AssessmentResult:
    """The deadline, lateness and final mark: what the module outcome needs."""
    tz, rule = programme.timezone, programme.late_penalty
    deadline = effective_deadline(a.due, a.extension)
    handed_in = a.submitted_at if a.submission_status not in ("new", "draft") else None
    late = lateness(deadline, handed_in, rule, tz) if handed_in else ON_TIME
    grade = a.released_grade
    final = None if grade is None else penalised_mark(grade, late, rule, programme.pass_mark)
    penalty = _penalty(late, grade, final)
    return AssessmentResult(a, module, deadline, late, late.days_late, final, penalty)


def judge(
    recipient: str | int,
    w: AssessmentResult,
    required: bool,
    programme: Programme,
    now: dt.datetime,
    *,
    plan: bool = True,
) -> None:
    """Whether the work is required, and if so what is due for it and what a tutor should know."""
    a, deadline = w.assessment, w.deadline
    w.required = required
    w.concern = concern(a, deadline, required, programme, now)
    if not required:
        return
    if not a.is_submitted and deadline is not None and a.grade is None:
        w.days_late = started_days(deadline, now)
    if plan:
        tz = programme.timezone
        w.reminders_due = tuple(reminders_due(recipient, a, deadline, programme.reminders, tz, now))


def evaluate_assessment(
    recipient: str | int,
    module: str,
    a: Assessment,
    programme: Programme,
    now: dt.datetime,
    *,
    plan: bool = True,
    required: bool = True,
) -> AssessmentResult:
    """One assessment on its own (its module's outcome not considered)."""
    w = mark_assessment(module, a, programme)
    judge(recipient, w, required, programme, now, plan=plan)
    return w


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
        w.module, a.name, w.deadline, a.released_grade is not None, w.required, w.concern
    )
