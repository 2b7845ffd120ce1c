"""One sync run: resolve the scope, then pull each course as its own atomic partition.

A course that fails (after the client's retries) or is not accessible is recorded with its
reason and the others carry on; a fatal error (a revoked token) stops the run at once. Every
run leaves a `sync_runs` row saying what it read, wrote and what went wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.errors import FatalError, RetriableError, SkippableError
from moodle_sync.pull.counts import StreamCounts
from moodle_sync.pull.enrolments import store_courses, store_enrolments
from moodle_sync.pull.scope import resolve_scope
from moodle_sync.store.tables import SyncRun

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What a run did; `outcome` is complete, partial or failed."""

    run_id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"
    counts: dict[str, StreamCounts] = field(default_factory=dict)
    missing_courses: list[str] = field(default_factory=list)
    failed_courses: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def stream(self, name: str) -> StreamCounts:
        return self.counts.setdefault(name, StreamCounts())

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "counts": {name: counts.as_dict() for name, counts in self.counts.items()},
            "missing_courses": self.missing_courses,
            "failed_courses": self.failed_courses,
            "error": self.error,
        }


def run_sync(
    requester: Requester,
    sessions: sessionmaker[Session],
    course_idnumbers: Iterable[str],
    *,
    full: bool = False,
    now: datetime | None = None,
) -> SyncReport:
    """Pull the mapped courses and their enrolments into the store."""
    report = start_run(sessions, "full" if full else "incremental", now or datetime.now(UTC))
    try:
        pull_courses(requester, sessions, course_idnumbers, report)
    except FatalError as exc:
        report.error = str(exc)
        finish_run(sessions, report, requester, "failed")
        raise
    partial = report.missing_courses or report.failed_courses
    finish_run(sessions, report, requester, "partial" if partial else "complete")
    return report


def pull_courses(
    requester: Requester,
    sessions: sessionmaker[Session],
    course_idnumbers: Iterable[str],
    report: SyncReport,
) -> None:
    scope = resolve_scope(requester, course_idnumbers)
    report.missing_courses = scope.missing
    for idnumber in scope.missing:
        log.error("course idnumber %r is mapped in the programme but not found in Moodle", idnumber)
    with sessions.begin() as session:
        report.stream("courses").add(store_courses(session, scope.courses, report.started_at))
    for course in scope.courses:
        try:
            users = get_enrolled_users(requester, course.id)
        except (SkippableError, RetriableError) as exc:
            log.warning("course %s skipped: %s", course.idnumber, exc)
            report.failed_courses[course.idnumber] = str(exc)
            continue
        with sessions.begin() as session:
            counts = store_enrolments(session, course.id, users, report.started_at)
        report.stream("enrolments").add(counts)


def start_run(sessions: sessionmaker[Session], kind: str, now: datetime) -> SyncReport:
    with sessions.begin() as session:
        run = SyncRun(kind=kind, started_at=now, outcome="running", counts={}, problems={})
        session.add(run)
        session.flush()
        return SyncReport(run_id=run.id, kind=kind, started_at=now)


def finish_run(
    sessions: sessionmaker[Session], report: SyncReport, requester: Requester, outcome: str
) -> None:
    report.outcome = outcome
    report.finished_at = datetime.now(UTC)
    summary = report.as_dict()
    with sessions.begin() as session:
        run = session.get_one(SyncRun, report.run_id)
        run.outcome = outcome
        run.finished_at = report.finished_at
        run.counts = {"streams": summary["counts"], "requests": requester.stats.as_dict()}
        run.problems = {
            "missing_courses": report.missing_courses,
            "failed_courses": report.failed_courses,
            "error": report.error,
        }
