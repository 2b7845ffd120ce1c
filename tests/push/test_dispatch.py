"""Delivery against the sandbox Moodle: batches, per-message results, safety valves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.errors import RetriableError, SafetyValveError
from moodle_sync.push import outbox
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, NO_MESSAGING_TOKEN, Sandbox
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import OutboxMessage
from tests.push.conftest import T0, AddOutbox, MakeRequester, deliver

SEND = "core_message_send_instant_messages"
Received = Callable[[], Counter[str]]


def _rows(sessions: sessionmaker[Session]) -> dict[str, OutboxMessage]:
    with sessions() as session:
        return {row.key: row for row in session.query(OutboxMessage).order_by(OutboxMessage.id)}


def _states(sessions: sessionmaker[Session]) -> dict[str, str]:
    return {key: row.state for key, row in _rows(sessions).items()}


def opted_out(user: int) -> outbox.Verdict:
    """The planner's verdict on a row for a user since added to push.opt_out_users."""

    def verdict(row: OutboxMessage) -> str | None:
        return (
            f"opted_out: user {user} is on push.opt_out_users" if row.recipient_id == user else None
        )

    return verdict


def test_due_messages_go_out_as_html_under_their_key_and_record_moodles_id(
    sandbox: Sandbox, requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    for n, recipient in enumerate([5, 6, 7]):
        add_outbox(f"rem-{n}", recipient)
    report = deliver(requester, sessions, PushSettings(), T0)
    stored = {str(m.clientmsgid): m for m in sandbox.state.messages}
    rows = _rows(sessions)
    assert (report.due, report.sent, report.failed, report.in_doubt) == (3, 3, 0, 0)
    assert sorted(stored) == ["rem-0", "rem-1", "rem-2"]
    for key, row in rows.items():
        assert (row.state, row.moodle_message_id) == ("sent", stored[key].id)
        assert stored[key].useridto == row.recipient_id
        assert stored[key].fullmessagehtml == row.payload["html"]


def test_a_rerun_sends_nothing_new(
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    received: Received,
) -> None:
    add_outbox("rem-1")
    first = deliver(requester, sessions, PushSettings(), T0)
    second = deliver(requester, sessions, PushSettings(), T0 + timedelta(hours=1))
    assert (first.sent, second.due, second.sent) == (1, 0, 0)
    assert received() == Counter({"rem-1": 1})


def test_messages_not_yet_due_stay_planned(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    add_outbox("now")
    add_outbox("tomorrow", send_after=T0 + timedelta(days=1))
    report = deliver(requester, sessions, PushSettings(), T0)
    assert report.sent == 1
    assert _states(sessions) == {"now": "sent", "tomorrow": "planned"}


@pytest.mark.parametrize(
    ("token", "blocked", "reachable", "reason"),
    [
        (INTEGRATION_TOKEN, 999, 5, "doesn't exist"),
        (NO_MESSAGING_TOKEN, 5, 3, "message preferences"),
    ],
)
def test_a_refused_recipient_fails_alone_with_moodles_reason(
    make_requester: MakeRequester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    received: Received,
    token: str,
    blocked: int,
    reachable: int,
    reason: str,
) -> None:
    add_outbox("before", reachable)
    add_outbox("refused", blocked)
    add_outbox("after", reachable)
    report = deliver(make_requester(token), sessions, PushSettings(), T0)
    rows = _rows(sessions)
    assert (report.sent, report.failed) == (2, 1)
    assert _states(sessions) == {"before": "sent", "refused": "failed", "after": "sent"}
    assert reason in (rows["refused"].error or "")
    assert report.failures == {"refused": rows["refused"].error}
    assert received() == Counter({"before": 1, "after": 1})


def test_each_batch_is_one_call(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    for n in range(5):
        add_outbox(f"rem-{n}")
    report = deliver(requester, sessions, PushSettings(batch_size=2), T0)
    assert report.sent == 5
    assert requester.stats.calls == 3


def test_an_opted_out_user_is_never_sent_to_and_the_row_says_why(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox, received: Received
) -> None:
    add_outbox("wanted", 5)
    add_outbox("unwanted", 6)
    report = deliver(requester, sessions, PushSettings(), T0, verdict=opted_out(6))
    row = _rows(sessions)["unwanted"]
    assert (report.sent, report.skipped) == (1, 1)
    assert (row.state, row.error) == ("cancelled", "opted_out: user 6 is on push.opt_out_users")
    assert received() == Counter({"wanted": 1})


def test_more_due_than_the_maximum_sends_nothing_and_says_what_to_do(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox, received: Received
) -> None:
    for n in range(3):
        add_outbox(f"rem-{n}")
    with pytest.raises(SafetyValveError, match=r"3 messages are due but at most 2 .*--dry-run"):
        deliver(requester, sessions, PushSettings(max_messages_per_run=2), T0)
    assert set(_states(sessions).values()) == {"planned"}
    assert received() == Counter()
    assert requester.stats.calls == 0


def test_an_explicit_limit_replaces_the_configured_maximum(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    for n in range(3):
        add_outbox(f"rem-{n}")
    with pytest.raises(SafetyValveError):
        deliver(requester, sessions, PushSettings(), T0, limit=1)
    assert deliver(requester, sessions, PushSettings(max_messages_per_run=1), T0, limit=3).sent == 3


def test_a_dry_run_lists_exactly_what_would_go_out_and_changes_nothing(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox, received: Received
) -> None:
    add_outbox("wanted", 5)
    add_outbox("unwanted", 6)
    before = {key: (row.state, row.attempts) for key, row in _rows(sessions).items()}
    report = deliver(requester, sessions, PushSettings(), T0, dry_run=True, verdict=opted_out(6))
    after = {key: (row.state, row.attempts) for key, row in _rows(sessions).items()}
    assert [(w.key, w.recipient_id, w.subject) for w in report.would_send] == [
        ("wanted", 5, "Reminder wanted")
    ]
    assert report.would_send[0].text.endswith("<p>Ref: wanted</p>")
    assert (report.sent, report.skipped, after) == (1, 1, before)
    assert received() == Counter()


def test_a_lost_answer_leaves_its_batch_in_doubt_and_stops_the_delivery(
    sandbox: Sandbox,
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    received: Received,
) -> None:
    for n in range(5):
        add_outbox(f"rem-{n}")
    lost = FaultRule(function=SEND, kind=FaultKind.LOST_ANSWER, after_calls=1, times=1)
    sandbox.set_faults(FaultPlan(rules=[lost]))
    report = deliver(requester, sessions, PushSettings(batch_size=2), T0)
    assert (report.sent, report.in_doubt) == (2, 2)
    assert list(_states(sessions).values()) == ["sent", "sent", "sending", "sending", "planned"]
    assert received() == Counter({f"rem-{n}": 1 for n in range(4)})
    sandbox.set_faults(None)
    recovered = deliver(requester, sessions, PushSettings(batch_size=2), T0)
    assert recovered.resolution is not None
    assert recovered.resolution.found_sent == ["rem-2", "rem-3"]
    assert (recovered.sent, recovered.in_doubt) == (1, 0)
    assert set(_states(sessions).values()) == {"sent"}
    assert received() == Counter({f"rem-{n}": 1 for n in range(5)})


def test_a_call_refused_outright_returns_its_batch_to_planned(
    sandbox: Sandbox, requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    add_outbox("rem-1")
    sandbox.set_faults(FaultPlan(rules=[FaultRule(function=SEND, kind=FaultKind.SITE_MAINTENANCE)]))
    with pytest.raises(RetriableError, match="maintenance"):
        deliver(requester, sessions, PushSettings(), T0)
    row = _rows(sessions)["rem-1"]
    assert (row.state, row.attempts) == ("planned", 1)


def test_a_row_cancelled_after_it_was_read_is_not_sent(
    monkeypatch: pytest.MonkeyPatch,
    requester: Requester,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    received: Received,
) -> None:
    add_outbox("kept")
    gone = add_outbox("cancelled-meanwhile")
    read_due = outbox.due_rows

    def due_then_planner_cancels(
        session: Session, now: object, kind: str | None = None
    ) -> list[OutboxMessage]:
        rows = read_due(session, T0, kind)
        with sessions.begin() as other:
            outbox.cancel(other, {gone: "work submitted"}, T0)
        return rows

    monkeypatch.setattr(outbox, "due_rows", due_then_planner_cancels)
    report = deliver(requester, sessions, PushSettings(), T0)
    assert report.sent == 1
    assert _states(sessions) == {"kept": "sent", "cancelled-meanwhile": "cancelled"}
    assert received() == Counter({"kept": 1})


def test_a_message_moodle_would_refuse_fails_before_sending_and_the_rest_go(
    requester: Requester, sessions: sessionmaker[Session], add_outbox: AddOutbox
) -> None:
    too_long = {"subject": "s", "text": "t", "html": "<p>" + "x" * 5000 + "</p>"}
    add_outbox("huge", payload=too_long)
    add_outbox("fine")
    report = deliver(requester, sessions, PushSettings(), T0)
    rows = _rows(sessions)
    assert (report.sent, report.failed) == (1, 1)
    assert rows["huge"].state == "failed"
    assert "4096 bytes" in (rows["huge"].error or "")
    assert "huge" in report.failures
