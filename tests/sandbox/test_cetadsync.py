"""The plugin's nine functions in the sandbox, answering as local_cetadsync/README.md says."""

from __future__ import annotations

from typing import Any

from moodle_sync.sandbox import (
    INTEGRATION_TOKEN,
    PLUGIN_NO_CAPABILITY_TOKEN,
    PLUGIN_TOKEN,
    Sandbox,
)
from tests.sandbox.conftest import Rest

COURSES = {f"courseids[{i}]": cid for i, cid in enumerate(range(2, 9))}


def _note(key: str, touserid: int = 5, i: int = 0, provider: str = "studentreminder") -> dict:
    fields = {"idempotencykey": key, "provider": provider, "touserid": touserid,
              "subject": "Due soon", "fullmessage": "text", "smallmessage": "Due soon"}  # fmt: skip
    return {f"notifications[{i}][{k}]": v for k, v in fields.items()}


def _send(rest: Rest, key: str, **more: Any) -> dict[str, Any]:
    return rest("local_cetadsync_send_notifications", PLUGIN_TOKEN, **_note(key, **more)).json()


def test_site_info_lists_the_plugin_functions_only_on_the_plugin_service(rest: Rest) -> None:
    def names(token: str) -> set[str]:
        body = rest("core_webservice_get_site_info", token).json()
        return {f["name"] for f in body["functions"]}

    assert "local_cetadsync_get_enrolments" in names(PLUGIN_TOKEN)
    assert not {n for n in names(INTEGRATION_TOKEN) if n.startswith("local_")}


def test_enrolments_of_every_course_come_in_one_call_with_status(rest: Rest) -> None:
    body = rest("local_cetadsync_get_enrolments", PLUGIN_TOKEN, **COURSES).json()
    assert body["warnings"] == []
    rows = body["enrolments"]
    assert {r["courseid"] for r in rows} == set(range(2, 9))
    assert rows == sorted(rows, key=lambda r: (r["courseid"], r["userid"]))
    assert {r["status"] for r in rows} <= {"active", "suspended"}
    assert all(r["reason"] == ("" if r["status"] == "active" else "suspended") for r in rows)


def test_a_course_the_caller_cannot_read_is_a_warning(rest: Rest) -> None:
    body = rest("local_cetadsync_get_enrolments", PLUGIN_TOKEN, **{"courseids[0]": 999}).json()
    assert body == {"enrolments": [], "warnings": [
        {"item": "course", "itemid": 999, "warningcode": "invalidrecord",
         "message": "Can't find data record"}]}  # fmt: skip


def test_each_function_refuses_a_caller_without_its_capability(rest: Rest) -> None:
    calls = {
        "local_cetadsync_get_courses": {"idnumbers[0]": "CETAD-LOTC"},
        "local_cetadsync_get_enrolments": {"courseids[0]": 2},
        "local_cetadsync_get_effective_dates": {"assignmentids[0]": 1},
        "local_cetadsync_get_assignment_records": {"courses[0][courseid]": 2},
        "local_cetadsync_send_notifications": _note("k1"),
        "local_cetadsync_get_delivered": {"idempotencykeys[0]": "k1"},
        "local_cetadsync_save_progression": {"records[0][userid]": 5, "records[0][courseid]": 1,
                                             "records[0][status]": "on_track",
                                             "records[0][credits]": "0"},
        "local_cetadsync_save_profile_values": _values(5, cetad_progression="On track"),
        "local_cetadsync_get_profile_fields": {},
    }  # fmt: skip
    for function, params in calls.items():
        body = rest(function, PLUGIN_NO_CAPABILITY_TOKEN, **params).json()
        assert body["errorcode"] == "nopermissions", function


