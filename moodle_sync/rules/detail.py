"""What the progression pages inside Moodle show beyond the status, decided here once.

The pages (local_cetadsync) render only what the worker sends, so every judgement they show
is made in the rules: the state of each piece of work, a module's outcome while it is still
pending, the next deadline, how urgent a participant is (the tutors' sort key) and the
late-work rule in a student's words. Pure: `now` is a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from moodle_sync.rules.evaluate import AssessmentResult
from moodle_sync.rules.facts import Assessment
from moodle_sync.rules.outcomes import ModuleResult
from moodle_sync.rules.penalties import late_work_in_words
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.progression import SILENT_STATUSES, hours_between

WorkState = Literal["new", "draft", "submitted", "graded"]

# Urgency bands (higher = more urgent); within a band, days overdue or hours to the deadline.
AT_RISK_URGENCY = 3000
REFERRED_URGENCY = 2000
SOON_URGENCY = 1000
MOST_DAYS = 999  # days overdue beyond this add nothing: the bands must not overlap
SOON_HOURS = 7 * 24


def work_state(a: Assessment) -> WorkState:
    """graded (a released grade), submitted, draft, else new (also a reopened attempt, which
    the student has not handed in again)."""
    if a.released_grade is not None:
        return "graded"
    if a.is_submitted:
        return "submitted"
    return "draft" if a.has_draft else "new"


def module_outcome(
    result: ModuleResult, works: Sequence[AssessmentResult], now: dt.datetime
) -> str:
    """The module's outcome; a pending module is in_progress once any of its work is handed
    in or graded or a deadline of it has passed, else not_started."""
    if result.outcome != "pending":
        return result.outcome
    for w in works:
        if w.module != result.code:
            continue
        passed = w.deadline is not None and w.deadline <= now
        if passed or work_state(w.assessment) != "new":
            return "in_progress"
    return "not_started"


def next_deadline(works: Sequence[AssessmentResult], now: dt.datetime) -> dt.datetime | None:
    """The earliest effective deadline (own date and extension applied) of required work not
    yet handed in or graded that is still ahead of `now`."""
    ahead = [
        w.deadline
        for w in works
        if w.required
        and w.deadline is not None
        and w.deadline > now
        and work_state(w.assessment) in ("new", "draft")
    ]
    return min(ahead, default=None)


def most_days_overdue(works: Sequence[AssessmentResult]) -> int:
    """The most days any required piece of work is overdue (its concern), capped."""
    days = [w.concern.days for w in works if w.concern is not None and w.concern.kind == "overdue"]
    return min(max(days, default=0), MOST_DAYS)


def urgency(
    status: str,
    works: Sequence[AssessmentResult],
    deadline: dt.datetime | None,
    now: dt.datetime,
) -> int:
    """The tutors' sort key: at risk, then referred (each by days overdue), then anyone else
    with required work due within seven days (the sooner the higher); withdrawn, interrupted
    and everyone else 0."""
    if status in SILENT_STATUSES:
        return 0
    if status == "at_risk":
        return AT_RISK_URGENCY + most_days_overdue(works)
    if status == "referred":
        return REFERRED_URGENCY + most_days_overdue(works)
    if deadline is not None and now < deadline <= now + dt.timedelta(hours=SOON_HOURS):
        return SOON_URGENCY + SOON_HOURS - hours_between(now, deadline)
    return 0


def late_work(programme: Programme) -> str:
    """The programme's late-work rule as one sentence a student reads in ten seconds."""
    words = late_work_in_words(programme.late_penalty, programme.pass_mark)
    return f"{words[0].upper()}{words[1:]}."
