"""What programme leaders read: the cohort's progression, and the fortnight's deadlines.

Every figure comes from the cohort evaluated once (`cohort.facts.evaluate_store`, the
evaluation the planner and the profile push read in a run), so a report never disagrees with the
statuses pushed to Moodle. The HTML rendering is in `reports_html`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from moodle_sync.cohort.facts import Evaluation, evaluate_store
from moodle_sync.rules.evaluate import ParticipantResult
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import SyncRun

FORTNIGHT = dt.timedelta(days=14)


@dataclass(frozen=True, slots=True)
class ProgressionRow:
    """One participant, as the progression report shows them."""

    user_id: int
    name: str
    target_award: str
    credits: dict[str, int]  # taught and project modules, by code
    prior: int  # prior-learning credits counted toward the target award
    total: int
    eligible: str  # the highest award met, or ""
    classification: str  # so far, or ""
    status: str
    reasons: tuple[str, ...]
    next_deadline: dt.datetime | None


class Person(NamedTuple):
    name: str
    user_id: int


@dataclass
class DeadlineEntry:
    """One assignment with a deadline in the window, and where each student stands."""

    course: str
    assignment: str
    deadline: dt.datetime  # the earliest effective deadline among its students
    submitted: list[Person] = field(default_factory=list)
    outstanding: list[tuple[Person, dt.datetime]] = field(default_factory=list)


def module_columns(programme: Programme) -> list[str]:
    """The module codes that earn credits by assessment, in the programme's order."""
    return [code for code, m in programme.modules.items() if m.kind != "prior_learning"]


def progression_rows(
    session: Session, programme: Programme, now: dt.datetime, interrupted: Collection[int] = ()
) -> list[ProgressionRow]:
    evaluation = evaluate_store(session, programme, now, interrupted)
    return [progression_row(result, programme, now) for result in evaluation]


def progression_row(r: ParticipantResult, programme: Programme, now: dt.datetime) -> ProgressionRow:
    earned = r.target.credits_by_module(programme)
    return ProgressionRow(
        user_id=int(r.participant.id),
        name=r.participant.name,
        target_award=r.target.award.title,
        credits={code: earned.get(code, 0) for code in module_columns(programme)},
        prior=r.target.prior,
        total=r.target.total,
        eligible=r.best.award.title if r.best else "",
        classification=r.classification or "",
        status=r.progression.status,
        reasons=r.progression.reasons,
        next_deadline=next_deadline(r, now),
    )


def next_deadline(r: ParticipantResult, now: dt.datetime) -> dt.datetime | None:
    """The earliest deadline still ahead for work neither handed in nor graded."""
    ahead = [
        w.deadline
        for w in r.assessments
        if w.deadline is not None
        and w.deadline >= now
        and w.required
        and not w.assessment.is_submitted
        and w.assessment.grade is None
    ]
    return min(ahead, default=None)


def csv_header(programme: Programme) -> list[str]:
    modules = [f"credits {code}" for code in module_columns(programme)]
    return [
        "user id",
        "name",
        "target award",
        *modules,
        "prior learning credits",
        "total credits",
        "award eligible",
        "classification so far",
        "status",
        "reasons",
        "next deadline",
    ]


def write_csv(rows: Iterable[ProgressionRow], programme: Programme, out: TextIO) -> None:
    """One header line, then one line per participant; times in the programme's zone."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_header(programme))
    codes = module_columns(programme)
    for row in rows:
        writer.writerow(
            [
                row.user_id,
                row.name,
                row.target_award,
                *(row.credits[c] for c in codes),
                row.prior,
                row.total,
                row.eligible,
                row.classification,
                row.status,
                "; ".join(row.reasons),
                local_text(row.next_deadline, programme),
            ]
        )


def local_text(when: dt.datetime | None, programme: Programme) -> str:
    """'2026-12-05 12:00 GMT': the programme's zone, named, so no reader has to guess it."""
    if when is None:
        return ""
    return f"{when.astimezone(programme.timezone):%Y-%m-%d %H:%M %Z}"


def local_iso(when: dt.datetime, programme: Programme) -> str:
    """ISO-8601 in the programme's zone, with its offset: '2026-12-05T12:00:00+00:00'."""
    return when.astimezone(programme.timezone).isoformat()


def last_synchronised(session: Session) -> dt.datetime | None:
    """When the latest pull that read Moodle (completely or partly) finished."""
    finished = (
        select(SyncRun.finished_at)
        .where(SyncRun.outcome.in_(("complete", "partial")), SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc())
        .limit(1)
    )
    return session.scalars(finished).first()


def deadlines(
    session: Session,
    programme: Programme,
    now: dt.datetime,
    interrupted: Collection[int] = (),
    window: dt.timedelta = FORTNIGHT,
) -> list[DeadlineEntry]:
    """Assignments due within `window` of `now` (each student's own deadline, extensions
    included), by course and date, with who has submitted and who has not yet."""
    evaluation: Evaluation = evaluate_store(session, programme, now, interrupted)
    cohort = evaluation.cohort
    entries: dict[int, DeadlineEntry] = {}
    for r in evaluation:
        active = cohort.active_courses.get(int(r.participant.id), frozenset())
        for w in r.assessments:
            course = cohort.course_of(int(w.assessment.id))
            if course is None or course.id not in active or w.deadline is None or not w.required:
                continue
            if not now <= w.deadline <= now + window:
                continue
            entry = entries.setdefault(
                int(w.assessment.id), DeadlineEntry(course.name, w.assessment.name, w.deadline)
            )
            entry.deadline = min(entry.deadline, w.deadline)
            person = Person(r.participant.name, int(r.participant.id))
            if w.assessment.is_submitted:
                entry.submitted.append(person)
            else:
                entry.outstanding.append((person, w.deadline))
    return sorted(entries.values(), key=lambda e: (e.course, e.deadline, e.assignment))
