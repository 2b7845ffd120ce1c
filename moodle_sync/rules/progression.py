"""Progression status: one per participant, the first that applies, always with its reasons.

The regulations define no such vocabulary; ours (programme.md) orders the checks so that the
most consequential fact wins: withdrawn, interrupted, eligible for the target award, referred,
at risk, on track, not started. What makes a piece of work worth a tutor's look (a `Concern`)
is decided here once, so the status, the tutors' digests and the reports never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from moodle_sync.rules.credits import CreditPosition
from moodle_sync.rules.deadlines import started_days
from moodle_sync.rules.facts import Assessment, ParticipantStatus
from moodle_sync.rules.outcomes import ModuleResult
from moodle_sync.rules.policy import Programme

# Statuses whose holders get no messages at all (reminders, digest lines).
SILENT_STATUSES = frozenset({"withdrawn", "interrupted"})
ConcernKind = Literal["overdue", "draft_due_soon", "awaiting_marking"]
AT_RISK_CONCERNS: frozenset[ConcernKind] = frozenset({"overdue", "draft_due_soon"})


@dataclass(frozen=True, slots=True)
class Concern:
    """Why a tutor should look at one piece of work now; `days` overdue, `hours` left."""

    kind: ConcernKind
    days: int = 0
    hours: int = 0


@dataclass(slots=True)
class WorkItem:
    """One assessment as progression sees it."""

    module: str
    name: str
    deadline: dt.datetime | None
    graded: bool  # a released grade exists
    required: bool  # the participant must do it (enrolled; a resit only when referred)
    concern: Concern | None = None


@dataclass(frozen=True, slots=True)
class Progression:
    status: str
    reasons: tuple[str, ...]


def concern(
    a: Assessment,
    deadline: dt.datetime | None,
    required: bool,
    programme: Programme,
    now: dt.datetime,
) -> Concern | None:
    """Overdue work, a draft close to its deadline, or a submission awaiting marking."""
    if not required or a.released_grade is not None:
        return None
    if a.is_submitted:
        return Concern("awaiting_marking")
    if deadline is None:
        return None
    if deadline < now:
        return Concern("overdue", days=started_days(deadline, now))
    warning = dt.timedelta(hours=programme.reminders.draft_hours_before)
    if a.has_draft and deadline - now < warning:
        return Concern("draft_due_soon", hours=hours_between(now, deadline))
    return None


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
    risks = _risks(target.results, work)
    if risks:
        return Progression("at_risk", tuple(risks))
    if any(w.graded or (w.required and w.deadline is not None and w.deadline <= now)
           for w in work):  # fmt: skip
        return Progression("on_track", (_on_track_reason(target),))
    return Progression("not_started", ("Nothing due or graded yet",))


def _risks(results: Sequence[ModuleResult], work: Sequence[WorkItem]) -> list[str]:
    """Overdue work, a draft not submitted close to its deadline, a module failed after resit."""
    risks = []
    for w in work:
        c = w.concern
        if c is None or c.kind not in AT_RISK_CONCERNS:
            continue
        if c.kind == "overdue":
            risks.append(f"{_titled(w)} {c.days} day{'s' * (c.days != 1)} overdue")
        else:
            risks.append(f"{_titled(w)}: draft not submitted, due in {c.hours} hours")
    risks += [
        f"{r.code} failed after resit (mark {r.mark})" for r in results if r.outcome == "failed"
    ]
    return risks


def _titled(w: WorkItem) -> str:
    """'MPC Essay', or the name alone when it already starts with the module code."""
    return w.name if w.name.split(" ", 1)[0] == w.module else f"{w.module} {w.name}"


def hours_between(start: dt.datetime, end: dt.datetime) -> int:
    return int((end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() // 3600)


def _eligible_reason(best: CreditPosition) -> str:
    prior = f" ({best.prior} from prior learning)" if best.prior else ""
    return f"Meets {best.award.title}: {best.total} credits{prior}, {best.level7} at Level 7"


def _on_track_reason(target: CreditPosition) -> str:
    return f"{target.total} of {target.award.credits} credits toward {target.award.title}"
