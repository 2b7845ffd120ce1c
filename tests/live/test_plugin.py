"""local_cetadsync on a real Moodle: installed by Moodle's own upgrade, driven through REST.

Depends only on the ``plugin_site`` fixture of tests/live/conftest.py (shared with the pages'
browser tests, so the plugin is installed once per session). Every test builds its own
data with a unique tag (tests/live/php/cetadsync_fixture.php), so no test needs a reset and the
suite can run twice on the same site; the session ends with the plugin removed and a reset.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from moodle_sync.client.registry import functions_for, role_capabilities

pytestmark = pytest.mark.live

HELPER = Path(__file__).resolve().parent / "php/cetadsync_fixture.php"
PLUGIN_FUNCTIONS = {
    "local_cetadsync_get_assignment_records",
    "local_cetadsync_get_courses",
    "local_cetadsync_get_enrolments",
    "local_cetadsync_get_effective_dates",
    "local_cetadsync_send_notifications",
    "local_cetadsync_get_delivered",
    "local_cetadsync_save_progression",
    "local_cetadsync_save_profile_values",
    "local_cetadsync_get_profile_fields",
}
INTEGRATION_USER = "cetad_plugin_sync"


def _errorcode(error: BaseException) -> str:
    """The Moodle error code carried by whatever the fixture raises for an exception envelope."""
    code = getattr(error, "errorcode", None)
    return str(code) if code else str(error)


@pytest.fixture(scope="session")
def site(plugin_site: Any) -> Any:
    """The live site with the plugin installed: tests/live/conftest.py's ``plugin_site``."""
    return plugin_site


