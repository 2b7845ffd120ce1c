"""The outbox's queries and state changes: the only code that moves a row between states.

    planned -> sending -> sent | failed        planned -> cancelled | failed (unsendable)
    sending -> planned  (only when Moodle proves the message never arrived)

Every change is a conditional UPDATE on the state the row must be in, so a row the planner
cancelled a moment ago is never claimed, and a row claimed by one run is never claimed again.
The functions take a session and do not commit: the caller decides the transaction, because
*when* a change is committed (before the call, after it) is what makes delivery exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from moodle_sync.store.tables import OutboxMessage

__all__ = [
    "CANCELLED",
    "FAILED",
    "PLANNED",
    "SENDING",
    "SENT",
    "STATES",
    "Delivered",
    "cancel",
    "claim",
    "counts_by_state",
    "due_rows",
    "in_doubt_rows",
    "mark_failed",
    "mark_sent",
    "reject",
    "release",
]

PLANNED, SENDING, SENT, FAILED, CANCELLED = "planned", "sending", "sent", "failed", "cancelled"
STATES = (PLANNED, SENDING, SENT, FAILED, CANCELLED)
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Delivered:
    """Moodle's proof that one row's message arrived."""

    row_id: int
    moodle_message_id: int
    sent_at: datetime


def due_rows(session: Session, now: datetime, kind: str | None = None) -> list[OutboxMessage]:
    """Planned rows whose ``send_after`` has come (no ``send_after``: due at once), oldest first;
    only those of ``kind`` when it is given."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == PLANNED)
        .where(or_(OutboxMessage.send_after.is_(None), OutboxMessage.send_after <= now))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
    )
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def in_doubt_rows(session: Session) -> list[OutboxMessage]:
    """Rows left ``sending``: their batch went out and no outcome was recorded."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == SENDING)
        .order_by(OutboxMessage.sending_started_at, OutboxMessage.id)
    )
    return list(session.scalars(query))


def counts_by_state(session: Session) -> dict[str, int]:
    """How many rows are in each state (every state present, zero when empty)."""
    query = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: count for state, count in session.execute(query).all()})
    return counts


def claim(session: Session, ids: Sequence[int], started_at: datetime) -> list[int]:
    """Move the rows still ``planned`` among ``ids`` to ``sending``; return the ids claimed.

    A row cancelled (or claimed elsewhere) since it was read is left alone and not returned.
    """
    if not ids:
        return []
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.state == PLANNED)
        .values(
            state=SENDING,
            sending_started_at=started_at,
            updated_at=started_at,
            attempts=OUTBOX.c.attempts + 1,
        )
        .returning(OUTBOX.c.id)
    )
    claimed = set(session.execute(statement).scalars())
    return [row_id for row_id in ids if row_id in claimed]


def mark_sent(session: Session, delivered: Sequence[Delivered], now: datetime) -> int:
    """Record Moodle's message id for rows that were ``sending``; return how many changed."""
    params = [
        {"b_id": d.row_id, "b_msgid": d.moodle_message_id, "b_sent_at": d.sent_at}
        for d in delivered
    ]
    values: dict[str, Any] = {
        "state": SENT,
        "moodle_message_id": bindparam("b_msgid"),
        "sent_at": bindparam("b_sent_at"),
        "error": None,
    }
    return _update_each(session, params, values, now)


def mark_failed(session: Session, reasons: dict[int, str], now: datetime) -> int:
    """Record Moodle's refusal for rows that were ``sending``; return how many changed."""
    params = [{"b_id": row_id, "b_error": reason} for row_id, reason in reasons.items()]
    return _update_each(session, params, {"state": FAILED, "error": bindparam("b_error")}, now)


def release(session: Session, ids: Sequence[int], now: datetime) -> int:
    """Return ``sending`` rows to ``planned``: only when the message provably never arrived."""
    return _update_each(session, [{"b_id": row_id} for row_id in ids], {"state": PLANNED}, now)


def cancel(session: Session, reasons: dict[int, str], now: datetime) -> int:
    """Cancel rows still ``planned`` (an opted-out recipient, say), with the reason."""
    return _close_planned(session, reasons, CANCELLED, now)


def reject(session: Session, reasons: dict[int, str], now: datetime) -> int:
    """Fail rows still ``planned`` that can never be sent (too long, no text), with the reason."""
    return _close_planned(session, reasons, FAILED, now)


def _close_planned(session: Session, reasons: dict[int, str], state: str, now: datetime) -> int:
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("b_id"), OUTBOX.c.state == PLANNED)
        .values(state=state, error=bindparam("b_error"), updated_at=now)
    )
    params = [{"b_id": row_id, "b_error": reason} for row_id, reason in reasons.items()]
    return _execute_many(session, statement, params)


def _update_each(
    session: Session, params: list[dict[str, Any]], values: dict[str, Any], now: datetime
) -> int:
    """One executemany UPDATE of rows that are still ``sending``."""
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("b_id"), OUTBOX.c.state == SENDING)
        .values(**values, updated_at=now)
    )
    return _execute_many(session, statement, params)


def _execute_many(session: Session, statement: Any, params: list[dict[str, Any]]) -> int:
    if not params:
        return 0
    result = session.connection().execute(statement, params)
    return int(result.rowcount)
