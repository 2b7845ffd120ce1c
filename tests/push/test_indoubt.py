"""Settling rows left ``sending``: Moodle's own list of sent messages decides, never a guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.messages import OutgoingMessage, send_instant_messages
from moodle_sync.push import core_writer as indoubt
from moodle_sync.push.core_writer import resolve_in_doubt
from moodle_sync.sandbox.server import Sandbox
from moodle_sync.store.db import rolled_back
from moodle_sync.store.tables import OutboxMessage
from tests.push.conftest import T0, AddOutbox, payload_for

INTEGRATION_USER = 3
SETTLED = timedelta(0)


def _in_moodle(requester: Requester, key: str, recipient: int = 5) -> int:
    """Send a message carrying ``key``'s marker straight to the sandbox; return Moodle's id."""
    html = payload_for(key)["html"]
    (result,) = send_instant_messages(requester, [OutgoingMessage(recipient, html, key)])
    assert result.msgid is not None
    return result.msgid


def _sending(add_outbox: AddOutbox, key: str, recipient: int = 5) -> int:
    started = datetime.now(UTC)
    return add_outbox(key, recipient, state="sending", sending_started_at=started, attempts=1)


def _row(sessions: sessionmaker[Session], row_id: int) -> OutboxMessage:
    with sessions() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        return row


def test_a_message_moodle_has_is_marked_sent_with_moodles_id(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    row_id = _sending(add_outbox, "rem-1")
    msgid = _in_moodle(requester, "rem-1")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0)
    row = _row(sessions, row_id)
    assert report.found_sent == ["rem-1"]
    assert (row.state, row.moodle_message_id) == ("sent", msgid)


def test_a_message_moodle_never_got_returns_to_planned_once_its_batch_has_settled(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    row_id = _sending(add_outbox, "rem-1")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0, settle=SETTLED)
    assert (report.returned_to_planned, report.covered) == (["rem-1"], True)
    assert _row(sessions, row_id).state == "planned"


def test_absence_proves_nothing_while_the_batch_may_still_be_running_in_moodle(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    row_id = _sending(add_outbox, "rem-1")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0)  # settle: read timeout
    assert report.still_in_doubt == ["rem-1"]
    assert _row(sessions, row_id).state == "sending"


@pytest.mark.parametrize(
    ("sent_key", "sent_to", "why"),
    [
        ("rem-10", 5, "a longer key that starts with the row's key"),
        ("rem-1", 6, "the row's key, but to someone else"),
    ],
)
def test_only_the_same_key_to_the_same_recipient_counts_as_delivered(
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    sent_key: str,
    sent_to: int,
    why: str,
) -> None:
    _sending(add_outbox, "rem-1")
    _in_moodle(requester, sent_key, sent_to)
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0, settle=SETTLED)
    assert report.found_sent == [], why
    assert report.returned_to_planned == ["rem-1"], why


def test_rows_stay_in_doubt_when_moodles_list_does_not_reach_back_far_enough(
    monkeypatch: pytest.MonkeyPatch,
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
) -> None:
    monkeypatch.setattr(indoubt, "PAGE_SIZE", 2)
    monkeypatch.setattr(indoubt, "MAX_PAGES", 1)
    row_id = _sending(add_outbox, "rem-1")
    for n in range(3):
        _in_moodle(requester, f"other-{n}")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0, settle=SETTLED)
    assert (report.covered, report.still_in_doubt) == (False, ["rem-1"])
    assert _row(sessions, row_id).state == "sending"


def test_paging_stops_at_a_message_older_than_the_batch(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: Sandbox,
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
) -> None:
    monkeypatch.setattr(indoubt, "PAGE_SIZE", 2)
    now = sandbox.state.clock()
    sandbox.set_clock(now - 3600)
    for n in range(4):
        _in_moodle(requester, f"an-hour-ago-{n}")
    sandbox.set_clock(now)
    _sending(add_outbox, "rem-1")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0, settle=SETTLED)
    assert (report.pages_read, report.covered) == (1, True)
    assert report.returned_to_planned == ["rem-1"]


def test_paging_goes_back_until_every_key_in_doubt_is_found(
    monkeypatch: pytest.MonkeyPatch,
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
) -> None:
    monkeypatch.setattr(indoubt, "PAGE_SIZE", 2)
    _sending(add_outbox, "rem-1")
    _in_moodle(requester, "rem-1")
    for n in range(4):
        _in_moodle(requester, f"later-{n}")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0)
    assert (report.found_sent, report.pages_read) == (["rem-1"], 3)


def test_in_a_dry_run_the_verdicts_are_reported_and_nothing_changes(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    found, absent = _sending(add_outbox, "rem-1"), _sending(add_outbox, "rem-2")
    _in_moodle(requester, "rem-1")
    with rolled_back(sessions.kw["bind"]) as scoped:  # how a dry run wraps its push stage
        report = resolve_in_doubt(requester, scoped, INTEGRATION_USER, T0, settle=SETTLED)
    assert (report.found_sent, report.returned_to_planned) == (["rem-1"], ["rem-2"])
    assert [_row(sessions, found).state, _row(sessions, absent).state] == ["sending", "sending"]


def test_without_rows_in_doubt_moodle_is_not_asked(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    add_outbox("rem-1")
    report = resolve_in_doubt(requester, sessions, INTEGRATION_USER, T0)
    assert (report.checked, requester.stats.calls) == (0, 0)
