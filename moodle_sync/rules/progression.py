"""Progression status: one per participant, the first that applies, always with its reasons.

The regulations define no such vocabulary; ours (programme.md) orders the checks so that the
most consequential fact wins: withdrawn, interrupted, eligible for the target award, referred,
at risk, on track, not started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from moodle_sync.rules.credits import CreditPosition
from moodle_sync.rules.deadlines import started_days
from moodle_sync.rules.facts import ParticipantStatus
from moodle_sync.rules.outcomes import ModuleResult
from moodle_sync.rules.policy import Programme

_DRAFT_WARNING = dt.timedelta(hours=48)


@dataclass(slots=True)
class WorkItem:
    """One assessment as progression sees it."""

    module: str
    name: str
    deadline: dt.datetime | None
    submitted: bool
    draft: bool
    graded: bool


@dataclass(frozen=True, slots=True)
class Progression:
    status: str
    reasons: tuple[str, ...]


def progression(
    programme: Programme,
    status: ParticipantStatus,
    target: CreditPosition,
    best: CreditPosition | None,
    work: Sequence[WorkItem],
    now: dt.datetime,
) -> Progression:
    """The first status of programme.md's order that applies."""
    if status == "suspended":
        return Progression("withdrawn", ("Enrolment suspended in every programme course",))
    if status == "interrupted":
        return Progression("interrupted", ("Study interrupted by the programme",))
    if best is not None and programme.award_rank(best.award.id) >= programme.award_rank(
        target.award.id
    ):
        return Progression(f"eligible_{best.award.id}", (_eligible_reason(best),))
    referred = [
        f"{r.code} referred: mark {r.mark}, resit pending"
        for r in target.results
        if r.outcome == "referred"
    ]
    if referred:
        return Progression("referred", tuple(referred))
    risks = _risks(target.results, work, now)
    if risks:
        return Progression("at_risk", tuple(risks))
    if any(w.graded or (w.deadline is not None and w.deadline <= now) for w in work):
        return Progression("on_track", (_on_track_reason(target),))
    return Progression("not_started", ("Nothing due or graded yet",))


def _risks(
    results: Sequence[ModuleResult], work: Sequence[WorkItem], now: dt.datetime
) -> list[str]:
    """Overdue work, a draft not submitted under 48 hours out, a module failed after resit."""
    risks = []
    for w in work:
        if w.submitted or w.graded or w.deadline is None:
            continue
        if w.deadline < now:
            days = started_days(w.deadline, now)
            risks.append(f"{_titled(w)} {days} day{'s' * (days != 1)} overdue")
        elif w.draft and w.deadline - now < _DRAFT_WARNING:
            hours = _hours(now, w.deadline)
            risks.append(f"{_titled(w)}: draft not submitted, due in {hours} hours")
    risks += [
        f"{r.code} failed after resit (mark {r.mark})" for r in results if r.outcome == "failed"
    ]
    return risks


def _titled(w: WorkItem) -> str:
    """'MPC Essay', or the name alone when it already starts with the module code."""
    return w.name if w.name.split(" ", 1)[0] == w.module else f"{w.module} {w.name}"


def _hours(start: dt.datetime, end: dt.datetime) -> int:
    return int((end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() // 3600)


def _eligible_reason(best: CreditPosition) -> str:
    prior = f" ({best.prior} from prior learning)" if best.prior else ""
    return f"Meets {best.award.title}: {best.total} credits{prior}, {best.level7} at Level 7"


def _on_track_reason(target: CreditPosition) -> str:
    return f"{target.total} of {target.award.credits} credits toward {target.award.title}"
