"""Moodle's data and the store's copy of it, reduced to comparable sets.

The store keeps history (ended enrolments, deleted assignments); these views hold only what
is live, which is what must match Moodle after every sync.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.sandbox.state import SiteState
from moodle_sync.store import tables

View = dict[str, set[tuple[Any, ...]]]


def when(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def mark(grade: float | Decimal | None) -> float | None:
    return None if grade is None or grade == -1 else round(float(grade), 5)


def moodle_view(state: SiteState, course_ids: set[int]) -> View:
    assignments = {a.id: a for a in state.assignments.values() if a.courseid in course_ids}
    return {
        "enrolments": {(e.courseid, e.userid, e.status) for e in state.enrolments
                       if e.courseid in course_ids},
        "assignments": {(a.id, a.courseid, a.name, when(a.duedate), when(a.cutoffdate))
                        for a in assignments.values()},
        "submissions": {(s.assignment, s.userid, s.status, when(s.timemodified))
                        for s in state.submissions if s.assignment in assignments},
        "user_flags": {(f.assignment, f.userid, when(f.extensionduedate), f.workflowstate or None)
                       for f in state.userflags if f.assignment in assignments},
        "grades": {(g.assignment, g.userid, mark(g.grade))
                   for g in state.grades if g.assignment in assignments},
    }  # fmt: skip


def store_view(sessions: sessionmaker[Session]) -> View:
    with sessions() as session:
        live = set(session.scalars(select(tables.Assignment.id)
                                  .where(tables.Assignment.deleted_at.is_(None))))  # fmt: skip

        def rows(table: Any) -> list[Any]:
            return list(session.scalars(select(table)))

        return {
            "enrolments": {(e.course_id, e.user_id, e.status) for e in rows(tables.Enrolment)
                           if e.ended_at is None},
            "assignments": {(a.id, a.course_id, a.name, a.due_at, a.cutoff_at)
                            for a in rows(tables.Assignment) if a.id in live},
            "submissions": {(s.assignment_id, s.user_id, s.status, s.time_modified)
                            for s in rows(tables.Submission) if s.assignment_id in live},
            "user_flags": {(f.assignment_id, f.user_id, f.extension_due_at, f.workflow_state)
                           for f in rows(tables.UserFlags) if f.assignment_id in live},
            "grades": {(g.assignment_id, g.user_id, mark(g.grade))
                       for g in rows(tables.Grade) if g.assignment_id in live},
        }  # fmt: skip


def differences(expected: View, actual: View) -> dict[str, dict[str, set[tuple[Any, ...]]]]:
    """Per stream, what is missing from and extra in `actual`; empty when they match."""
    found = {}
    for name in expected:
        missing, extra = expected[name] - actual[name], actual[name] - expected[name]
        if missing or extra:
            found[name] = {"missing": missing, "extra": extra}
    return found
