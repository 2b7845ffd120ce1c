"""One person's history and an outbox row's hand-made changes, as support staff read them.

Outbox rows (planned, then their outcome), the progression values pushed and the audit log's
entries about the person, oldest first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moodle_sync.push.outbox import State
from moodle_sync.store.tables import AuditEntry, OutboxMessage, ProfileValue


def operator_actions(session: Session, row: OutboxMessage) -> list[dict[str, Any]]:
    """What was done to this row by hand (its recipient's audit entries naming its key)."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target == f"user:{row.recipient_id}")
        .order_by(AuditEntry.at)
    )
    return [_entry(e) for e in entries if e.detail.get("key") == row.key]


def person_events(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Outbox rows (planned, then their outcome), profile values and audit entries."""
    events: list[dict[str, Any]] = []
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == user_id)):
        events.append({"at": row.planned_at, "what": f"planned {row.kind}", "detail": row.key})
        if row.state != State.PLANNED:
            outcome = f"{row.key}" + (f": {row.error}" if row.error else "")
            events.append(
                {"at": row.sent_at or row.updated_at, "what": row.state, "detail": outcome}
            )
    audit = list(session.scalars(select(AuditEntry).where(AuditEntry.target == f"user:{user_id}")))
    recorded = {e.detail.get("field") for e in audit if e.action == "status"}
    for value in session.scalars(select(ProfileValue).where(ProfileValue.user_id == user_id)):
        if value.field not in recorded:  # pushed before statuses were kept in the audit log
            events.append(
                {"at": value.pushed_at, "what": f"profile {value.field}", "detail": value.value}
            )
    for entry in audit:
        if entry.action == "status":
            detail = entry.detail
            events.append({"at": entry.at, "what": f"profile {detail['field']}",
                           "detail": detail["value"], "run_id": detail.get("run_id")})  # fmt: skip
        else:
            events.append(_entry(entry) | {"what": entry.action})
    return sorted(events, key=lambda e: e["at"])


def _entry(e: AuditEntry) -> dict[str, Any]:
    return {"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