def test_own_dates_list_only_students_whose_dates_differ(rest: Rest, sandbox: Sandbox) -> None:
    body = rest("local_cetadsync_get_effective_dates", PLUGIN_TOKEN,
                **{"assignmentids[0]": 3}).json()  # fmt: skip
    [assignment] = body["assignments"]
    assert assignment["changed"] is True
    [student] = [s for s in assignment["students"] if s["userid"] == 15]
    override = sandbox.state.override(3, 15)
    assert override is not None
    assert (student["duedate"], student["source"]) == (override.duedate, "user")


def test_since_reports_unchanged_until_a_date_moves(rest: Rest, sandbox: Sandbox) -> None:
    first = rest("local_cetadsync_get_effective_dates", PLUGIN_TOKEN,
                 **{"assignmentids[0]": 3}).json()  # fmt: skip
    sandbox.state.advance_clock(60)
    again = {"assignmentids[0]": 3, "since": first["time"] + 1}
    quiet = rest("local_cetadsync_get_effective_dates", PLUGIN_TOKEN, **again).json()
    assert quiet["assignments"][0]["changed"] is False
    assert quiet["assignments"][0]["students"] == []
    sandbox.state.grant_extension(3, 5, sandbox.state.clock() + 86400)
    moved = rest("local_cetadsync_get_effective_dates", PLUGIN_TOKEN, **again).json()
    assert moved["assignments"][0]["changed"] is True
    assert 5 in {s["userid"] for s in moved["assignments"][0]["students"]}


def test_a_key_seen_before_returns_the_original_result_and_sends_nothing(
    rest: Rest, sandbox: Sandbox
) -> None:
    first = _send(rest, "outbox-1")["results"][0]
    again = _send(rest, "outbox-1")["results"][0]
    assert (first["status"], first["duplicate"]) == ("sent", False)
    assert again == first | {"duplicate": True}
    assert len(sandbox.state.snapshot()["notifications"]) == 1


def test_a_bad_key_fails_the_whole_batch_before_anything_is_sent(
    rest: Rest, sandbox: Sandbox
) -> None:
    params = _note("good-key") | _note("bad.key", i=1)
    body = rest("local_cetadsync_send_notifications", PLUGIN_TOKEN, **params).json()
    assert body["errorcode"] == "invalidparameter"
    assert sandbox.state.snapshot()["notifications"] == []


def test_unknown_user_or_provider_fails_that_item_only(rest: Rest) -> None:
    assert _send(rest, "k-user", touserid=99999)["results"][0]["errorcode"] == "invaliduser"
    bad = _send(rest, "k-prov", provider="chat")["results"][0]
    assert (bad["status"], bad["errorcode"]) == ("failed", "invalidprovider")


def test_caller_html_is_refused_as_an_unknown_key(rest: Rest, sandbox: Sandbox) -> None:
    params = _note("html-key") | {"notifications[0][fullmessagehtml]": "<script>x</script>"}
    body = rest("local_cetadsync_send_notifications", PLUGIN_TOKEN, **params).json()
    assert body["errorcode"] == "invalidparameter"
    assert sandbox.state.snapshot()["notifications"] == []


def test_a_context_link_outside_the_site_fails_only_its_notification(
    rest: Rest, sandbox: Sandbox
) -> None:
    links = ["/mod/assign/view.php?id=3", "https://evil.example/x", "javascript:alert(1)",
             f"{sandbox.url}/course/view.php?id=2"]  # fmt: skip
    params: dict[str, Any] = {}
    for i, link in enumerate(links):
        params |= _note(f"link-{i}", i=i) | {f"notifications[{i}][contexturl]": link}
    body = rest("local_cetadsync_send_notifications", PLUGIN_TOKEN, **params).json()
    assert [(r["status"], r["errorcode"]) for r in body["results"]] == [
        ("sent", ""), ("failed", "invalidcontexturl"), ("failed", "invalidcontexturl"),
        ("sent", "")]  # fmt: skip


def test_a_suspended_recipient_fails_with_invaliduser(rest: Rest, sandbox: Sandbox) -> None:
    sandbox.state.users[5].suspended = True
    result = _send(rest, "k-suspended")["results"][0]
    assert (result["status"], result["errorcode"]) == ("failed", "invaliduser")


