"""The planner: the run's evaluation written to the outbox under stable keys.

Each run recomputes what *should* be queued at `now` (`drafts.py` for students, `digests.py`
for tutors) and hands the outbox three kinds of change: new keys enqueued (held while a
student's own dates are unconfirmed), open rows whose reason has gone cancelled with it, and
held rows released once confirmed. The same judgement (`Plan.verdict`) is asked again by the
outbox at the moment a row is claimed for sending, so a row left over from an earlier run, or
released from doubt, is never sent on a stale decision.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from moodle_sync.cohort.facts import Evaluation
from moodle_sync.push import outbox
from moodle_sync.push.digests import digest_drafts, digest_reason
from moodle_sync.push.drafts import DIGEST_KIND, Audience, Draft, reminder_drafts, reminder_reason
from moodle_sync.push.outbox import State
from moodle_sync.push.render import Renderer
from moodle_sync.store.tables import OutboxMessage


@dataclass
class PlanReport:
    """What a planning pass did (or, in a dry run, would do)."""

    run_id: int | None
    dry_run: bool
    planned: int = 0
    already_known: int = 0
    cancelled: int = 0
    held: int = 0  # reminders waiting for Moodle to confirm a student's own dates
    released: int = 0  # held reminders confirmed this run
    cancel_reasons: Counter[str] = field(default_factory=Counter)
    messages: list[dict[str, Any]] = field(default_factory=list)
    cancellations: list[dict[str, Any]] = field(default_factory=list)

    def record(self, rows: Sequence[dict[str, Any]], cancelled: Sequence[tuple[str, str]]) -> None:
        self.planned, self.cancelled = len(rows), len(cancelled)
        self.messages = [_summary(row, self.dry_run) for row in rows]
        for key, reason in cancelled:
            self.cancellations.append({"key": key, "reason": reason})
            self.cancel_reasons[reason.split(":", 1)[0]] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "planned": self.planned,
            "already_known": self.already_known,
            "cancelled": self.cancelled,
            "held": self.held,
            "released": self.released,
            "cancel_reasons": dict(sorted(self.cancel_reasons.items())),
            "messages": self.messages,
            "cancellations": self.cancellations,
        }


@dataclass
class Plan:
    """What the rules want queued at `now`, and the verdict on every other row.

    `only_user` limits the plan to one person (a reconciliation of one student): other
    people's rows are not this plan's to judge.
    """

    audience: Audience
    drafts: dict[str, Draft]
    only_user: int | None = None
    _pairs: set[tuple[int, int | None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._pairs = {(d.recipient_id, d.assignment_id) for d in self.drafts.values()}

    def covers(self, row: OutboxMessage) -> bool:
        return self.only_user is None or row.recipient_id == self.only_user

    def verdict(self, row: OutboxMessage) -> str | None:
        """Why `row` should not be sent now (`code: detail`), or None while its reason holds."""
        if row.key in self.drafts or not self.covers(row):
            return None
        if row.kind == DIGEST_KIND:
            return digest_reason(self.audience, row.key)
        if row.assignment_id is None:
            return None  # not planned here (an administrators' alert): nothing makes it stale
        superseded = (row.recipient_id, row.assignment_id) in self._pairs
        return reminder_reason(
            self.audience, row.recipient_id, row.assignment_id, row.deadline_at, superseded
        )

    def unconfirmed(self, draft: Draft) -> bool:
        pair = (draft.assignment_id, draft.recipient_id)
        return draft.assignment_id is not None and pair in self.audience.evaluation.unconfirmed


def make_plan(
    evaluation: Evaluation, opt_out: Sequence[int] = (), only_user: int | None = None
) -> Plan:
    audience = Audience(evaluation, frozenset(opt_out))
    drafts = [d for d in reminder_drafts(audience) if only_user in (None, d.recipient_id)]
    if only_user is None:
        drafts += digest_drafts(audience)
    return Plan(audience, {d.key: d for d in drafts}, only_user)


def write_plan(
    session: Session,
    plan: Plan,
    renderer: Renderer,
    now: dt.datetime,
    run_id: int | None,
    *,
    dry_run: bool = False,
) -> PlanReport:
    """Cancel what is no longer wanted, enqueue what is new, hold or release by confirmation.
    Does not commit."""
    report = PlanReport(run_id, dry_run)
    open_rows = [row for row in outbox.open_rows(session) if plan.covers(row)]
    stale = [(row, why) for row in open_rows if (why := plan.verdict(row)) is not None]
    outbox.cancel(session, {row.id: why for row, why in stale}, now)
    known = outbox.known_keys(session, plan.drafts)
    new = [d for key, d in plan.drafts.items() if key not in known]
    report.already_known = len(plan.drafts) - len(new)
    rows = [_row(d, renderer, run_id, plan.unconfirmed(d)) for d in new]
    outbox.enqueue(session, rows, now)
    report.record(rows, [(row.key, why) for row, why in stale])
    kept = [row for row in open_rows if row.key in plan.drafts]
    waiting = {row.id: plan.unconfirmed(plan.drafts[row.key]) for row in kept}
    to_hold = [r.id for r in kept if r.state == State.PLANNED and waiting[r.id]]
    to_release = [r.id for r in kept if r.state == State.HELD and not waiting[r.id]]
    report.held = outbox.hold(session, to_hold, now) + sum(r["state"] == State.HELD for r in rows)
    report.released = outbox.release(session, to_release, now)
    return report


def _row(draft: Draft, renderer: Renderer, run_id: int | None, held: bool) -> dict[str, Any]:
    return {
        "key": draft.key,
        "kind": draft.kind,
        "recipient_id": draft.recipient_id,
        "assignment_id": draft.assignment_id,
        "deadline_at": draft.deadline_at,
        "send_after": draft.send_after,
        "payload": draft.render(renderer),
        "state": State.HELD if held else State.PLANNED,
        "run_id": run_id,
    }


def _summary(row: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    """One planned message as reports show it; a dry run shows the full text."""
    out = {k: row[k] for k in ("key", "kind", "recipient_id", "assignment_id")}
    out["state"] = str(row["state"])
    out["send_after"] = row["send_after"].isoformat()
    out["subject"] = row["payload"]["subject"]
    if dry_run:
        out["text"] = row["payload"]["text"]
    return out
