"""Sending messages (per-message results, in-doubt batches) and listing what was sent."""

from __future__ import annotations

import pytest
import requests
import responses

from moodle_sync.client import Requester
from moodle_sync.client.messages import OutgoingMessage, get_messages, send_instant_messages
from moodle_sync.errors import InDoubtError
from tests.client.conftest import ENDPOINT, MakeRequester, reply, sent_forms

Mock = responses.RequestsMock


def test_each_message_gets_its_own_result_in_input_order(req: Requester, moodle: Mock) -> None:
    rec = reply(moodle, "core_message_send_instant_messages")
    results = send_instant_messages(
        req,
        [
            OutgoingMessage(5, "Reminder: MPC Assignment 1 is due in 3 days.", "cetad-002"),
            OutgoingMessage(6, "<p>Your progression status has been updated.</p>"),
        ],
    )
    assert sent_forms(moodle)[0][3:] == [(k, str(v)) for k, v in list(rec["params"].items())[3:]]
    assert [(r.ok, r.msgid, r.clientmsgid) for r in results] == [
        (True, 5, "cetad-002"),
        (True, 6, None),
    ]


def test_a_refused_message_is_reported_with_moodles_reason(req: Requester, moodle: Mock) -> None:
    reply(moodle, "core_message_send_instant_messages__noncontact_blocked")
    (result,) = send_instant_messages(req, [OutgoingMessage(5, "hi", "cetad-001")])
    assert not result.ok
    assert result.errormessage and "message preferences" in result.errormessage


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (lambda: OutgoingMessage(5, "x", "a.b"), "only"),
        (lambda: OutgoingMessage(5, "é" * 2049), "4096 bytes"),
    ],
)
def test_messages_moodle_would_reject_are_refused_before_sending(
    message: object, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        message()  # type: ignore[operator]


def test_an_in_doubt_batch_reports_the_batches_already_sent(
    make_requester: MakeRequester, moodle: Mock
) -> None:
    req = make_requester(max_ids_per_call=2)
    reply(moodle, "core_message_send_instant_messages")
    moodle.add(responses.POST, ENDPOINT, body=requests.exceptions.ReadTimeout("timed out"))
    batch = [OutgoingMessage(5, "a"), OutgoingMessage(6, "b"), OutgoingMessage(7, "c")]
    with pytest.raises(InDoubtError) as caught:
        send_instant_messages(req, batch)
    assert [r.msgid for r in caught.value.completed] == [5, 6]
    assert len(moodle.calls) == 2


def test_sent_messages_are_listed_for_the_integration_user(req: Requester, moodle: Mock) -> None:
    reply(moodle, "core_message_get_messages__sent_by_integration_user")
    sent = get_messages(req, 3)
    assert sent[0].useridfrom == 3 and sent[0].useridto == 6
    assert sent_forms(moodle)[0][3:] == [
        ("useridto", "0"),
        ("useridfrom", "3"),
        ("type", "conversations"),
        ("read", "2"),
        ("newestfirst", "1"),
        ("limitfrom", "0"),
        ("limitnum", "50"),
    ]


def test_a_send_answered_in_an_unexpected_shape_is_in_doubt_not_resent(
    req: Requester, moodle: Mock
) -> None:
    """The messages were sent; an answer we cannot read leaves their outcome unknown."""
    moodle.add(responses.POST, ENDPOINT, json=[{"msgid": "not a number", "clientmsgid": "a"}])
    with pytest.raises(InDoubtError) as raised:
        send_instant_messages(req, [OutgoingMessage(5, "hi", "a")])
    assert str(raised.value).startswith("core_message_send_instant_messages: the write was sent")
    assert "MessageResult.msgid" in str(raised.value)
    assert raised.value.completed == []
