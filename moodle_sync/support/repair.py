"""`reconcile --apply`: the repair, one scope re-pulled, re-planned and re-pushed.

Profile values edited by hand in Moodle are forgotten (so the push sends ours again), then
the same pipeline as every run, narrowed to the scope; it is recorded as a `reconcile` run
with what was done, and an audit entry names who asked for it. The caller holds the lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.ops.ledger import annotate_run
from moodle_sync.run import RunContext, run_pipeline
from moodle_sync.store.tables import AuditEntry, ProfileValue
from moodle_sync.support.reconcile import Difference, Reconciliation, diff


@dataclass
class Repair:
    """What --apply did: the differences before, the actions, and what is left after."""

    before: Reconciliation
    after: Reconciliation
    run_id: int
    outcome: str
    forgotten: int
    planned: int
    cancelled: int
    pushed: int
    profile_failures: dict[int, str]

    def summary(self) -> dict[str, Any]:
        areas = Counter(d.area for d in self.before.differences)
        return {
            "courses": self.before.courses,
            "user_id": self.before.user_id,
            "differences": dict(sorted(areas.items())),
            "profile_values_forgotten": self.forgotten,
            "reminders_planned": self.planned,
            "reminders_cancelled": self.cancelled,
            "profiles_pushed": self.pushed,
            "profiles_failed": {str(k): v for k, v in self.profile_failures.items()},
            "remaining": len(self.after.differences),
        }


def repair(ctx: RunContext, scope: Reconciliation, actor: str) -> Repair:
    """Re-pull the scope in full, re-plan and re-push from one evaluation (nothing is sent:
    the next scheduled run delivers); record a `reconcile` run and an audit entry."""
    push, source = ctx.settings.push, ctx.moodle_path().source
    before = diff(ctx.sessions, ctx.requester, source, ctx.programme, push, scope, ctx.now)
    forgotten = forget_hand_edits(ctx.sessions, before.differences)
    done = run_pipeline(ctx)
    after = diff(ctx.sessions, ctx.requester, source, ctx.programme, push, scope, ctx.now)
    profiles = done.profiles
    failed = done.sync.outcome != "complete" or profiles.failed or profiles.in_doubt
    repaired = Repair(before, after, done.sync.run_id, "partial" if failed else "complete",
                      forgotten, done.plan.planned, done.plan.cancelled, profiles.pushed,
                      profiles.failed)  # fmt: skip
    record(ctx.sessions, repaired, actor, ctx.clock())
    return repaired


def forget_hand_edits(sessions: sessionmaker[Session], found: list[Difference]) -> int:
    """Drop the last-pushed value of fields edited in Moodle, so the push sends ours again."""
    edits = [d for d in found if d.area == "profile" and d.side == "moodle"]
    with sessions.begin() as session:
        for d in edits:
            mine = (ProfileValue.user_id == d.user_id) & (ProfileValue.field == d.field_name)
            session.execute(delete(ProfileValue).where(mine))
    return len(edits)


def record(sessions: sessionmaker[Session], done: Repair, actor: str, now: datetime) -> None:
    """The reconcile run keeps its summary; the audit log says who asked for it."""
    summary = done.summary()
    annotate_run(sessions, done.run_id, reconcile=summary)
    with sessions.begin() as session:
        target = ",".join(done.before.courses)
        if done.before.user_id is not None:
            target += f" user {done.before.user_id}"
        detail = {"run_id": done.run_id, **summary}
        entry = AuditEntry(at=now, actor=actor, action="reconcile",
                           target=target[:200], detail=detail)  # fmt: skip
        session.add(entry)