def _without(sandbox: Sandbox, capability: str) -> None:
    token = sandbox.state.tokens[PLUGIN_TOKEN]
    token.capabilities = token.capabilities - {capability}


def test_enrolments_without_enrolreview_are_a_warning_per_course(
    rest: Rest, sandbox: Sandbox
) -> None:
    _without(sandbox, "moodle/course:enrolreview")
    body = rest("local_cetadsync_get_enrolments", PLUGIN_TOKEN, **{"courseids[0]": 2}).json()
    assert body["enrolments"] == []
    assert [(w["itemid"], w["warningcode"]) for w in body["warnings"]] == [(2, "nopermissions")]


def _suspended_student(sandbox: Sandbox) -> tuple[int, int]:
    """(course, user) of a student whose enrolment the scenario suspends."""
    found = next(e for e in sandbox.state.enrolments if e.status == "suspended")
    return found.courseid, found.userid


def test_records_leave_suspended_students_out_without_viewsuspendedusers(
    rest: Rest, sandbox: Sandbox
) -> None:
    courseid, userid = _suspended_student(sandbox)
    assign = sandbox.state.course_assignments(courseid)[0]
    sandbox.state.submit(assign.id, userid)
    sandbox.state.grant_extension(assign.id, userid, sandbox.state.clock() + 86400)

    def users(body: dict[str, Any]) -> set[int]:
        lists = ("submissions", "grades", "userflags")
        return {row["userid"] for a in body["assignments"] for name in lists for row in a[name]}

    asked = {"courses[0][courseid]": courseid}
    assert userid in users(
        rest("local_cetadsync_get_assignment_records", PLUGIN_TOKEN, **asked).json()
    )
    _without(sandbox, "moodle/course:viewsuspendedusers")
    body = rest("local_cetadsync_get_assignment_records", PLUGIN_TOKEN, **asked).json()
    assert body["assignments"] and userid not in users(body)
    dates = rest("local_cetadsync_get_effective_dates", PLUGIN_TOKEN,
                 **{"assignmentids[0]": assign.id}).json()  # fmt: skip
    assert userid not in {s["userid"] for s in dates["assignments"][0]["students"]}


def test_a_provider_goes_only_to_those_moodle_offers_it_to(rest: Rest) -> None:
    """db/messages.php's capabilities: reminders to students, digests to tutors (HELEN, 17,
    teaches every course), alerts to site administrators (2); others fail notarecipient."""
    cases = [("k-r5", 5, "studentreminder", ""), ("k-d5", 5, "tutordigest", "notarecipient"),
             ("k-a5", 5, "adminalert", "notarecipient"), ("k-d17", 17, "tutordigest", ""),
             ("k-r17", 17, "studentreminder", "notarecipient"),
             ("k-a17", 17, "adminalert", "notarecipient"), ("k-a2", 2, "adminalert", ""),
             ("k-d2", 2, "tutordigest", "")]  # fmt: skip
    notes: dict[str, Any] = {}
    for i, (key, user, provider, _code) in enumerate(cases):
        notes |= _note(key, touserid=user, i=i, provider=provider)
    body = rest("local_cetadsync_send_notifications", PLUGIN_TOKEN, **notes).json()
    got = [(r["status"], r["errorcode"]) for r in body["results"]]
    assert got == [("failed" if code else "sent", code) for *_, code in cases]


def test_a_privacy_deletion_moves_the_epoch_save_progression_answers(
    rest: Rest, sandbox: Sandbox
) -> None:
    def epoch() -> int:
        answer: int = rest("local_cetadsync_save_progression", PLUGIN_TOKEN).json()["recordsepoch"]
        return answer

    rest("local_cetadsync_save_progression", PLUGIN_TOKEN, **_record())
    assert epoch() == 0
    sandbox.state.privacy_delete(6)  # nothing of hers stored: nothing removed
    assert epoch() == 0
    sandbox.state.privacy_delete(5)
    assert (5, 1) not in sandbox.state.plugin_progress
    assert epoch() == 1


