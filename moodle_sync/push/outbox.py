"""The outbox: the only code that inserts, moves or cancels an outbox row.

    planned -> sending -> sent | failed       planned | held -> cancelled
    planned <-> held   (a student's own dates could not be confirmed / now are)
    planned -> failed  (unsendable: no text)  sending -> planned (provably never arrived)
    an operator's move, audited with its actor (outbox resolve, cancel, resend)

Every change is a conditional UPDATE on the state the row must be in, so a row cancelled a
moment ago is never claimed, and a row claimed by one run is never claimed again. Whether a
message may go is decided at one point, `claim`, the moment before it is sent: the send window
must be open at that moment (whatever path left the row planned: an evening refusal, a batch
in doubt, a crash, the safety valve) and the reason it was planned must still hold (`Verdict`,
from this run's evaluation: work since submitted, an extension, a suspension, a new status, a
moved date); a row whose reason has gone is cancelled there and then, with the reason.

The functions take a session and do not commit: the caller decides the transaction, because
*when* a change is committed (before the call, after it) is what makes delivery exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from moodle_sync.errors import MoodleSyncError
from moodle_sync.rules.policy import Reminders
from moodle_sync.rules.reminders import into_window
from moodle_sync.store.tables import AuditEntry, OutboxMessage
from moodle_sync.store.upsert import insert_for

__all__ = [
    "Claim",
    "Delivered",
    "SendWindow",
    "State",
    "Verdict",
    "blank_finished",
    "cancel",
    "claim",
    "counts_by_state",
    "due_rows",
    "enqueue",
    "find",
    "forget_recipients",
    "hold",
    "in_doubt_rows",
    "known_keys",
    "mark_failed",
    "mark_sent",
    "open_rows",
    "operator_move",
    "reject",
    "release",
    "requeue",
    "still_true",
]


class State(StrEnum):
    PLANNED = "planned"  # waiting for its send time
    HELD = "held"  # its facts are unconfirmed (a student's own dates): not sent until they are
    SENDING = "sending"  # claimed and handed to Moodle; in doubt until its outcome is recorded
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN = (State.PLANNED, State.HELD)  # not yet handed to Moodle: may still be cancelled
FINISHED = (State.SENT, State.FAILED, State.CANCELLED)
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_CHUNK = 500

# Why a row's reason has gone (`code: detail`), or None while it still holds.
Verdict = Callable[[OutboxMessage], str | None]


def still_true(_row: OutboxMessage) -> str | None:
    """The verdict for rows nothing can make stale (administrators' alerts)."""
    return None


@dataclass(frozen=True)
class SendWindow:
    """The hours in which people may be messaged (programme `reminders.send_window_*`)."""

    rules: Reminders
    tz: ZoneInfo

    def opens_at(self, now: dt.datetime) -> dt.datetime:
        """`now` when the window is open, else its next opening."""
        return into_window(now, self.rules, self.tz)

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens_at(now) <= now


@dataclass(frozen=True)
class Delivered:
    """Moodle's proof that one row's message arrived."""

    row_id: int
    moodle_message_id: int
    sent_at: dt.datetime


@dataclass
class Claim:
    """What `claim` did: rows now `sending`, rows cancelled because their reason had gone, and
    rows left planned because the send window is closed."""

    claimed: list[int] = field(default_factory=list)
    cancelled: dict[int, str] = field(default_factory=dict)
    waiting: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)  # no longer planned: moved by someone else


# --- queries ---------------------------------------------------------------------------------
def due_rows(session: Session, now: dt.datetime, kind: str | None = None) -> list[OutboxMessage]:
    """Planned rows whose ``send_after`` has come (no ``send_after``: due at once), oldest first;
    only those of ``kind`` when it is given."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == State.PLANNED)
        .where(or_(OutboxMessage.send_after.is_(None), OutboxMessage.send_after <= now))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
    )
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def open_rows(session: Session) -> list[OutboxMessage]:
    """Rows planned or held: not yet handed to Moodle."""
    query = select(OutboxMessage).where(OutboxMessage.state.in_(OPEN)).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def in_doubt_rows(session: Session) -> list[OutboxMessage]:
    """Rows left ``sending``: their batch went out and no outcome was recorded."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == State.SENDING)
        .order_by(OutboxMessage.sending_started_at, OutboxMessage.id)
    )
    return list(session.scalars(query))


