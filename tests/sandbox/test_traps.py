"""The traps a real Moodle sets (shared/moodle/README.md), set by the sandbox too."""

from __future__ import annotations

import requests

from moodle_sync.sandbox import (
    INTEGRATION_TOKEN,
    NO_CAPABILITY_TOKEN,
    NO_MESSAGING_TOKEN,
    PARTIAL_SERVICE_TOKEN,
    Sandbox,
)
from tests.sandbox.conftest import Rest

COURSES = {f"courseids[{i}]": cid for i, cid in enumerate(range(2, 9))}


def test_assignments_of_unenrolled_courses_are_warnings_without_the_flag(rest: Rest) -> None:
    body = rest("mod_assign_get_assignments", **COURSES).json()
    assert body["courses"] == []
    assert [(w["itemid"], w["warningcode"]) for w in body["warnings"]] == [
        (cid, "2") for cid in range(2, 9)
    ]


def test_assignments_are_listed_with_includenotenrolledcourses(rest: Rest) -> None:
    body = rest("mod_assign_get_assignments", includenotenrolledcourses=1, **COURSES).json()
    assert [c["id"] for c in body["courses"]] == list(range(2, 9))
    assert body["warnings"] == []


def test_students_cannot_be_messaged_without_readallmessages(rest: Rest) -> None:
    params = {"messages[0][touserid]": 5, "messages[0][text]": "hi"}
    refused = rest("core_message_send_instant_messages", NO_MESSAGING_TOKEN, **params).json()
    assert refused[0]["msgid"] == -1
    assert "message preferences" in refused[0]["errormessage"]
    sent = rest("core_message_send_instant_messages", **params).json()
    assert sent[0]["msgid"] > 0 and sent[0]["text"] == "<p>hi</p>"


def test_message_to_a_nonexistent_user_fails_alone(rest: Rest) -> None:
    body = rest(
        "core_message_send_instant_messages",
        **{"messages[0][touserid]": 999999, "messages[0][text]": "a"},
        **{"messages[1][touserid]": 6, "messages[1][text]": "b"},
    ).json()
    assert [m["msgid"] == -1 for m in body] == [True, False]


def test_bad_clientmsgid_rejects_the_whole_batch(rest: Rest, sandbox: Sandbox) -> None:
    body = rest(
        "core_message_send_instant_messages",
        **{"messages[0][touserid]": 6, "messages[0][text]": "a"},
        **{"messages[1][touserid]": 6, "messages[1][text]": "b", "messages[1][clientmsgid]": "x.1"},
    ).json()
    assert body["errorcode"] == "invalidparameter"
    assert sandbox.state.messages == []


def test_profile_fields_unknown_ignored_empty_removes_none_means_no_key(rest: Rest) -> None:
    update = {"users[0][id]": 5, "users[0][customfields][0][type]": "cetad_progression"}
    rest("core_user_update_users", **update, **{"users[0][customfields][0][value]": ""})
    rest("core_user_update_users", **update, **{"users[0][customfields][0][value]": "On track"})
    unknown = {"users[0][customfields][1][type]": "nope", "users[0][customfields][1][value]": "x"}
    assert rest(
        "core_user_update_users",
        **update,
        **unknown,
        **{"users[0][customfields][0][value]": "On track"},
    ).json() == {"warnings": []}
    rest(
        "core_user_update_users",
        **{
            "users[0][id]": 5,
            "users[0][customfields][0][type]": "cetad_credits",
            "users[0][customfields][0][value]": "",
        },
    )
    users = rest("core_user_get_users_by_field", field="id", **{"values[0]": 5, "values[1]": 8})
    amelia, james = users.json()
    assert [f["shortname"] for f in amelia["customfields"]] == ["cetad_progression"]
    assert "customfields" not in james


def test_token_past_max_input_vars_is_lost_and_answered_in_xml(sandbox: Sandbox) -> None:
    sandbox.state.site.max_input_vars = 10
    data = [(f"assignmentids[{i}]", str(i + 1)) for i in range(10)]
    data += [("wstoken", INTEGRATION_TOKEN), ("wsfunction", "mod_assign_get_submissions")]
    reply = requests.post(f"{sandbox.url}/webservice/rest/server.php", data=data, timeout=10)
    assert reply.headers["Content-Type"].startswith("application/xml")
    assert "<ERRORCODE>invalidtoken</ERRORCODE>" in reply.text


def test_wrong_restformat_answers_xml(sandbox: Sandbox) -> None:
    data = {
        "wstoken": INTEGRATION_TOKEN,
        "wsfunction": "core_webservice_get_site_info",
        "moodlewsrestformat": "yaml",
    }
    reply = requests.post(f"{sandbox.url}/webservice/rest/server.php", data=data, timeout=10)
    assert reply.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>')


def test_errors_by_token_and_service(rest: Rest) -> None:
    codes = {
        "bad token": rest("core_webservice_get_site_info", "nope").json()["errorcode"],
        "unknown function": rest("core_no_such_function").json()["errorcode"],
        "not in service": rest(
            "mod_assign_get_user_flags", PARTIAL_SERVICE_TOKEN, **{"assignmentids[0]": 1}
        ).json()["errorcode"],
        "no capability": rest(
            "core_enrol_get_enrolled_users", NO_CAPABILITY_TOKEN, courseid=2
        ).json()["errorcode"],
    }
    assert codes == {
        "bad token": "invalidtoken",
        "unknown function": "invalidrecord",
        "not in service": "accessexception",
        "no capability": "errorcoursecontextnotvalid",
    }


def test_partial_service_site_info_lists_only_its_functions(rest: Rest) -> None:
    names = {
        f["name"]
        for f in rest("core_webservice_get_site_info", PARTIAL_SERVICE_TOKEN).json()["functions"]
    }
    assert "mod_assign_get_user_flags" not in names
    assert "mod_assign_get_submissions" in names


def test_suspended_enrolment_is_listed_but_missing_from_enrolledcourses(rest: Rest) -> None:
    users = {u["id"]: u for u in rest("core_enrol_get_enrolled_users", courseid=5).json()}
    assert 5 not in [c["id"] for c in users[10]["enrolledcourses"]]
    assert "status" not in users[10]
    assert 5 in [c["id"] for c in users[5]["enrolledcourses"]]


def test_override_shows_only_through_get_participant(rest: Rest, sandbox: Sandbox) -> None:
    sandbox.state.override_due_date(2, 7, sandbox.state.now + 86400)
    participant = rest("mod_assign_get_participant", assignid=2, userid=7).json()
    assignment = rest(
        "mod_assign_get_assignments", includenotenrolledcourses=1, **{"courseids[0]": 3}
    ).json()["courses"][0]["assignments"][0]
    assert participant["duedate"] == sandbox.state.now + 86400
    assert assignment["duedate"] == sandbox.state.assignments[2].duedate != participant["duedate"]


def test_user_not_in_course_for_participant(rest: Rest) -> None:
    body = rest("mod_assign_get_participant", assignid=5, userid=10).json()
    assert body["errorcode"] == "usernotincourse"


def test_ungraded_grade_row_is_minus_one_string(rest: Rest) -> None:
    grades = rest("mod_assign_get_grades", **{"assignmentids[0]": 1}).json()["assignments"][0]
    by_user = {g["userid"]: g["grade"] for g in grades["grades"]}
    assert by_user[13] == "-1.00000" and by_user[5] == "46.00000"
