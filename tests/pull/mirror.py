"""Moodle's data and the store's copy of it, reduced to comparable sets.

The store keeps history (ended enrolments, deleted assignments); these views hold only what
is live, which is what must match Moodle after every sync.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chaos.verify import mark
from chaos.verify import store_view as live_store_view
from moodle_sync.sandbox.state import SiteState

View = dict[str, set[tuple[Any, ...]]]


def when(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


MOODLE_STREAMS = ("enrolments", "assignments", "submissions", "user_flags", "grades")


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
    """The store's live copy of Moodle (the chaos runner's view, less the push side)."""
    with sessions() as session:
        view = live_store_view(session)
    return {name: view[name] for name in MOODLE_STREAMS}


def differences(expected: View, actual: View) -> dict[str, dict[str, set[tuple[Any, ...]]]]:
    """Per stream, what is missing from and extra in `actual`; empty when they match."""
    found = {}
    for name in expected:
        missing, extra = expected[name] - actual[name], actual[name] - expected[name]
        if missing or extra:
            found[name] = {"missing": missing, "extra": extra}
    return found
