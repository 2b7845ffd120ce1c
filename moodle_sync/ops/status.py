"""The service's state as `moodle-sync status` shows it, read from the store in one session.

The last runs (the ledger's rows), the outbox by state and what is in doubt, the courses
replaced by a rollover, the problems of the latest finished run and who holds the lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from moodle_sync.ops.lock import current_holder
from moodle_sync.store.db import current_revision, head_revision
from moodle_sync.store.tables import Course, OutboxMessage, SyncRun

RECENT_RUNS = 5


def read_store(engine: Engine) -> dict[str, Any]:
    revision = current_revision(engine)
    if revision is None:
        raise SQLAlchemyError("the database has no schema (no Alembic revision)")
    database = {"dialect": engine.dialect.name, "revision": revision,
                "head": head_revision(engine)}  # fmt: skip
    with Session(engine) as session:
        runs = list(session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(RECENT_RUNS)))
        counts = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        by_state = {state: count for state, count in session.execute(counts)}
        sending = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "sending"))
        in_doubt = [in_doubt_row(row) for row in sending]
        old = session.scalars(select(Course).where(Course.replaced_by.is_not(None)))
        replaced = [
            {"course_id": c.id, "idnumber": c.idnumber, "name": c.fullname,
             "replaced_by": c.replaced_by, "at": c.replaced_at and c.replaced_at.isoformat()}
            for c in old
        ]  # fmt: skip
    return {
        "rolled_over": replaced,
        "database": database,
        "runs": [run_summary(run) for run in runs],
        "outbox": {"by_state": by_state, "in_doubt": in_doubt},
        "failing": failing(runs),
        "lock": lock_holder(engine),
    }


def run_summary(run: SyncRun) -> dict[str, Any]:
    streams = run.counts.get("streams", {})
    changed = sum(c.get("inserted", 0) + c.get("updated", 0) + c.get("ended", 0)
                  for c in streams.values())  # fmt: skip
    return {
        "id": run.id,
        "kind": run.kind,
        "outcome": run.outcome,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "read": sum(c.get("read", 0) for c in streams.values()),
        "changed": changed,
        "messages": run.counts.get("messages", {}),
        "status_updates": run.counts.get("status_updates", {}),
    }


def in_doubt_row(row: OutboxMessage) -> dict[str, Any]:
    since = row.sending_started_at or row.updated_at
    return {"key": row.key, "recipient_id": row.recipient_id, "since": since.isoformat()}


def failing(runs: list[SyncRun]) -> dict[str, Any]:
    """The problems of the latest finished run: failed and missing courses, a fatal error."""
    latest = next((run for run in runs if run.outcome != "running"), None)
    if latest is None:
        return {}
    problems = latest.problems
    return {
        "run_id": latest.id,
        "failed_courses": problems.get("failed_courses", {}),
        "missing_courses": problems.get("missing_courses", []),
        "error": problems.get("error"),
        "messages": problems.get("messages"),
    }


def lock_holder(engine: Engine) -> dict[str, Any]:
    holder = current_holder(engine)
    if holder is None:
        return {"held": False}
    return {"held": True, "holder": holder.holder, "since": holder.acquired_at.isoformat()}
