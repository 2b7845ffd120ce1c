"""Delivery through local_cetadsync: the outbox key is the idempotency key, so a lost answer
is settled exactly by get_delivered and nothing is ever sent twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from moodle_sync.client.messages import OutgoingMessage
from moodle_sync.push.plugin_writer import notification
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from tests.test_every_student import TODAY, Site, amelias_before_2d, at, plugin_site

SEND = "local_cetadsync_send_notifications"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with plugin_site(tmp_path) as running:
        yield running


def notified(site: Site) -> Counter[str]:
    return Counter(row["idempotencykey"] for row in site.state.snapshot()["notifications"])


def test_a_reminder_goes_as_a_notification_keyed_by_the_outbox_key(site: Site) -> None:
    _due, key = amelias_before_2d(site)
    site.run(at(TODAY + timedelta(days=1), 10))
    assert site.rows()[key].state == "sent"
    assert notified(site)[key] == 1 and not site.state.messages  # no chat message
    site.run(at(TODAY + timedelta(days=1), 11))
    assert notified(site)[key] == 1, "a rerun sends nothing"


def test_a_lost_answer_is_settled_exactly_with_no_duplicate(site: Site) -> None:
    _due, key = amelias_before_2d(site)
    lost = FaultRule(function=SEND, kind=FaultKind.LOST_ANSWER, times=1)
    site.sandbox.set_faults(FaultPlan(rules=[lost]))
    first = site.run(at(TODAY + timedelta(days=1), 10))
    assert first.delivery.in_doubt >= 1 and notified(site)[key] == 1
    # the run's alert delivery already settled the batch by key: no settle time, no guess
    assert site.rows()[key].state == "sent"
    site.heal()
    again = site.run(at(TODAY + timedelta(days=1), 10, 30))
    assert again.delivery.sent == 0 and again.delivery.in_doubt == 0
    assert max(notified(site).values()) == 1, "nothing was sent twice"


def test_a_key_the_plugin_never_saw_goes_back_to_planned_and_is_sent_once(site: Site) -> None:
    _due, key = amelias_before_2d(site)
    site.sandbox.set_faults(FaultPlan(rules=[FaultRule(function=SEND, kind=FaultKind.RESET)]))
    first = site.run(at(TODAY + timedelta(days=1), 10))
    assert first.delivery.in_doubt >= 1
    # settled by key during the run's alert delivery: never seen, so safely planned again
    assert site.rows()[key].state == "planned" and not notified(site)[key]
    site.heal()
    site.run(at(TODAY + timedelta(days=1), 10, 30))
    assert site.rows()[key].state == "sent" and notified(site)[key] == 1


def test_a_notification_carries_plain_text_only(site: Site) -> None:
    """The plugin builds the HTML from the text, escaped; the worker sends none (the function
    refuses a `fullmessagehtml`)."""
    _due, key = amelias_before_2d(site)
    site.run(at(TODAY + timedelta(days=1), 10))
    [sent] = [r for r in site.state.snapshot()["notifications"] if r["idempotencykey"] == key]
    assert f"Ref: {key}" in sent["fullmessage"] and "<" not in sent["fullmessage"]


def test_a_message_planned_without_its_own_text_sends_the_words_of_its_html() -> None:
    body = "<p>Dear Ann &amp; Bob,</p><p>Due <strong>Friday</strong>.<br>Ref: k1</p>"
    sent = notification(OutgoingMessage(5, body, clientmsgid="k1", subject="Due"))
    assert sent["fullmessage"] == "Dear Ann & Bob,\nDue Friday.\nRef: k1"
    assert set(sent) == {"idempotencykey", "provider", "touserid", "subject", "fullmessage",
                         "smallmessage"}  # fmt: skip
