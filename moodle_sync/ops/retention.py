"""Retention (UK GDPR): forget people who left every programme course long enough ago.

A leaver is a user all of whose stored enrolments have ended (Moodle stopped returning them)
and the latest of them before the cut-off. For each leaver the purge deletes their
submissions, grades, flags, own due dates, pushed profile values, progression fingerprints
and enrolments, blanks the names, username, idnumber and email of their user row (the Moodle
id stays, so a returning student is not confused with a new one), and empties the text of
every message to them.
Texts of finished messages older than the cut-off are emptied for everyone, because tutor
digests name students. A dry run executes the same statements, counts, and rolls back.
What is kept: anonymised counts per course, in the audit log entry of the purge.
See docs/retention.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.push import outbox
from moodle_sync.store.tables import (
    Assignment,
    AuditEntry,
    Course,
    Enrolment,
    Grade,
    OwnDates,
    ProfileValue,
    ProgressionFingerprint,
    Submission,
    User,
    UserFlags,
)

_CHUNK = 500
_PER_USER = (
    Submission, Grade, UserFlags, OwnDates, ProfileValue, ProgressionFingerprint, Enrolment
)  # fmt: skip


@dataclass
class PurgeReport:
    cutoff: dt.datetime
    dry_run: bool
    people: int = 0
    by_course: dict[str, dict[str, int]] = field(default_factory=dict)  # idnumber -> counts
    rows: Counter[str] = field(default_factory=Counter)  # table -> rows deleted or blanked

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "people": self.people,
            "by_course": self.by_course,
            "rows": dict(self.rows),
        }


def leavers(session: Session, cutoff: dt.datetime) -> list[int]:
    """Users whose every enrolment has ended, the last before `cutoff`."""
    query = (
        select(Enrolment.user_id)
        .group_by(Enrolment.user_id)
        .having(func.count(Enrolment.ended_at) == func.count())
        .having(func.max(Enrolment.ended_at) < cutoff)
        .order_by(Enrolment.user_id)
    )
    return list(session.scalars(query))


def course_counts(session: Session, people: Sequence[int]) -> dict[str, dict[str, int]]:
    """Per course: how many leavers were enrolled, and their submissions and grades (no ids)."""
    out: dict[str, Counter[str]] = {}
    for chunk in _chunks(people):
        enrolled = (
            select(Course.idnumber, func.count())
            .join(Enrolment)
            .where(Enrolment.user_id.in_(chunk))
            .group_by(Course.idnumber)
        )
        _add(out, "people", session.execute(enrolled).all())
        for table, name in ((Submission, "submissions"), (Grade, "grades")):
            query = (
                select(Course.idnumber, func.count())
                .select_from(table)
                .join(Assignment, Assignment.id == table.assignment_id)
                .join(Course, Course.id == Assignment.course_id)
                .where(table.user_id.in_(chunk))
                .group_by(Course.idnumber)
            )
            _add(out, name, session.execute(query).all())
    return {course: dict(counts) for course, counts in sorted(out.items())}


def purge(
    sessions: sessionmaker[Session], cutoff: dt.datetime, actor: str, *, dry_run: bool = False
) -> PurgeReport:
    """Forget the leavers (see the module docstring); one transaction, audited."""
    report = PurgeReport(cutoff, dry_run)
    now = dt.datetime.now(dt.UTC)
    with sessions() as session:
        people = leavers(session, cutoff)
        report.people, report.by_course = len(people), course_counts(session, people)
        for chunk in _chunks(people):
            for table in _PER_USER:
                statement = delete(table).where(table.user_id.in_(chunk))
                report.rows[table.__tablename__] += _count(session, statement)
            report.rows["users"] += _count(session, _blank_users(chunk))
            report.rows["outbox"] += outbox.forget_recipients(session, chunk, now)
        report.rows["outbox"] += outbox.blank_finished(session, cutoff)
        if dry_run:  # the same statements, counted, then undone
            session.rollback()
            return report
        session.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="db.purge",
                target=None,
                detail=report.as_dict(),
            )
        )
        session.commit()
    return report


def _blank_users(ids: Sequence[int]) -> Any:
    return (
        update(User)
        .where(User.id.in_(ids))
        .values(username=None, idnumber=None, firstname=None, lastname=None, email=None)
    )


def _add(out: dict[str, Counter[str]], name: str, rows: Sequence[Any]) -> None:
    for course, count in rows:
        out.setdefault(course, Counter())[name] += count


def _count(session: Session, statement: Any) -> int:
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