def test_delivered_tells_sent_from_unknown(rest: Rest) -> None:
    _send(rest, "sent-key")
    params = {"idempotencykeys[0]": "sent-key", "idempotencykeys[1]": "never-key"}
    body = rest("local_cetadsync_get_delivered", PLUGIN_TOKEN, **params).json()
    assert [(r["idempotencykey"], r["status"]) for r in body["results"]] == [
        ("sent-key", "sent"), ("never-key", "unknown")]  # fmt: skip


def test_progression_is_written_only_when_it_changed(rest: Rest) -> None:
    def save(status: str, userid: int = 5) -> dict[str, Any]:
        record = {"records[0][userid]": userid, "records[0][courseid]": 1,
                  "records[0][status]": status, "records[0][credits]": "60",
                  "records[0][reasons][0]": "overdue"}  # fmt: skip
        return rest("local_cetadsync_save_progression", PLUGIN_TOKEN, **record).json()

    outcomes = [save(s)["results"][0]["outcome"] for s in ("at_risk", "at_risk", "on_track")]
    assert outcomes == ["created", "unchanged", "updated"]
    assert save("on_track", userid=99999)["warnings"][0]["warningcode"] == "invaliduser"
    assert save("x" * 51)["warnings"][0]["warningcode"] == "invalidvalue"


def _record(**more: Any) -> dict[str, Any]:
    """One issue-14 record, form-encoded, with one module and one item."""
    fields: dict[str, Any] = {
        "userid": 5, "courseid": 1, "status": "at_risk", "credits": "60",
        "reasons[0]": "MPC Essay 3 days overdue", "nextdeadline": 1900000000,
        "award": "PG Diploma in Professional Practice", "awardcredits": 120,
        "priorcredits": 60, "priorcap": 60, "urgency": 3003,
        "latework": "Work submitted after the deadline scores 0.",
        "modules[0][code]": "MPC", "modules[0][title]": "Models for Planning Change",
        "modules[0][credits]": 20, "modules[0][outcome]": "in_progress",
        "items[0][courseid]": 3, "items[0][assignid]": 2, "items[0][cmid]": 12,
        "items[0][name]": "MPC Essay", "items[0][module]": "MPC", "items[0][duedate]": 1800000000,
        "items[0][extension]": 0, "items[0][owndate]": 1, "items[0][state]": "new",
        "items[0][concern]": "overdue", "items[0][required]": 1,
    } | more  # fmt: skip
    return {_under_record(k): v for k, v in fields.items()}


def _under_record(key: str) -> str:
    """'items[0][cmid]' -> 'records[0][items][0][cmid]'."""
    head, bracket, rest = key.partition("[")
    return f"records[0][{head}]{bracket}{rest}"


def test_a_full_record_is_stored_with_plain_reasons_and_an_unset_mark_null(
    rest: Rest, sandbox: Sandbox
) -> None:
    body = rest("local_cetadsync_save_progression", PLUGIN_TOKEN, **_record()).json()
    assert body["results"][0]["outcome"] == "created"
    stored = sandbox.state.plugin_progress[(5, 1)]
    assert stored["reasons"] == ["MPC Essay 3 days overdue"]
    assert (stored["award"], stored["priorcap"], stored["urgency"]) == (
        "PG Diploma in Professional Practice", 60, 3003)  # fmt: skip
    [module], [item] = stored["detail"]["modules"], stored["detail"]["items"]
    assert module["mark"] is None and item["mark"] is None
    assert (item["owndate"], item["required"], item["cmid"]) == (True, True, 12)
    again = rest("local_cetadsync_save_progression", PLUGIN_TOKEN,
                 **_record(**{"items[0][extension]": 1800086400})).json()  # fmt: skip
    assert again["results"][0]["outcome"] == "updated", "the items are compared too"