def counts_by_state(session: Session) -> dict[str, int]:
    """How many rows are in each state (every state present, zero when empty)."""
    query = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    counts = dict.fromkeys(map(str, State), 0)
    counts.update({state: count for state, count in session.execute(query).all()})
    return counts


def known_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys already in the outbox, whatever their state."""
    found: set[str] = set()
    wanted = list(keys)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))))
    return found


def listed(session: Session, state: State | None, recipient_id: int | None) -> list[OutboxMessage]:
    """The rows, oldest planned first, narrowed to a state and a recipient when given."""
    query = select(OutboxMessage).order_by(OutboxMessage.planned_at, OutboxMessage.id)
    if state:
        query = query.where(OutboxMessage.state == state)
    if recipient_id is not None:
        query = query.where(OutboxMessage.recipient_id == recipient_id)
    return list(session.scalars(query))


def keys_in(session: Session, state: State, since: dt.datetime | None) -> list[str]:
    """The keys of the rows in `state`, changed at or after `since` when given."""
    query = select(OutboxMessage.key).where(OutboxMessage.state == state)
    if since is not None:
        aware = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        query = query.where(OutboxMessage.updated_at >= aware)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def find(session: Session, key: str) -> OutboxMessage:
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()
    if row is None:
        raise MoodleSyncError(f"no outbox row has key {key!r}: list them with `outbox list`")
    return row


# --- transitions -----------------------------------------------------------------------------
def enqueue(session: Session, rows: Sequence[dict[str, Any]], now: dt.datetime) -> None:
    """Insert new rows (state planned or held); a key already present, in any state, is left
    alone: a message is planned once."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    stamped = [{"planned_at": now, "updated_at": now, **row} for row in rows]
    for start in range(0, len(stamped), _CHUNK):
        statement = insert(OutboxMessage).values(stamped[start : start + _CHUNK])
        session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def hold(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    """planned -> held: its facts could not be confirmed this run."""
    return _move(session, ids, (State.PLANNED,), State.HELD, now)


def release(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    """held -> planned: its facts are confirmed again."""
    return _move(session, ids, (State.HELD,), State.PLANNED, now)


def cancel(session: Session, reasons: dict[int, str], now: dt.datetime) -> int:
    """planned | held -> cancelled, each with its reason (`code: detail`)."""
    return _close(session, reasons, OPEN, State.CANCELLED, now)


def reject(session: Session, reasons: dict[int, str], now: dt.datetime) -> int:
    """planned -> failed: can never be sent (no text), with the reason."""
    return _close(session, reasons, (State.PLANNED,), State.FAILED, now)


def claim(
    session: Session,
    rows: Sequence[OutboxMessage],
    now: dt.datetime,
    *,
    window: SendWindow,
    verdict: Verdict,
    started_at: dt.datetime | None = None,
) -> Claim:
    """planned -> sending, at the moment of sending, for rows whose reason still holds while
    the send window is open at `now`. A row whose reason has gone is cancelled with it; with
    the window closed nothing is claimed. ``started_at`` (the wall clock: it is compared with
    Moodle's own times when settling a batch in doubt) stamps the attempt."""
    result = Claim()
    if not window.is_open(now):
        result.waiting = [row.id for row in rows]
        return result
    result.cancelled = {row.id: why for row in rows if (why := verdict(row)) is not None}
    cancel(session, result.cancelled, now)
    wanted = [row.id for row in rows if row.id not in result.cancelled]
    if wanted:
        statement = (
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(wanted), OUTBOX.c.state == State.PLANNED)
            .values(
                state=State.SENDING,
                sending_started_at=started_at or now,
                updated_at=now,
                attempts=OUTBOX.c.attempts + 1,
            )
            .returning(OUTBOX.c.id)
        )
        claimed = set(session.execute(statement).scalars())
        result.claimed = [row_id for row_id in wanted if row_id in claimed]
        result.moved = [row_id for row_id in wanted if row_id not in claimed]
    return result


def mark_sent(session: Session, delivered: Sequence[Delivered], now: dt.datetime) -> int:
    """sending -> sent with Moodle's message id; `sent_at` on the run's clock."""
    params = [
        {"b_id": d.row_id, "b_msgid": d.moodle_message_id, "b_sent_at": d.sent_at}
        for d in delivered
    ]
    values: dict[str, Any] = {
        "state": State.SENT,
        "moodle_message_id": bindparam("b_msgid"),
        "sent_at": bindparam("b_sent_at"),
        "error": None,
    }
    return _update_each(session, params, (State.SENDING,), values, now)


def mark_failed(session: Session, reasons: dict[int, str], now: dt.datetime) -> int:
    """sending -> failed with Moodle's refusal."""
    params = [{"b_id": row_id, "b_error": reason} for row_id, reason in reasons.items()]
    values = {"state": State.FAILED, "error": bindparam("b_error")}
    return _update_each(session, params, (State.SENDING,), values, now)


def requeue(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    """sending -> planned: only when the message provably never arrived (refused outright, or
    absent from Moodle's record of what was sent). It is checked again before it goes."""
    return _move(session, ids, (State.SENDING,), State.PLANNED, now)


def operator_move(
    session: Session,
    key: str,
    allowed: tuple[State, ...],
    to: State,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    **values: Any,
) -> OutboxMessage:
    """Move one row by hand from one of `allowed` to `to`, or say why not; audited with the
    actor in the same transaction."""
    row = find(session, key)
    before = row.state
    if before not in allowed:
        raise MoodleSyncError(
            f"outbox row {key!r} is {before!r}; `outbox {action}` applies only to "
            f"{' or '.join(repr(str(s)) for s in allowed)} rows (see `outbox show {key}`)"
        )
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id == row.id, OUTBOX.c.state == before)
        .values(state=to, updated_at=now, **values)
    )
    if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
        raise MoodleSyncError(f"outbox row {key!r} changed state while we looked; run it again")
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=f"outbox.{action}",
            target=f"user:{row.recipient_id}",
            detail={"key": key, "from": str(before), "to": str(to)},
        )
    )
    return row