def _helper(site: Any, *args: Any) -> Any:
    done = site.php_cli(str(HELPER), str(site.dirroot), *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def setup_run(site: Any) -> str:
    """Output of cli/setup.php run once, with a new token."""
    script = str(Path(site.dirroot) / "local/cetadsync/cli/setup.php")
    done = site.php_cli(script, f"--username={INTEGRATION_USER}", "--new-token")
    assert done.returncode == 0, done.stderr
    return str(done.stdout)


@pytest.fixture(scope="session")
def token(setup_run: str) -> str:
    lines = [line for line in setup_run.splitlines() if line.startswith("Token (shown once")]
    assert len(lines) == 1, setup_run
    return lines[0].rsplit(" ", 1)[1]


@pytest.fixture(scope="session")
def data(site: Any) -> dict[str, Any]:
    made: dict[str, Any] = _helper(site, "data", uuid.uuid4().hex[:8])
    return made


def test_setup_prints_a_token_once_and_is_idempotent(site: Any, setup_run: str, token: str) -> None:
    script = str(Path(site.dirroot) / "local/cetadsync/cli/setup.php")
    again = site.php_cli(script, f"--username={INTEGRATION_USER}")
    assert again.returncode == 0, again.stderr
    assert "Found user" in again.stdout
    assert "not shown again" in again.stdout
    assert token not in again.stdout


def test_service_holds_the_plugin_paths_functions(site: Any, token: str) -> None:
    """The plugin's functions and the core ones the plugin path calls; not the core ones only
    the by-hand path needs (core_user_update_users, the chat messages)."""
    info = site.call("core_webservice_get_site_info", token=token)
    names = {f["name"] for f in info["functions"]}
    assert names == {spec.name for spec in functions_for("plugin")}
    assert names >= PLUGIN_FUNCTIONS and "core_user_update_users" not in names


def test_role_holds_exactly_the_worker_capabilities(site: Any, setup_run: str) -> None:
    held = set(_helper(site, "rolecaps", "cetadsyncworker"))
    assert held == set(role_capabilities("plugin"))


def test_install_created_the_profile_fields_the_worker_writes(
    site: Any, data: dict[str, Any]
) -> None:
    assert {"cetad_progression", "cetad_credits"} <= set(_helper(site, "fields"))
    student = data["users"]["active"]
    site.call(
        "core_user_update_users",
        users=[
            {"id": student, "customfields": [{"type": "cetad_progression", "value": "on_track"}]}
        ],
    )
    [user] = site.call("core_user_get_users_by_field", field="id", values=[student])
    assert {"shortname": "cetad_progression", "value": "on_track"}.items() <= {
        k: v
        for f in user["customfields"]
        if f["shortname"] == "cetad_progression"
        for k, v in f.items()
    }.items()


COURSE_FIELDS = ("id", "idnumber", "shortname", "fullname", "categoryid", "visible",
                 "startdate", "enddate", "groupmode", "timemodified")  # fmt: skip


def _mapped_idnumbers(site: Any) -> list[str]:
    """The sandbox scenario's course idnumbers, loaded into the site at build."""
    rows = site.sql("SELECT idnumber FROM mdl_course WHERE idnumber LIKE 'CETAD-%' ORDER BY 1")
    assert rows, "the live site holds the CETAD scenario's courses"
    return [row[0] for row in rows]


def test_courses_by_idnumber_match_cores_lookup_one_by_one(site: Any, token: str) -> None:
    """The plugin's one call answers what core answers per idnumber (to an administrator: the
    integration role does not see idnumbers through core), and absent idnumbers are absent."""
    wanted = _mapped_idnumbers(site)
    answer = site.call("local_cetadsync_get_courses", token=token,
                       idnumbers=[*wanted, "NO-SUCH-COURSE", wanted[0]])  # fmt: skip
    assert answer["warnings"] == []
    assert [c["idnumber"] for c in answer["courses"]] == wanted
    for ours in answer["courses"]:
        assert set(ours) == set(COURSE_FIELDS)
        [core] = site.call("core_course_get_courses_by_field", field="idnumber",
                           value=ours["idnumber"])["courses"]  # fmt: skip
        assert ours == {key: core[key] for key in COURSE_FIELDS}
    # why the function exists: the worker's (by-hand) role reads courses by id without their
    # idnumbers; core_course_get_courses_by_field is not on the plugin's service at all
    by_ids = site.call("core_course_get_courses_by_field", token=site.token, field="ids",
                       value=",".join(str(c["id"]) for c in answer["courses"]))  # fmt: skip
    assert by_ids["courses"] and not any(c.get("idnumber") for c in by_ids["courses"])


def test_courses_by_idnumber_see_a_rollover_and_warn_of_a_course_refused(
    site: Any, token: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    first, second = _helper(site, "data", tag)["courses"]
    name = f"ROLL-{tag}"
    site.sql("UPDATE mdl_course SET idnumber = %s WHERE id = %s", name, first)
    [found] = site.call("local_cetadsync_get_courses", token=token, idnumbers=[name])["courses"]
    assert found["id"] == first
    site.sql("UPDATE mdl_course SET idnumber = %s WHERE id = %s", f"{name}-2026", first)
    site.sql("UPDATE mdl_course SET idnumber = %s, visible = 0 WHERE id = %s", name, second)
    [moved] = site.call("local_cetadsync_get_courses", token=token, idnumbers=[name])["courses"]
    assert (moved["id"], moved["visible"]) == (second, 0)  # the role holds viewhiddencourses
    # the hidden course with viewhiddencourses prevented in its own context: a warning
    site.sql(
        "INSERT INTO mdl_role_capabilities (contextid, roleid, capability, permission, "
        "timemodified, modifierid) SELECT ctx.id, r.id, 'moodle/course:viewhiddencourses', -1, "
        "0, 2 FROM mdl_context ctx, mdl_role r WHERE ctx.contextlevel = 50 "
        "AND ctx.instanceid = %s AND r.shortname = 'cetadsyncworker'",
        second,
    )
    refused = site.call("local_cetadsync_get_courses", token=token, idnumbers=[name])
    assert refused["courses"] == []
    assert [(w["item"], w["itemid"], w["warningcode"]) for w in refused["warnings"]] == [
        ("course", second, "requireloginerror")]  # fmt: skip


def test_courses_by_idnumber_answer_as_the_sandbox_twin_does(site: Any, token: str) -> None:
    from datetime import UTC, datetime

    from moodle_sync.sandbox import PLUGIN_TOKEN, start_sandbox
    from tests.live.site import flatten

    wanted = _mapped_idnumbers(site)
    real = site.call("local_cetadsync_get_courses", token=token, idnumbers=[*wanted, "NONE"])
    with start_sandbox(now=datetime.fromtimestamp(site.anchor, UTC)) as sandbox:
        asked = flatten({"idnumbers": [*wanted, "NONE"]})
        form = [("wstoken", PLUGIN_TOKEN), ("wsfunction", "local_cetadsync_get_courses"),
                ("moodlewsrestformat", "json"), *asked]  # fmt: skip
        twin = requests.post(f"{sandbox.url}/webservice/rest/server.php", data=form,
                             timeout=30).json()  # fmt: skip
    assert set(twin) == set(real)
    assert [sorted(c) for c in twin["courses"]] == [sorted(c) for c in real["courses"]]
    same = ("idnumber", "shortname", "fullname", "visible", "groupmode", "startdate", "enddate")
    assert [[c[k] for k in same] for c in twin["courses"]] == [
        [c[k] for k in same] for c in real["courses"]]  # fmt: skip
    for ours, theirs in zip(twin["courses"], real["courses"], strict=True):
        assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}


def _mapped_course_ids(site: Any) -> list[int]:
    rows = site.sql("SELECT id FROM mdl_course WHERE idnumber LIKE 'CETAD-%' ORDER BY id")
    return [int(row[0]) for row in rows]


def _core_records(site: Any, token: str, aids: list[int], since: int) -> dict[str, set[Any]]:
    """What the worker's three core reads give for these assignments, as comparable tuples
    (with the admin's token: they are not on the plugin's service)."""
    subs = site.call("mod_assign_get_submissions", token=token, assignmentids=aids, since=since)
    grades = site.call("mod_assign_get_grades", token=token, assignmentids=aids, since=since)
    flags = site.call("mod_assign_get_user_flags", token=token, assignmentids=aids)
    answers = {"submissions": subs, "grades": grades, "userflags": flags}
    return _records({name: [(a["assignmentid"], row) for a in answer["assignments"]
                            for row in a[name]] for name, answer in answers.items()})  # fmt: skip


RECORD_KEYS = {
    "submissions": ("id", "userid", "groupid", "attemptnumber", "status", "timecreated",
                    "timemodified"),
    "grades": ("id", "userid", "attemptnumber", "grade", "grader", "timecreated", "timemodified"),
    "userflags": ("id", "userid", "locked", "mailed", "extensionduedate", "workflowstate",
                  "allocatedmarker"),
}  # fmt: skip


def _records(rows: dict[str, list[tuple[int, dict[str, Any]]]]) -> dict[str, set[Any]]:
    def value(row: dict[str, Any], key: str) -> Any:
        found = row[key]
        return int(found) if isinstance(found, bool) else (found or "" if key == "workflowstate"
                                                            else found)  # fmt: skip

    return {name: {(aid, *(value(row, k) for k in RECORD_KEYS[name])) for aid, row in listed}
            for name, listed in rows.items()}  # fmt: skip


def _plugin_records(answer: dict[str, Any]) -> dict[str, set[Any]]:
    return _records({name: [(a["assignmentid"], row) for a in answer["assignments"]
                            for row in a[name]] for name in RECORD_KEYS})  # fmt: skip


def test_assignment_records_match_cores_three_reads_with_and_without_since(
    site: Any, token: str
) -> None:
    courses = _mapped_course_ids(site)
    answer = site.call("local_cetadsync_get_assignment_records", token=token,
                       courses=[{"courseid": c} for c in courses])  # fmt: skip
    assert answer["warnings"] == []
    aids = [a["assignmentid"] for a in answer["assignments"]]
    listed = site.call("mod_assign_get_assignments", token=token, courseids=courses,
                       includenotenrolledcourses=1)  # fmt: skip
    assert sorted(aids) == sorted(a["id"] for c in listed["courses"] for a in c["assignments"])
    ours, core = _plugin_records(answer), _core_records(site, site.admin_token, aids, 0)
    assert ours == core
    assert all(ours.values()), "the CETAD scenario has submissions, grades and user flags"
    times = sorted(row[-1] for row in ours["submissions"] | ours["grades"])
    since = times[len(times) // 2]  # a time some records carry: `>=` must keep them
    later = site.call("local_cetadsync_get_assignment_records", token=token,
                      courses=[{"courseid": c, "since": since} for c in courses])  # fmt: skip
    ours_since, core_since = (_plugin_records(later),
                              _core_records(site, site.admin_token, aids, since))  # fmt: skip
    assert ours_since == core_since
    assert any(row[-1] == since for row in ours_since["submissions"] | ours_since["grades"])
    assert ours_since["userflags"] == ours["userflags"], "flags carry no time: always whole"
    # each course its own since: one read from the start, the others from far in the future
    first, *others = courses
    mixed = site.call("local_cetadsync_get_assignment_records", token=token,
                      courses=[{"courseid": first}, *({"courseid": c, "since": 2**31 - 1}
                                                      for c in others)])  # fmt: skip
    in_first = {a["assignmentid"] for a in answer["assignments"] if a["courseid"] == first}
    wanted = {name: {row for row in rows if row[0] in in_first or name == "userflags"}
              for name, rows in ours.items()}  # fmt: skip
    assert _plugin_records(mixed) == wanted


def test_assignment_records_warn_of_an_unknown_course(site: Any, token: str) -> None:
    courses = _mapped_course_ids(site)
    answer = site.call("local_cetadsync_get_assignment_records", token=token,
                       courses=[{"courseid": courses[0]}, {"courseid": 987654}])  # fmt: skip
    assert [(w["item"], w["itemid"]) for w in answer["warnings"]] == [("course", 987654)]
    assert answer["assignments"] and {a["courseid"] for a in answer["assignments"]} == {courses[0]}


def test_assignment_records_answer_as_the_sandbox_twin_does(site: Any, token: str) -> None:
    from datetime import UTC, datetime

    from moodle_sync.sandbox import PLUGIN_TOKEN, start_sandbox
    from tests.live.site import flatten

    real = site.call("local_cetadsync_get_assignment_records", token=token,
                     courses=[{"courseid": c} for c in _mapped_course_ids(site)])  # fmt: skip
    with start_sandbox(now=datetime.fromtimestamp(site.anchor, UTC)) as sandbox:
        ids = sorted(
            c.id for c in sandbox.state.courses.values() if c.idnumber.startswith("CETAD-")
        )
        asked = flatten({"courses": [{"courseid": c} for c in ids]})
        form = [("wstoken", PLUGIN_TOKEN), ("wsfunction", "local_cetadsync_get_assignment_records"),
                ("moodlewsrestformat", "json"), *asked]  # fmt: skip
        twin = requests.post(f"{sandbox.url}/webservice/rest/server.php", data=form,
                             timeout=30).json()  # fmt: skip
    assert set(twin) == set(real) and twin["warnings"] == real["warnings"] == []
    assert len(twin["assignments"]) == len(real["assignments"])
    assert {tuple(sorted(a)) for a in twin["assignments"]} == {
        tuple(sorted(a)) for a in real["assignments"]}  # fmt: skip
    for name in RECORD_KEYS:
        theirs = [row for a in real["assignments"] for row in a[name]]
        ours = [row for a in twin["assignments"] for row in a[name]]
        assert len(ours) == len(theirs), name
        types = {frozenset((k, type(v).__name__) for k, v in row.items()) for row in theirs}
        assert {frozenset((k, type(v).__name__) for k, v in row.items()) for row in ours} <= types


def test_enrolments_in_bulk_match_core_course_by_course(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    answer = site.call("local_cetadsync_get_enrolments", token=token, courseids=data["courses"])
    assert answer["warnings"] == []
    assert any(row["groups"] for row in answer["enrolments"]), "the data has a group"
    for courseid in data["courses"]:
        ours = {row["userid"] for row in answer["enrolments"] if row["courseid"] == courseid}
        core = site.call("core_enrol_get_enrolled_users", courseid=courseid)
        assert ours == {user["id"] for user in core}
        groups = {(row["userid"], g["id"], g["name"]) for row in answer["enrolments"]
                  if row["courseid"] == courseid for g in row["groups"]}  # fmt: skip
        assert groups == {(user["id"], g["id"], g["name"]) for user in core
                          for g in user.get("groups", [])}, "groups as core lists them"  # fmt: skip
        active = site.call(
            "core_enrol_get_enrolled_users",
            courseid=courseid,
            options=[{"name": "onlyactive", "value": "1"}],
        )
        ours_active = {
            r["userid"]
            for r in answer["enrolments"]
            if r["courseid"] == courseid and r["status"] == "active"
        }
        assert ours_active == {user["id"] for user in active}


def test_enrolments_say_why_one_is_not_current(site: Any, token: str, data: dict[str, Any]) -> None:
    answer = site.call(
        "local_cetadsync_get_enrolments", token=token, courseids=[data["courses"][0]]
    )
    by_user = {row["userid"]: row for row in answer["enrolments"]}
    users = data["users"]
    expected = {
        "active": ("active", ""),
        "suspended": ("suspended", "suspended"),
        "ended": ("notcurrent", "ended"),
        "future": ("notcurrent", "notstarted"),
        "selfdisabled": ("notcurrent", "methoddisabled"),
    }
    for name, status in expected.items():
        assert (by_user[users[name]]["status"], by_user[users[name]]["reason"]) == status, name
    assert [r["shortname"] for r in by_user[users["teacher"]]["roles"]] == ["editingteacher"]
    assert by_user[users["ended"]]["timeend"] > 0


def test_enrolments_of_an_unknown_course_are_a_warning(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    answer = site.call(
        "local_cetadsync_get_enrolments", token=token, courseids=[data["courses"][1], 987654]
    )
    assert [w["itemid"] for w in answer["warnings"]] == [987654]
    assert answer["enrolments"]


def test_effective_dates_match_get_participant_student_by_student(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    answer = site.call(
        "local_cetadsync_get_effective_dates", token=token, assignmentids=[data["assignid"]]
    )
    [assignment] = answer["assignments"]
    listed = {row["userid"]: row for row in assignment["students"]}
    for name, userid in data["users"].items():
        if name in {"teacher", "selfdisabled", "future", "ended", "suspended"}:
            continue  # get_participant answers only for students it counts as participants
        own = site.call("mod_assign_get_participant", assignid=data["assignid"], userid=userid)
        differs = (own["duedate"], own["cutoffdate"]) != (
            assignment["duedate"],
            assignment["cutoffdate"],
        )
        assert (userid in listed) == (differs or own["grantedextension"]), name
        if userid in listed:
            assert (listed[userid]["duedate"], listed[userid]["cutoffdate"]) == (
                own["duedate"],
                own["cutoffdate"],
            ), name
    assert listed[data["users"]["active"]]["source"] == "user"  # a user override beats the group's
    assert listed[data["users"]["grouped"]]["source"] == "group"
    assert listed[data["users"]["extended"]]["extensionduedate"] > assignment["duedate"]


def test_effective_dates_since_lists_only_what_changed(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    ids = [data["assignid"], data["plainassignid"]]
    first = site.call("local_cetadsync_get_effective_dates", token=token, assignmentids=ids)
    since = max(a["timechanged"] for a in first["assignments"]) + 1
    while time.time() < since + 0.1:
        time.sleep(0.2)
    quiet = site.call(
        "local_cetadsync_get_effective_dates", token=token, assignmentids=ids, since=since
    )
    assert [(a["changed"], a["students"]) for a in quiet["assignments"]] == [
        (False, []),
        (False, []),
    ]

    student = data["users"]["teacher"]  # any enrolled user without dates of their own yet
    _helper(
        site, "override", data["plainassignid"], student, first["assignments"][1]["duedate"] + 86400
    )
    moved = site.call(
        "local_cetadsync_get_effective_dates", token=token, assignmentids=ids, since=since
    )
    changed = {a["assignmentid"]: a for a in moved["assignments"] if a["changed"]}
    assert list(changed) == [data["plainassignid"]]
    assert [s["userid"] for s in changed[data["plainassignid"]]["students"]] == [student]


def _notification(key: str, userid: int, **extra: Any) -> dict[str, Any]:
    return {
        "idempotencykey": key,
        "provider": "studentreminder",
        "touserid": userid,
        "subject": "Essay due on Friday",
        "fullmessage": "Your essay is due on Friday.",
        "smallmessage": "Essay due Friday",
        **extra,
    }


def test_same_key_twice_sends_once(site: Any, token: str, data: dict[str, Any]) -> None:
    student = data["users"]["active"]
    before = _helper(site, "sentcount", student)["notifications"]
    key = f"rem-{uuid.uuid4().hex}"
    message = _notification(
        key,
        student,
        contexturl=f"{site.url}/mod/assign/view.php?id=1",
        contexturlname="Essay",
        courseid=data["courses"][0],
    )
    [first] = site.call("local_cetadsync_send_notifications", token=token, notifications=[message])[
        "results"
    ]
    [second] = site.call(
        "local_cetadsync_send_notifications", token=token, notifications=[message]
    )["results"]
    assert (first["status"], first["duplicate"]) == ("sent", False)
    assert (second["status"], second["duplicate"], second["messageid"]) == (
        "sent",
        True,
        first["messageid"],
    )
    assert _helper(site, "sentcount", student)["notifications"] == before + 1
    mine = site.call(
        "core_message_get_messages",
        useridto=student,
        useridfrom=0,
        type="notifications",
        read=2,
        newestfirst=1,
        limitnum=50,
    )
    assert sum(m["id"] == first["messageid"] for m in mine["messages"]) == 1


def test_get_delivered_settles_keys_exactly(site: Any, token: str, data: dict[str, Any]) -> None:
    key = f"dig-{uuid.uuid4().hex}"
    site.call(
        "local_cetadsync_send_notifications",
        token=token,
        notifications=[_notification(key, data["users"]["teacher"], provider="tutordigest")],
    )
    answer = site.call(
        "local_cetadsync_get_delivered", token=token, idempotencykeys=[key, f"{key}-never"]
    )
    assert [(r["status"], r["userid"]) for r in answer["results"]] == [
        ("sent", data["users"]["teacher"]),
        ("unknown", 0),
    ]


def test_a_batch_of_one_hundred_is_sent_in_one_call(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    run = uuid.uuid4().hex[:8]
    batch = [_notification(f"bulk-{run}-{i}", data["users"]["extended"]) for i in range(100)]
    results = site.call("local_cetadsync_send_notifications", token=token, notifications=batch)[
        "results"
    ]
    assert [r["status"] for r in results] == ["sent"] * 100
    assert len({r["messageid"] for r in results}) == 100


def test_a_key_with_a_dot_is_moodles_invalidparameter(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    with pytest.raises(Exception) as error:
        site.call(
            "local_cetadsync_send_notifications",
            token=token,
            notifications=[_notification("a.b", data["users"]["active"])],
        )
    assert "invalidparameter" in _errorcode(error.value)


def test_progression_is_written_only_where_changed(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    record = {
        "userid": data["users"]["grouped"],
        "courseid": data["courses"][0],
        "status": "at_risk",
        "reasons": ["late_submission"],
        "credits": 12.5,
        "nextdeadline": 1900000000,
    }
    outcomes = [
        site.call("local_cetadsync_save_progression", token=token, records=[r])["results"][0][
            "outcome"
        ]
        for r in (record, record, {**record, "credits": 15})
    ]
    assert outcomes == ["created", "unchanged", "updated"]
    unknown = site.call(
        "local_cetadsync_save_progression", token=token, records=[{**record, "userid": 987654}]
    )
    assert (unknown["results"], [w["warningcode"] for w in unknown["warnings"]]) == (
        [],
        ["invaliduser"],
    )


def test_progression_keeps_what_the_pages_show_and_the_time_of_each_call(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    item = {"courseid": data["courses"][0], "assignid": 1, "cmid": 1, "name": "Essay: 'one'",
            "module": "MOD702", "duedate": 1900000000, "extension": 1900086400, "owndate": 1,
            "state": "draft", "concern": "", "required": 1}  # fmt: skip
    record = {
        "userid": data["users"]["grouped"], "courseid": 1, "status": "at_risk",
        "reasons": ["MOD702 Essay: 3 days overdue (mark 38.5, 'capped')"], "credits": 80,
        "nextdeadline": 1900086400, "award": "Postgraduate Diploma", "awardcredits": 120,
        "priorcredits": 60, "priorcap": 60, "urgency": 3003,
        "latework": "Late work loses 5 marks a day.",
        "modules": [
            {"code": "RAPL", "title": "Prior learning", "credits": 60, "outcome": "passed"}
        ],
        "items": [item],
    }  # fmt: skip
    outcomes = [
        site.call("local_cetadsync_save_progression", token=token, records=[r])["results"][0][
            "outcome"
        ]
        for r in (record, record, {**record, "items": [{**item, "state": "submitted"}]})
    ]
    assert outcomes == ["created", "unchanged", "updated"]
    row = _helper(site, "progress", record["userid"])["row"]
    assert json.loads(row["reasons"]) == record["reasons"]  # plain words, not slugs
    assert (row["award"], int(row["priorcap"]), int(row["urgency"])) == (
        "Postgraduate Diploma",
        60,
        3003,
    )
    detail = json.loads(row["detail"])
    assert detail["modules"][0]["mark"] is None and detail["items"][0]["state"] == "submitted"
    assert detail["items"][0]["owndate"] is True and detail["items"][0]["name"] == item["name"]
    before = _helper(site, "progress", record["userid"])["lastsync"]
    time.sleep(1.1)
    empty = site.call("local_cetadsync_save_progression", token=token, records=[])
    assert (empty["results"], empty["warnings"], type(empty["recordsepoch"])) == ([], [], int)
    assert _helper(site, "progress", record["userid"])["lastsync"] > before


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("local_cetadsync_get_courses", {"idnumbers": ["CETAD-LOTC"]}),
        ("local_cetadsync_get_assignment_records", {"courses": [{"courseid": 1}]}),
        ("local_cetadsync_get_enrolments", {"courseids": [1]}),
        ("local_cetadsync_get_effective_dates", {"assignmentids": [1]}),
        ("local_cetadsync_send_notifications", {"notifications": [_notification("nocap-1", 2)]}),
        ("local_cetadsync_get_delivered", {"idempotencykeys": ["nocap-1"]}),
        (
            "local_cetadsync_save_progression",
            {"records": [{"userid": 2, "courseid": 1, "status": "x", "credits": 0}]},
        ),
    ],
)
def test_a_user_without_the_capability_is_refused(
    site: Any, function: str, params: dict[str, Any]
) -> None:
    nocap = _helper(site, "nocap", uuid.uuid4().hex[:8])
    with pytest.raises(Exception) as error:
        site.call(function, token=nocap["token"], **params)
    assert "nopermissions" in _errorcode(error.value)


def test_privacy_provider_exports_then_deletes_a_users_data(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    student = data["users"]["future"]
    site.call(
        "local_cetadsync_send_notifications",
        token=token,
        notifications=[_notification(f"priv-{uuid.uuid4().hex}", student)],
    )
    site.call(
        "local_cetadsync_save_progression",
        token=token,
        records=[
            {"userid": student, "courseid": data["courses"][0], "status": "on_track", "credits": 5}
        ],
    )
    report = _helper(site, "privacy", student)
    assert report["compliant"] is True
    exported = list(report["exported"].values())
    assert any(e.get("status") == "on_track" for e in exported)
    assert any(e.get("notifications") for e in exported)
    assert report["before"] == {"sent": 1, "progress": 1}
    assert report["after"] == {"sent": 0, "progress": 0}


def test_message_providers_default_to_popup_and_email(site: Any) -> None:
    defaults = _helper(site, "providers")
    assert {name: set(value.split(",")) for name, value in defaults.items()} == {
        name: {"popup", "email"} for name in ("studentreminder", "tutordigest", "adminalert")
    }


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("local_cetadsync_get_enrolments", {"courseids": ["abc"]}),
        ("local_cetadsync_get_effective_dates", {"assignmentids": [1], "since": "yesterday"}),
        ("local_cetadsync_get_delivered", {"idempotencykeys": ["a key"]}),
        (
            "local_cetadsync_save_progression",
            {"records": [{"userid": 2, "courseid": 1, "status": "x", "credits": "1,5"}]},
        ),
        ("local_cetadsync_get_enrolments", {"courseids": [1], "extra": 1}),
        ("local_cetadsync_get_courses", {"idnumbers": "CETAD-LOTC"}),
        ("local_cetadsync_get_courses", {}),
        ("local_cetadsync_get_assignment_records", {"courses": [{"courseid": "abc"}]}),
        (
            "local_cetadsync_get_assignment_records",
            {"courses": [{"courseid": 1, "since": "yesterday"}]},
        ),
        ("local_cetadsync_get_assignment_records", {"courseids": [1]}),
    ],
)
def test_bad_parameters_are_moodles_invalidparameter(
    site: Any, token: str, function: str, params: dict[str, Any]
) -> None:
    with pytest.raises(Exception) as error:
        site.call(function, token=token, **params)
    assert "invalidparameter" in _errorcode(error.value)


def test_an_upgrade_from_an_older_version_keeps_data_and_restores_a_lost_field(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    """Also: on a site from before readrecords existed (neither the capability nor the role's
    grant), the upgrade defines it and gives it to the integration role."""
    site.sql(
        "DELETE FROM mdl_role_capabilities WHERE capability = 'local/cetadsync:readrecords' "
        "AND roleid = (SELECT id FROM mdl_role WHERE shortname = 'cetadsyncworker')"
    )
    site.sql("DELETE FROM mdl_capabilities WHERE name = 'local/cetadsync:readrecords'")
    assert "local/cetadsync:readrecords" not in _helper(site, "rolecaps", "cetadsyncworker")
    site.call(
        "local_cetadsync_save_progression",
        token=token,
        records=[
            {"userid": data["users"]["teacher"], "courseid": 1, "status": "staff", "credits": 0}
        ],
    )
    before = _helper(site, "downgrade", 2026110100, "cetad_credits")
    site.upgrade()
    assert "cetad_credits" in _helper(site, "fields")
    after = _helper(site, "progresscount")
    assert after["progress"] == before["progress"] > 0
    assert after["version"] > 2026110100
    teacher = _helper(site, "progress", data["users"]["teacher"])["row"]
    assert (teacher["status"], teacher["award"], int(teacher["urgency"])) == ("staff", "", 0)
    assert "local/cetadsync:readrecords" in _helper(site, "rolecaps", "cetadsyncworker")
    courses = [{"courseid": c} for c in _mapped_course_ids(site)]
    assert site.call("local_cetadsync_get_assignment_records", token=token, courses=courses)[
        "assignments"]  # fmt: skip


def test_the_same_key_sent_concurrently_is_sent_once(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    student = data["users"]["grouped"]
    before = _helper(site, "sentcount", student)["notifications"]
    message = _notification(f"race-{uuid.uuid4().hex}", student)
    # Core itself races on a user's first concurrent requests (the user preference
    # last_time_enrolments_synced is inserted twice: dmlwriteexception); warm the user up first.
    site.call("local_cetadsync_get_delivered", token=token, idempotencykeys=["warm-up"])

    def send(_: int) -> dict[str, Any]:
        answer = site.call(
            "local_cetadsync_send_notifications", token=token, notifications=[message]
        )
        result: dict[str, Any] = answer["results"][0]
        return result

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(send, range(4)))
    assert sorted(r["duplicate"] for r in results) == [False, True, True, True]
    assert _helper(site, "sentcount", student)["notifications"] == before + 1


def test_a_configured_field_shortname_is_created_by_setup(site: Any, setup_run: str) -> None:
    cfg = str(Path(site.dirroot) / "admin/cli/cfg.php")
    shortname = f"cetad_prog_{uuid.uuid4().hex[:6]}"
    site.php_cli(
        cfg, "--component=local_cetadsync", "--name=progressionfield", f"--set={shortname}"
    )
    try:
        script = str(Path(site.dirroot) / "local/cetadsync/cli/setup.php")
        done = site.php_cli(script, f"--username={INTEGRATION_USER}")
        assert f"Created profile field {shortname}" in done.stdout
        assert shortname in _helper(site, "fields")
    finally:
        site.php_cli(cfg, "--component=local_cetadsync", "--name=progressionfield", "--unset")


def test_effective_dates_follow_relative_dates_as_get_participant_does(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    assignid = data["relativeassignid"]
    answer = site.call("local_cetadsync_get_effective_dates", token=token, assignmentids=[assignid])
    [assignment] = answer["assignments"]
    listed = {row["userid"]: row["duedate"] for row in assignment["students"]}
    late, on_time = data["users"]["active"], data["users"]["grouped"]
    for userid in (late, on_time):
        own = site.call("mod_assign_get_participant", assignid=assignid, userid=userid)
        assert listed.get(userid, assignment["duedate"]) == own["duedate"]
    assert listed[late] - assignment["duedate"] == 5 * 86400
    assert on_time not in listed


def test_effective_dates_since_sees_an_enrolment_change(
    site: Any, token: str, data: dict[str, Any]
) -> None:
    ids = [data["assignid"], data["plainassignid"]]
    first = site.call("local_cetadsync_get_effective_dates", token=token, assignmentids=ids)
    since = max(a["timechanged"] for a in first["assignments"]) + 1
    while time.time() < since + 0.1:
        time.sleep(0.2)
    _helper(site, "enrol", data["users"]["extended"], data["courses"][1])
    moved = site.call(
        "local_cetadsync_get_effective_dates", token=token, assignmentids=ids, since=since
    )
    assert [a["assignmentid"] for a in moved["assignments"] if a["changed"]] == [
        data["plainassignid"]
    ]


def test_the_worker_pulls_the_same_rows_on_both_paths_and_few_calls_on_the_plugins(
    site: Any, token: str, tmp_path: Path
) -> None:
    """`moodle-sync sync` on the real site: with the plugin's token (the plugin path) and with
    the admin guide's core-only token, the same stored rows; then the plugin path's no-change
    and `--full` runs in a handful of calls (issue 13: a CETAD `--full` pull in at most 8)."""
    from tests.live.conftest import cli_for
    from tests.live.store import differences, own_dates, stored_rows

    calls = {}
    databases = {}
    for path, key in (("core", site.token), ("plugin", token)):
        databases[path] = tmp_path / f"{path}.db"
        cli = cli_for(site, databases[path])
        for run in ("first", "unchanged", "full"):
            done = cli("sync", "--json", *(["--full"] if run == "full" else []), token=key)
            assert done.returncode == 0, f"{path} {run}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
            calls[path, run] = json.loads(done.stdout)["requests"]["calls"]
    core, plugin = stored_rows(databases["core"]), stored_rows(databases["plugin"])
    core_own = own_dates(core.pop("due_date_overrides"))
    plugin_own = own_dates(plugin.pop("due_date_overrides"))
    assert differences(plugin, core) == {}
    assert core_own, "the cohort has open pairs to compare"
    assert {pair: plugin_own.get(pair, (None, None)) for pair in core_own} == core_own
    assert calls["plugin", "full"] <= 8 and calls["plugin", "unchanged"] <= 8, calls
    assert calls["core", "full"] > calls["plugin", "full"], calls


@pytest.mark.smoke
def test_a_run_on_the_plugin_path_fills_the_records_the_pages_read(
    site: Any, token: str, tmp_path: Path
) -> None:
    """`moodle-sync run` with the plugin's token: the real save_progression accepts every record
    the worker builds (plain-word reasons, modules, items), and a rerun at the same instant
    sends none again (their fingerprints match) but still says it synchronised."""
    from datetime import UTC, datetime

    from tests.live.conftest import cli_for

    now = datetime.fromtimestamp(site.anchor, UTC).isoformat(timespec="minutes")
    cli = cli_for(site, tmp_path / "moodle-sync.db")
    first = cli("run", "--now", now, token=token)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    rows = site.sql(
        "SELECT userid, status, reasons, award, detail, timemodified"
        " FROM mdl_local_cetadsync_progress WHERE courseid = 1 AND award <> ''"
        " ORDER BY userid"
    )
    assert len(rows) >= 10, rows
    for _userid, status, reasons, award, detail, _modified in rows:
        assert status and award
        assert all(" " in reason for reason in json.loads(reasons)), reasons  # words, not slugs
        items = json.loads(detail)["items"]
        assert items and all(item["cmid"] > 0 and item["courseid"] > 1 for item in items)
    synced = site.sql("SELECT value FROM mdl_config_plugins WHERE plugin = 'local_cetadsync'"
                      " AND name = 'lastsync'")[0][0]  # fmt: skip
    time.sleep(1.1)
    again = cli("run", "--now", now, token=token)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert (
        site.sql(
            "SELECT userid, status, reasons, award, detail, timemodified"
            " FROM mdl_local_cetadsync_progress WHERE courseid = 1 AND award <> ''"
            " ORDER BY userid"
        )
        == rows
    ), "a rerun with nothing changed rewrote records"
    assert int(site.sql("SELECT value FROM mdl_config_plugins WHERE plugin = 'local_cetadsync'"
                        " AND name = 'lastsync'")[0][0]) > int(synced)  # fmt: skip
