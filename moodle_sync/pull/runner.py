"""The pull: resolve the scope, read every stream in batches, write each course atomically,
then ask for the students' own dates where they matter.

A course that fails (after the client's retries) or comes back with access warnings is
recorded with its reason, its bookmarks stay put, and the others carry on; a fatal error (a
revoked token) stops the run at once. The ledger row (`sync_runs`) belongs to `ops/ledger.py`:
`run_sync` records a pull on its own, the pipeline records a pull as part of a whole run.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.cycles import batch_stage
from moodle_sync.errors import FatalError
from moodle_sync.ops.ledger import RunRecord, recorded_run
from moodle_sync.paths import unasked
from moodle_sync.pull.diff import StreamCounts
from moodle_sync.pull.enrolments import store_courses
from moodle_sync.pull.fetch import Bookmarks, CourseData, Fetched, Progress
from moodle_sync.pull.partition import write_courses
from moodle_sync.pull.scope import Rollover, resolve_scope
from moodle_sync.pull.source import OwnDatesReport, Source
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import Assignment, Bookmark, Course

log = logging.getLogger(__name__)
# Whole courses written per transaction: fewer queries on a large site, and a crash still
# leaves every course entirely old or entirely new.
COURSES_PER_TRANSACTION = 25
STOPPED = "not written: the run was asked to stop first; the next run reads it again"


@dataclass
class SyncReport:
    """What a pull did; `outcome` is complete, partial or failed."""

    run_id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"
    counts: dict[str, StreamCounts] = field(default_factory=dict)
    missing_courses: list[str] = field(default_factory=list)
    failed_courses: dict[str, str] = field(default_factory=dict)
    rolled_over: list[Rollover] = field(default_factory=list)
    own_dates: OwnDatesReport = field(default_factory=OwnDatesReport)
    requests: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: float | None = None
    # CPU seconds the process spent in this pull, every thread, start-up and imports excluded:
    # the pull's own cost, which a long-running `moodle-sync worker` pays per run
    cpu_seconds: float | None = None
    error: str | None = None
    cpu_started: float = field(default_factory=time.process_time, repr=False)

    def add(self, counts: dict[str, StreamCounts]) -> None:
        for name, more in counts.items():
            self.counts.setdefault(name, StreamCounts()).add(more)

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
            "rolled_over": [r.describe() for r in self.rolled_over],
            "own_dates": self.own_dates.as_dict(),
            "requests": self.requests,
            "peak_memory_mb": self.peak_memory_mb,
            "cpu_seconds": self.cpu_seconds,
            "error": self.error,
        }

    def ledger(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The run's counts and problems, as the sync_runs row keeps them."""
        summary = self.as_dict()
        counts = {"streams": summary["counts"], "requests": self.requests,
                  "own_dates": {k: v for k, v in summary["own_dates"].items()
                                if k != "unconfirmed"}}  # fmt: skip
        problems = {
            "missing_courses": self.missing_courses,
            "failed_courses": self.failed_courses,
            "rolled_over": summary["rolled_over"],
            "unconfirmed_own_dates": summary["own_dates"]["unconfirmed"],
            "error": self.error,
        }
        return counts, problems


def run_sync(
    requester: Requester,
    sessions: sessionmaker[Session],
    programme: Programme,
    *,
    courses: Iterable[str] | None = None,
    full: bool = False,
    now: datetime | None = None,
    safety_window: timedelta = timedelta(minutes=10),
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    kind: str | None = None,
    source: Source | None = None,
) -> SyncReport:
    """The pull recorded as a run of its own (`moodle-sync sync`); without a `source`, through
    core web services (`paths.unasked`)."""
    source = source or unasked(requester).source
    with recorded_run(sessions, kind or ("full" if full else "incremental")) as run:
        report = pull(requester, sessions, programme, run, source, courses=courses, full=full,
                      now=now, safety_window=safety_window, should_stop=should_stop,
                      progress=progress)  # fmt: skip
        run.close(report.outcome, *report.ledger())
    return report


