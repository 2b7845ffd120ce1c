"""The control endpoints a separate process steers the sandbox with: clock and mutate."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from moodle_sync.sandbox import Sandbox
from tests.sandbox.conftest import Rest

FORTNIGHT = 14 * 86400
SEND = "core_message_send_instant_messages"


def post(sandbox: Sandbox, path: str, body: Any) -> requests.Response:
    return requests.post(f"{sandbox.url}/sandbox/{path}", json=body, timeout=5)


def sent_at(rest: Rest) -> int:
    reply = rest(SEND, **{"messages[0][touserid]": 6, "messages[0][text]": "hi"}).json()
    stamp: int = reply[0]["timecreated"]
    return stamp


def test_a_message_is_stamped_with_the_clock_set_over_http(sandbox: Sandbox, rest: Rest) -> None:
    target = sandbox.state.now + FORTNIGHT
    assert post(sandbox, "clock", {"now": target}).json() == {"now": target}
    assert sent_at(rest) - target in (0, 1)


def test_advancing_the_clock_moves_what_the_service_writes(sandbox: Sandbox, rest: Rest) -> None:
    before = sandbox.state.clock()
    post(sandbox, "clock", {"advance": FORTNIGHT})
    assert sent_at(rest) - (before + FORTNIGHT) in (0, 1)


def test_the_python_clock_api_and_a_reset_rewind_to_the_scenario_now(
    sandbox: Sandbox, rest: Rest
) -> None:
    sandbox.set_clock(sandbox.state.now + 3600)
    moved = sent_at(rest)
    sandbox.reset()
    assert moved - sandbox.state.now in (3600, 3601)
    assert sandbox.state.clock() - sandbox.state.now in (0, 1)


@pytest.mark.parametrize("body", [{}, {"now": "soon"}, {"now": 1, "advance": 2}, {"now": True}])
def test_a_bad_clock_request_is_a_400_saying_what_to_send(
    sandbox: Sandbox, body: dict[str, Any]
) -> None:
    reply = post(sandbox, "clock", body)
    assert reply.status_code == 400
    assert "{'now': epoch} or {'advance': seconds}" in reply.json()["error"]


def test_a_mutation_over_http_changes_what_the_next_read_sees(sandbox: Sandbox, rest: Rest) -> None:
    reply = post(sandbox, "mutate", {"op": "submit", "assignid": 3, "userid": 5})
    body = rest("mod_assign_get_submissions", **{"assignmentids[0]": 3}).json()
    statuses = {s["userid"]: s["status"] for s in body["assignments"][0]["submissions"]}
    assert reply.status_code == 200
    assert statuses[5] == "submitted"


def test_an_extension_granted_over_http_shows_in_the_user_flags(
    sandbox: Sandbox, rest: Rest
) -> None:
    until = sandbox.state.now + FORTNIGHT
    post(sandbox, "mutate", {"op": "grant_extension", "assignid": 7, "userid": 5, "until": until})
    flags = rest("mod_assign_get_user_flags", **{"assignmentids[0]": 7}).json()
    mine = [f for f in flags["assignments"][0]["userflags"] if f["userid"] == 5]
    assert [f["extensionduedate"] for f in mine] == [until]


def test_a_privacy_deletion_over_http_removes_her_plugin_records(sandbox: Sandbox) -> None:
    sandbox.state.plugin_progress[(5, 1)] = {"status": "at_risk"}
    reply = post(sandbox, "mutate", {"op": "privacy_delete", "userid": 5})
    assert reply.status_code == 200
    assert sandbox.state.plugin_progress == {} and sandbox.state.plugin_epoch == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"op": "drop_tables"}, "unknown op 'drop_tables': use one of submit, grade"),
        ({"op": "submit", "assignid": 3}, "missing a required argument: 'userid'"),
        ({"op": "submit", "assignid": 3, "userid": 5, "mood": 1}, "it takes assignid, userid"),
        ({"op": "suspend_enrolment", "userid": 5, "courseid": 999}, "no such row"),
        ([1, 2], "send a JSON object"),
    ],
)
def test_a_bad_mutation_is_a_400_saying_what_failed(sandbox: Sandbox, body: Any, says: str) -> None:
    reply = post(sandbox, "mutate", body)
    assert reply.status_code == 400
    assert says in reply.json()["error"]