def forget_recipients(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    """Retention: empty the text of every message to these people; one not yet handed to
    Moodle is cancelled, never sent."""
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.recipient_id.in_(list(ids)))
        .values(
            payload={},
            state=case((OUTBOX.c.state.in_(OPEN), State.CANCELLED), else_=OUTBOX.c.state),
            error=case(
                (OUTBOX.c.state.in_(OPEN), "purged: the recipient left the programme"),
                else_=OUTBOX.c.error,
            ),
            updated_at=now,
        )
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def blank_finished(session: Session, before: dt.datetime) -> int:
    """Retention: empty the text of finished messages last changed before `before`."""
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.state.in_(FINISHED), OUTBOX.c.updated_at < before)
        .values(payload={})
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


# --- helpers ---------------------------------------------------------------------------------
def _move(
    session: Session, ids: Sequence[int], frm: tuple[State, ...], to: State, now: dt.datetime
) -> int:
    return _update_each(session, [{"b_id": row_id} for row_id in ids], frm, {"state": to}, now)


def _close(
    session: Session,
    reasons: dict[int, str],
    frm: tuple[State, ...],
    to: State,
    now: dt.datetime,
) -> int:
    params = [{"b_id": row_id, "b_error": reason} for row_id, reason in reasons.items()]
    return _update_each(session, params, frm, {"state": to, "error": bindparam("b_error")}, now)


def _update_each(
    session: Session,
    params: list[dict[str, Any]],
    frm: tuple[State, ...],
    values: dict[str, Any],
    now: dt.datetime,
) -> int:
    """One executemany UPDATE of rows that are still in one of `frm` (spelt as equalities:
    an IN list cannot be compiled for executemany)."""
    if not params:
        return 0
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("b_id"), or_(*(OUTBOX.c.state == s for s in frm)))
        .values(**values, updated_at=now)
    )
    result = session.connection().execute(statement, params)
    return int(result.rowcount)