def test_an_older_workers_record_still_validates_with_the_defaults(
    rest: Rest, sandbox: Sandbox
) -> None:
    old = {"records[0][userid]": 5, "records[0][courseid]": 1, "records[0][status]": "on_track",
           "records[0][credits]": "20"}  # fmt: skip
    assert rest("local_cetadsync_save_progression", PLUGIN_TOKEN, **old).json()["results"]
    stored = sandbox.state.plugin_progress[(5, 1)]
    assert (stored["award"], stored["urgency"], stored["detail"]) == (
        "", 0, {"modules": [], "items": []})  # fmt: skip


def test_a_call_with_no_records_is_valid_and_marks_the_last_sync(
    rest: Rest, sandbox: Sandbox
) -> None:
    body = rest("local_cetadsync_save_progression", PLUGIN_TOKEN).json()
    assert body == {"results": [], "warnings": [], "recordsepoch": 0}
    assert sandbox.state.plugin_saves == [()] and sandbox.state.plugin_lastsync > 0


def test_fields_are_validated_as_the_external_function_declares_them(rest: Rest) -> None:
    bad = [
        {"records[0][reasons][0]": "<b>late</b>"},  # PARAM_TEXT strips tags: refused
        {"records[0][items][0][state]": "handed_in"},  # PARAM_ALPHA
        {"records[0][items][0][owndate]": "yes"},  # PARAM_BOOL
        {"records[0][modules][0][mark]": "n/a"},  # PARAM_FLOAT
        {"records[0][items][0][colour]": "red"},  # unknown key
    ]
    for change in bad:
        body = rest("local_cetadsync_save_progression", PLUGIN_TOKEN, **(_record() | change))
        assert body.json()["errorcode"] == "invalidparameter", change
    missing = {k: v for k, v in _record().items() if k != "records[0][items][0][cmid]"}
    body = rest("local_cetadsync_save_progression", PLUGIN_TOKEN, **missing).json()
    assert body["errorcode"] == "invalidparameter"


def test_courses_by_idnumber_carry_it_and_leave_unknown_ones_out(rest: Rest) -> None:
    body = rest("local_cetadsync_get_courses", PLUGIN_TOKEN, **{
        "idnumbers[0]": "CETAD-MPC", "idnumbers[1]": "NO-SUCH", "idnumbers[2]": "CETAD-LOTC",
        "idnumbers[3]": "CETAD-MPC"}).json()  # fmt: skip
    assert body["warnings"] == []
    assert [c["idnumber"] for c in body["courses"]] == ["CETAD-LOTC", "CETAD-MPC"]


def test_a_hidden_course_is_a_warning_without_viewhiddencourses(
    rest: Rest, sandbox: Sandbox
) -> None:
    course = next(c for c in sandbox.state.courses.values() if c.idnumber == "CETAD-MPC")
    course.visible = 0
    token = sandbox.state.tokens[PLUGIN_TOKEN]
    token.capabilities = token.capabilities - {"moodle/course:viewhiddencourses"}
    body = rest("local_cetadsync_get_courses", PLUGIN_TOKEN,
                **{"idnumbers[0]": "CETAD-MPC"}).json()  # fmt: skip
    assert body == {"courses": [], "warnings": [
        {"item": "course", "itemid": course.id, "warningcode": "requireloginerror",
         "message": "Course or activity not accessible. (Course is hidden)"}]}  # fmt: skip


