"""The side channel (/sandbox/state, /sandbox/health), logging, and the test mutators."""

from __future__ import annotations

import pytest
import requests

from moodle_sync.sandbox import INTEGRATION_TOKEN, Sandbox
from tests.sandbox.conftest import Rest


def test_health_answers_ok(sandbox: Sandbox) -> None:
    reply = requests.get(f"{sandbox.url}/sandbox/health", timeout=5)
    assert (reply.status_code, reply.json()) == (200, {"status": "ok"})


def test_state_shows_sent_messages_as_stored_html(rest: Rest, sandbox: Sandbox) -> None:
    rest(
        "core_message_send_instant_messages",
        **{
            "messages[0][touserid]": 6,
            "messages[0][text]": "hello",
            "messages[0][clientmsgid]": "r-1",
        },
    )
    state = requests.get(f"{sandbox.url}/sandbox/state", timeout=5).json()
    [message] = state["messages"]
    assert (message["useridto"], message["text"], message["clientmsgid"]) == (
        6,
        "<p>hello</p>",
        "r-1",
    )


def test_state_shows_profile_fields_pushed(rest: Rest, sandbox: Sandbox) -> None:
    rest(
        "core_user_update_users",
        **{
            "users[0][id]": 9,
            "users[0][customfields][0][type]": "cetad_credits",
            "users[0][customfields][0][value]": "80 of 120 (PG Diploma)",
        },
    )
    state = requests.get(f"{sandbox.url}/sandbox/state", timeout=5).json()
    assert state["profile_fields"]["9"] == {"cetad_credits": "80 of 120 (PG Diploma)"}


def test_state_never_contains_a_token(sandbox: Sandbox) -> None:
    text = requests.get(f"{sandbox.url}/sandbox/state", timeout=5).text
    assert "token" not in text


def test_log_names_the_function_but_never_the_token(
    rest: Rest, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.server.verbose = True
    try:
        rest("core_webservice_get_site_info")
    finally:
        sandbox.server.verbose = False
    logged = capsys.readouterr().err
    assert "core_webservice_get_site_info" in logged
    assert INTEGRATION_TOKEN not in logged


def test_sent_messages_can_be_listed_newest_first(rest: Rest) -> None:
    for text in ("first", "second"):
        rest(
            "core_message_send_instant_messages",
            **{"messages[0][touserid]": 6, "messages[0][text]": text},
        )
    body = rest(
        "core_message_get_messages",
        useridto=0,
        useridfrom=3,
        type="conversations",
        read=2,
        newestfirst=1,
        limitfrom=0,
        limitnum=50,
    ).json()
    assert [m["text"] for m in body["messages"]] == ["<p>second</p>", "<p>first</p>"]


def test_mutators_change_what_the_next_sync_reads(rest: Rest, sandbox: Sandbox) -> None:
    state = sandbox.state
    state.submit(3, 5, "submitted")
    state.grade(3, 5, 71.5)
    state.grant_extension(7, 5, state.now + 3 * 86400)
    state.suspend_enrolment(5, 3)
    submissions = rest("mod_assign_get_submissions", **{"assignmentids[0]": 3}).json()
    grades = rest("mod_assign_get_grades", **{"assignmentids[0]": 3}).json()
    flags = rest("mod_assign_get_user_flags", **{"assignmentids[0]": 7}).json()
    users = {u["id"]: u for u in rest("core_enrol_get_enrolled_users", courseid=3).json()}
    assert {s["userid"]: s["status"] for s in submissions["assignments"][0]["submissions"]}[
        5
    ] == "submitted"
    assert grades["assignments"][0]["grades"][0]["grade"] == "71.50000"
    assert flags["assignments"][0]["userflags"][0]["extensionduedate"] == state.now + 3 * 86400
    assert 3 not in [c["id"] for c in users[5]["enrolledcourses"]]


def test_deleted_assignment_vanishes_and_revoked_course_warns(rest: Rest, sandbox: Sandbox) -> None:
    sandbox.state.delete_assignment(1)
    sandbox.state.revoke_course_access(INTEGRATION_TOKEN, 3)
    body = rest("mod_assign_get_submissions", **{"assignmentids[0]": 1, "assignmentids[1]": 2})
    assert body.json() == {
        "assignments": [],
        "warnings": [
            {
                "item": "assignment",
                "itemid": 2,
                "warningcode": "1",
                "message": "No access rights in module context",
            }
        ],
    }


def test_maintenance_mode_refuses_all_but_admins(rest: Rest, sandbox: Sandbox) -> None:
    sandbox.state.set_maintenance(True)
    assert rest("core_webservice_get_site_info").json()["errorcode"] == "sitemaintenance"