@batch_stage
def pull(
    requester: Requester,
    sessions: sessionmaker[Session],
    programme: Programme,
    run: RunRecord,
    source: Source,
    *,
    courses: Iterable[str] | None = None,
    full: bool = False,
    now: datetime | None = None,
    safety_window: timedelta = timedelta(minutes=10),
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Pull the mapped courses (or `courses`) and everything in them into the store, then the
    students' own dates where they matter at `now` (the decision time; default: now).

    Moodle is read through `source`, the run's path (`paths`); the store rows are the same
    whichever it is.

    `should_stop` is asked before the read and before each transaction of whole courses (the
    worker's SIGTERM): once it says yes, the courses not yet written are left at their old
    state and bookmarks, recorded as failed with the reason, and the pull ends partial.
    """
    report = SyncReport(run.id, run.kind, run.started_at)
    idnumbers = sorted(programme.mapped_courses() if courses is None else courses)
    stop = should_stop or (lambda: False)
    try:
        read(source, sessions, idnumbers, report, full, safety_window, stop,
             progress or no_progress)  # fmt: skip
        if not stop():
            decided_at = now or datetime.now(UTC)
            report.own_dates = source.refresh_own_dates(sessions, programme, decided_at,
                                                        full=full, run_id=run.id)  # fmt: skip
    except FatalError as exc:
        report.error = str(exc)
        _finish(report, requester, "failed")
        run.close("failed", *report.ledger())
        raise
    partial = report.missing_courses or report.failed_courses
    _finish(report, requester, "partial" if partial else "complete")
    return report


def read(
    source: Source,
    sessions: sessionmaker[Session],
    idnumbers: list[str],
    report: SyncReport,
    full: bool,
    window: timedelta,
    should_stop: Callable[[], bool],
    progress: Progress,
) -> None:
    known, bookmarks, cmids, digests = load_state(sessions)
    scope = resolve_scope(source, idnumbers, known)
    report.missing_courses, report.rolled_over = scope.missing, scope.rolled_over
    for idnumber in scope.missing:
        log.error("course idnumber %r is mapped in the programme but not found in Moodle", idnumber)
    for rollover in scope.rolled_over:
        log.warning("course rollover: %s", rollover.describe())
    with sessions.begin() as session:
        report.add({"courses": store_courses(session, scope.courses, report.started_at)})
    if should_stop():
        report.failed_courses.update(dict.fromkeys((c.idnumber for c in scope.courses), STOPPED))
        return
    fetched = source.read_courses(scope.courses, cmids, progress, sessions=sessions, full=full,
                                  digests={} if full else digests)  # fmt: skip
    writer = Writer(sessions, report, fetched, should_stop, progress, len(scope.courses))
    read_and_write(source, fetched, bookmarks, writer, full=full, window=window)
    if writer.stopped:
        unwritten = [c.idnumber for c in scope.courses if c.id not in writer.written]
        for idnumber in unwritten:
            report.failed_courses.setdefault(idnumber, STOPPED)


def read_and_write(
    source: Source,
    fetched: Fetched,
    bookmarks: Bookmarks,
    writer: Writer,
    *,
    full: bool,
    window: timedelta,
) -> None:
    """Read each group's records while the previous group is written: at most two groups'
    records are in memory, and the database work overlaps the waiting on Moodle."""
    groups = source.record_groups(fetched, bookmarks, full=full)
    grouped = {data.course.id for group in groups for data in group}
    with ThreadPoolExecutor(1, "prefetch") as prefetch:

        def read(group: list[CourseData]) -> Future[None]:
            return prefetch.submit(source.read_records, fetched, group, bookmarks, full=full,
                                   window=window)  # fmt: skip

        pending = read(groups[0]) if groups else None
        for index, group in enumerate(groups):
            assert pending is not None
            pending.result()
            pending = read(groups[index + 1]) if index + 1 < len(groups) else None
            if not writer.write(group):
                if pending is not None:
                    pending.cancel()
                return
    writer.write([data for cid, data in fetched.courses.items() if cid not in grouped])


@dataclass
class Writer:
    """Writes whole courses as their records arrive, then lets their records go."""

    sessions: sessionmaker[Session]
    report: SyncReport
    fetched: Fetched
    should_stop: Callable[[], bool]
    progress: Progress
    total: int
    done: int = 0
    written: set[int] = field(default_factory=set)
    stopped: bool = False

    def write(self, courses: list[CourseData]) -> bool:
        """Write these courses (failed ones recorded instead); False once asked to stop."""
        ready = [data for data in courses if not self.record_failure(data)]
        for start in range(0, len(ready), COURSES_PER_TRANSACTION):
            batch = ready[start : start + COURSES_PER_TRANSACTION]
            if self.should_stop():
                self.stopped = True
                return False
            with self.sessions.begin() as session:
                report, safe = self.report, self.fetched.deletions_safe
                report.add(write_courses(session, batch, report.started_at, report.run_id,
                                         deletions_safe=safe))  # fmt: skip
            self.written.update(data.course.id for data in batch)
        self.done += len(courses)
        self.progress("writing courses", self.done, self.total)
        for data in courses:
            data.records.clear()
        return True

    def record_failure(self, data: CourseData) -> bool:
        """A course whose reading failed is recorded with the reason, not written."""
        reason = self.fetched.failures.get(data.course.id)
        if reason is not None:
            log.warning("course %s not synchronised: %s", data.course.idnumber, reason)
            self.report.failed_courses[data.course.idnumber] = reason
        return reason is not None


def no_progress(stage: str, done: int, total: int) -> None:
    """Progress goes nowhere unless someone (a terminal) wants to see it."""


def load_state(
    sessions: sessionmaker[Session],
) -> tuple[dict[str, int], Bookmarks, dict[int, int], dict[int, str]]:
    """Known course ids by idnumber, bookmarks, which course each known cmid is in, and the
    digest of the enrolment answer each course's stored enrolments came from."""
    with sessions() as session:
        current = session.scalars(select(Course).where(Course.replaced_at.is_(None))).all()
        known = {c.idnumber: c.id for c in current}
        digests = {c.id: c.enrolments_digest for c in current if c.enrolments_digest}
        bookmarks = {(b.stream, b.partition): b.value for b in session.scalars(select(Bookmark))}
        cmids = {
            cmid: course
            for cmid, course in session.execute(select(Assignment.cmid, Assignment.course_id))
        }
    return known, bookmarks, cmids, digests


def _finish(report: SyncReport, requester: Requester, outcome: str) -> None:
    report.outcome = outcome
    report.finished_at = datetime.now(UTC)
    report.requests = requester.stats.as_dict()
    report.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report.cpu_seconds = round(time.process_time() - report.cpu_started, 3)
