"""The run ledger (`sync_runs`): the one owner of a run's row, from its start to its end.

Every run is opened here and closed here, whatever happens: `recorded_run` closes it as
failed, with the reason, when anything escapes (Moodle unreachable, a revoked token, Ctrl-C,
a bug), so no run stays `running` while its process lives. A process killed outright
(SIGKILL, a power cut) cannot write; the next run, which holds the pipeline lock and so knows
no other run is alive, closes such rows as abandoned before opening its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.errors import MoodleSyncError
from moodle_sync.logs import set_run_id
from moodle_sync.store.tables import SyncRun

log = logging.getLogger(__name__)
RUNNING = "running"
ABANDONED = "abandoned: the process ended before the run finished (killed, or the machine stopped)"


@dataclass
class RunRecord:
    """A run being recorded; `close` says how it ended."""

    id: int
    kind: str
    started_at: datetime
    outcome: str = RUNNING
    counts: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, Any] = field(default_factory=dict)

    def close(self, outcome: str, counts: dict[str, Any], problems: dict[str, Any]) -> None:
        self.outcome, self.counts, self.problems = outcome, counts, problems


@contextmanager
def recorded_run(
    sessions: sessionmaker[Session], kind: str, started_at: datetime | None = None
) -> Iterator[RunRecord]:
    """Open a run's row; write how it ended when the block ends, or `failed` and why."""
    record = open_run(sessions, kind, started_at or datetime.now(UTC))
    try:
        yield record
    except BaseException as exc:
        reason = _reason(exc)
        problems = {**record.problems, "error": reason}
        _write(sessions, record.id, "failed", record.counts, problems)
        log.error("run %d failed: %s", record.id, reason)
        raise
    outcome = record.outcome if record.outcome != RUNNING else "complete"
    _write(sessions, record.id, outcome, record.counts, record.problems)


def annotate_run(sessions: sessionmaker[Session], run_id: int, **counts: Any) -> None:
    """Add figures to a finished run's counts (a reconciliation's summary)."""
    with sessions.begin() as session:
        run = session.get_one(SyncRun, run_id)
        run.counts = {**run.counts, **counts}


def open_run(sessions: sessionmaker[Session], kind: str, started_at: datetime) -> RunRecord:
    """Close runs left `running` by a process that is gone (the caller holds the lock), then
    open this one."""
    with sessions.begin() as session:
        close_abandoned(session)
        run = SyncRun(kind=kind, started_at=started_at, outcome=RUNNING, counts={}, problems={})
        session.add(run)
        session.flush()
        set_run_id(run.id)
        return RunRecord(run.id, kind, started_at)


def close_abandoned(session: Session) -> int:
    """Mark every run still `running` as failed (abandoned); return how many."""
    left = list(session.scalars(select(SyncRun).where(SyncRun.outcome == RUNNING)))
    for run in left:
        run.outcome = "failed"
        run.finished_at = datetime.now(UTC)
        run.problems = {**(run.problems or {}), "error": ABANDONED}
        log.warning("run %d was left running by a process that is gone: closed as failed", run.id)
    return len(left)


def _write(
    sessions: sessionmaker[Session],
    run_id: int,
    outcome: str,
    counts: dict[str, Any],
    problems: dict[str, Any],
) -> None:
    with sessions.begin() as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                outcome=outcome, finished_at=datetime.now(UTC), counts=counts, problems=problems
            )
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGINT) before the run finished"
    if isinstance(exc, SystemExit):
        return f"the process exited (code {exc.code}) before the run finished"
    text = str(exc).strip() or type(exc).__name__
    return (
        text
        if isinstance(exc, MoodleSyncError)
        else f"unexpected error {type(exc).__name__}: {text}"
    )
