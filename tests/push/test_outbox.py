"""The outbox's state changes: each one conditional on the state a row must be in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.push import outbox
from moodle_sync.push.outbox import Delivered
from moodle_sync.store.tables import OutboxMessage
from tests.push.conftest import T0, AddOutbox

LATER = T0 + timedelta(minutes=5)
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


def test_claiming_takes_only_rows_still_planned_and_stamps_the_attempt(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    planned, cancelled = add_outbox("k1"), add_outbox("k2", state="cancelled")
    with sessions.begin() as session:
        claimed = outbox.claim(session, [planned, cancelled], LATER)
    row = _row(sessions, planned)
    assert claimed == [planned]
    assert (row.state, row.attempts, row.sending_started_at) == ("sending", 1, LATER)
    assert _row(sessions, cancelled).state == "cancelled"


def test_a_claimed_row_cannot_be_claimed_again(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    row_id = add_outbox("k1")
    with sessions.begin() as session:
        first = outbox.claim(session, [row_id], LATER)
    with sessions.begin() as session:
        second = outbox.claim(session, [row_id], LATER)
    assert (first, second) == ([row_id], [])
    assert _row(sessions, row_id).attempts == 1


def test_sent_and_failed_are_recorded_only_for_rows_being_sent(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    sent, failed, untouched = add_outbox("k1"), add_outbox("k2"), add_outbox("k3")
    with sessions.begin() as session:
        outbox.claim(session, [sent, failed], T0)
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


def test_release_returns_only_sending_rows_to_planned(
    sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    sending, sent = add_outbox("k1", state="sending"), add_outbox("k2", state="sent")
    with sessions.begin() as session:
        released = outbox.release(session, [sending, sent], LATER)
    assert released == 1
    assert [_row(sessions, sending).state, _row(sessions, sent).state] == ["planned", "sent"]


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
    assert counts == {"planned": 0, "sending": 2, "sent": 1, "failed": 0, "cancelled": 0}
    assert in_doubt == ["early", "late"]
