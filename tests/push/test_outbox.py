"""The outbox's state changes: each one conditional on the state a row must be in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.push import outbox
from moodle_sync.push.outbox import Delivered
from moodle_sync.rules.policy import Reminders
from moodle_sync.store.tables import AuditEntry, OutboxMessage
from tests.push.conftest import T0, AddOutbox

LATER = T0 + timedelta(minutes=5)
WINDOW = outbox.SendWindow(Reminders(), ZoneInfo("Europe/London"))
Close = Callable[[Session, dict[int, str], datetime], int]


def _row(sessions: sessionmaker[Session], row_id: int) -> OutboxMessage:
    with sessions() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        return row


@pytest.mark.parametrize(
    ("state", "send_after", "due"),
    [
        ("planned", T0 - timedelta(days=1), True),
        ("planned", T0, True),
        ("planned", None, True),
        ("planned", T0 + timedelta(seconds=1), False),
        ("cancelled", T0 - timedelta(days=1), False),
        ("sending", T0 - timedelta(days=1), False),
        ("sent", T0 - timedelta(days=1), False),
    ],
)
def test_a_row_is_due_when_planned_and_its_send_after_has_come(
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    state: str,
    send_after: object,
    due: bool,
) -> None:
    add_outbox("k1", state=state, send_after=send_after)
    with sessions() as session:
        assert [row.key for row in outbox.due_rows(session, T0)] == (["k1"] if due else [])


def claim(
    sessions: sessionmaker[Session],
    ids: list[int],
    when: datetime,
    verdict: outbox.Verdict = outbox.still_true,
) -> outbox.Claim:
    with sessions.begin() as session:
        rows = [session.get_one(OutboxMessage, row_id) for row_id in ids]
        return outbox.claim(session, rows, when, window=WINDOW, verdict=verdict)


def test_claiming_takes_only_rows_still_planned_and_stamps_the_attempt(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    planned, cancelled = add_outbox("k1"), add_outbox("k2", state="cancelled")
    claimed = claim(sessions, [planned, cancelled], LATER).claimed
    row = _row(sessions, planned)
    assert claimed == [planned]
    assert (row.state, row.attempts, row.sending_started_at) == ("sending", 1, LATER)
    assert _row(sessions, cancelled).state == "cancelled"


def test_a_claimed_row_cannot_be_claimed_again(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    row_id = add_outbox("k1")
    first, second = claim(sessions, [row_id], LATER), claim(sessions, [row_id], LATER)
    assert (first.claimed, second.claimed) == ([row_id], [])
    assert _row(sessions, row_id).attempts == 1


@pytest.mark.parametrize("hour", [2, 7, 20, 23])  # Europe/London (GMT in December)
def test_nothing_is_claimed_while_the_send_window_is_closed(
    sessions: sessionmaker[Session], add_outbox: AddOutbox, hour: int
) -> None:
    row_id = add_outbox("k1")
    result = claim(sessions, [row_id], T0.replace(hour=hour))
    assert (result.claimed, result.waiting) == ([], [row_id])
    assert _row(sessions, row_id).state == "planned"


def test_a_row_whose_reason_has_gone_is_cancelled_at_the_moment_of_claiming(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    stale, fresh = add_outbox("k1"), add_outbox("k2")

    def verdict(row: OutboxMessage) -> str | None:
        return "work_submitted: handed in an hour ago" if row.key == "k1" else None

    result = claim(sessions, [stale, fresh], LATER, verdict)
    assert (result.claimed, result.cancelled) == (
        [fresh],
        {stale: "work_submitted: handed in an hour ago"},
    )
    assert (_row(sessions, stale).state, _row(sessions, stale).error) == (
        "cancelled",
        "work_submitted: handed in an hour ago",
    )


def test_held_rows_are_not_due_until_released(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    row_id = add_outbox("k1")
    with sessions.begin() as session:
        assert outbox.hold(session, [row_id], LATER) == 1
    with sessions() as session:
        assert outbox.due_rows(session, LATER) == []
    with sessions.begin() as session:
        assert outbox.release(session, [row_id], LATER) == 1
    with sessions() as session:
        assert [r.id for r in outbox.due_rows(session, LATER)] == [row_id]


def test_sent_and_failed_are_recorded_only_for_rows_being_sent(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    sent, failed, untouched = add_outbox("k1"), add_outbox("k2"), add_outbox("k3")
    claim(sessions, [sent, failed], T0)
    with sessions.begin() as session:
        marked = outbox.mark_sent(
            session, [Delivered(sent, 41, LATER), Delivered(untouched, 42, LATER)], LATER
        )
        refused = outbox.mark_failed(session, {failed: "no such user", untouched: "x"}, LATER)
    assert (marked, refused) == (1, 1)
    row = _row(sessions, sent)
    assert (row.state, row.moodle_message_id, row.sent_at) == ("sent", 41, LATER)
    assert (_row(sessions, failed).state, _row(sessions, failed).error) == (
        "failed",
        "no such user",
    )
    assert _row(sessions, untouched).state == "planned"


def test_requeue_returns_only_sending_rows_to_planned(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    sending, sent = add_outbox("k1", state="sending"), add_outbox("k2", state="sent")
    with sessions.begin() as session:
        requeued = outbox.requeue(session, [sending, sent], LATER)
    assert requeued == 1
    assert [_row(sessions, sending).state, _row(sessions, sent).state] == ["planned", "sent"]


def test_an_operators_move_is_audited_with_the_actor(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    add_outbox("k1", state="failed")
    with sessions.begin() as session:
        outbox.operator_move(session, "k1", (outbox.State.FAILED,), outbox.State.PLANNED,
                             actor="support", action="resend", now=LATER)  # fmt: skip
    with sessions() as session:
        [entry] = session.scalars(select(AuditEntry))
    assert (entry.actor, entry.action, entry.at) == ("support", "outbox.resend", LATER)
    assert entry.detail == {"key": "k1", "from": "failed", "to": "planned"}


@pytest.mark.parametrize(
    ("change", "state"), [(outbox.cancel, "cancelled"), (outbox.reject, "failed")]
)
def test_cancel_and_reject_close_only_planned_rows_with_the_reason(
    sessions: sessionmaker[Session], add_outbox: AddOutbox, change: Close, state: str
) -> None:
    planned, sending = add_outbox("k1"), add_outbox("k2", state="sending")
    with sessions.begin() as session:
        changed = change(session, {planned: "opted out", sending: "opted out"}, LATER)
    assert changed == 1
    assert (_row(sessions, planned).state, _row(sessions, planned).error) == (state, "opted out")
    assert _row(sessions, sending).state == "sending"


def test_counts_name_every_state_and_in_doubt_rows_come_oldest_batch_first(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    add_outbox("late", state="sending", sending_started_at=LATER)
    add_outbox("early", state="sending", sending_started_at=T0)
    add_outbox("done", state="sent")
    with sessions() as session:
        counts = outbox.counts_by_state(session)
        in_doubt = [row.key for row in outbox.in_doubt_rows(session)]
    assert counts == {"planned": 0, "held": 0, "sending": 2, "sent": 1, "failed": 0, "cancelled": 0}
    assert in_doubt == ["early", "late"]