def test_assignment_records_take_a_since_per_course(rest: Rest, sandbox: Sandbox) -> None:
    def read(**courses: int) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for i, (cid, since) in enumerate(courses.items()):
            params |= {f"courses[{i}][courseid]": cid[1:], f"courses[{i}][since]": since}
        return dict(rest("local_cetadsync_get_assignment_records", PLUGIN_TOKEN, **params).json())

    everything = read(c2=0, c3=0, c999=0)
    assert everything["warnings"] == [
        {"item": "course", "itemid": 999, "warningcode": "invalidrecord",
         "message": "Can't find data record"}]  # fmt: skip
    by_course = {c: [a for a in everything["assignments"] if a["courseid"] == c] for c in (2, 3)}
    assert any(a["submissions"] for a in by_course[2] + by_course[3])
    later = read(c2=0, c3=2**31 - 1)
    assert [a for a in later["assignments"] if a["courseid"] == 2] == by_course[2]
    for entry in (a for a in later["assignments"] if a["courseid"] == 3):
        assert entry["submissions"] == entry["grades"] == []
        assert entry["userflags"] == next(
            a["userflags"] for a in by_course[3] if a["assignmentid"] == entry["assignmentid"]
        )


def _values(*users: int, **fields: str) -> dict[str, Any]:
    """save_profile_values' form: the same fields for each user."""
    form: dict[str, Any] = {}
    for i, userid in enumerate(users):
        form[f"users[{i}][userid]"] = userid
        for j, (name, value) in enumerate(fields.items()):
            form[f"users[{i}][fields][{j}][shortname]"] = name
            form[f"users[{i}][fields][{j}][value]"] = value
    return form


AMELIA, ADMIN, TUTOR, INTEGRATION = 5, 2, 17, 3


def test_profile_values_are_written_for_students_only(rest: Rest, sandbox: Sandbox) -> None:
    """As save_profile_values.php: a student's two fields; an administrator, a teacher, the
    integration user and an unknown id are each a warning, and keep what they had."""
    form = _values(AMELIA, ADMIN, TUTOR, INTEGRATION, 999, cetad_progression="On track: x",
                   cetad_credits="")  # fmt: skip
    body = rest("local_cetadsync_save_profile_values", PLUGIN_TOKEN, **form).json()
    assert body["results"] == [{"userid": AMELIA, "outcome": "updated"}]
    assert [(w["itemid"], w["warningcode"]) for w in body["warnings"]] == [
        (ADMIN, "usernotupdatedadmin"), (TUTOR, "notastudent"), (INTEGRATION, "notastudent"),
        (999, "invaliduser")]  # fmt: skip
    assert sandbox.state.users[AMELIA].customfields == {"cetad_progression": "On track: x"}
    again = rest("local_cetadsync_save_profile_values", PLUGIN_TOKEN, **form).json()
    assert again["results"] == [{"userid": AMELIA, "outcome": "unchanged"}]


def test_profile_values_refuse_another_field_html_and_length(rest: Rest, sandbox: Sandbox) -> None:
    cases = {"fieldnotallowed": {"department": "x"},
             "invalidvalue": {"cetad_progression": "On <b>track</b>"},
             "valuetoolong": {"cetad_credits": "x" * 256}}  # fmt: skip
    for code, fields in cases.items():
        body = rest("local_cetadsync_save_profile_values", PLUGIN_TOKEN,
                    **_values(AMELIA, **fields)).json()  # fmt: skip
        assert [w["warningcode"] for w in body["warnings"]] == [code]
    assert sandbox.state.users[AMELIA].customfields["cetad_progression"] == "Progressing"


def test_profile_fields_are_described_as_the_site_holds_them(rest: Rest, sandbox: Sandbox) -> None:
    body = rest("local_cetadsync_get_profile_fields", PLUGIN_TOKEN).json()
    assert body["fields"][0] == {"setting": "progressionfield", "shortname": "cetad_progression",
                                 "exists": True, "name": "CETAD progression status",
                                 "datatype": "text", "locked": True, "visible": 3}  # fmt: skip
    sandbox.state.field_rules["cetad_credits"] = (False, 2)
    del sandbox.state.profile_fields["cetad_progression"]
    fields = rest("local_cetadsync_get_profile_fields", PLUGIN_TOKEN).json()["fields"]
    assert [(f["exists"], f["locked"], f["visible"]) for f in fields] == [
        (False, False, 0),
        (True, False, 2),
    ]
