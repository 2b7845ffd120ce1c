"""The local_cetadsync plugin's nine functions, as local_cetadsync/README.md and
classes/external/*.php define them: courses by idnumber, bulk enrolments, bulk own dates with
`since`, every assignment record of many courses with `since`, notifications sent at most once
per idempotency key, an exact delivered look-up, progression records, and the two progression
profile fields: written for students only, and described.

Each checks its plugin capability at system level (the whole call fails without it) and turns
an item the caller may not read into a warning, never a failed call, with the checks of the
core function it replaces where the sandbox models them (capabilities held at system level,
hidden courses, suspended enrolments; not group modes, which the sandbox leaves at none).
"""

from __future__ import annotations

import re
from typing import Any

from moodle_sync.sandbox.functions.base import Call, WsFunction
from moodle_sync.sandbox.functions.grading import _grade_text
from moodle_sync.sandbox.model import ROLE_IDS, Assignment, Course, Enrolment, Submission
from moodle_sync.sandbox.params import ListOf, Scalar, Struct, ids, invalid

PROVIDERS = ("studentreminder", "tutordigest", "adminalert")
# Who Moodle offers each provider to (db/messages.php's capability, held anywhere): the roles
# that hold it in some course; site administrators hold every capability.
RECEIVING_ROLES = {
    "studentreminder": {"student"},  # mod/assign:submit
    "tutordigest": {"editingteacher", "teacher"},  # local/cetadsync:viewcourse
    "adminalert": set(),  # local/cetadsync:receivealerts: managers, no course role
}
DATES = ("duedate", "cutoffdate", "allowsubmissionsfromdate")
READ_ENROLMENTS = "local/cetadsync:readenrolments"
READ_DATES = "local/cetadsync:readdates"
READ_RECORDS = "local/cetadsync:readrecords"
GRADING = ("mod/assign:viewgrades", "mod/assign:grade")
SUSPENDED = "moodle/course:viewsuspendedusers"
# what core_enrol_get_enrolled_users wants to list users with their enrolment status
ENROLMENT_CAPABILITIES = {
    "moodle/course:viewparticipants": "View participants",
    "moodle/course:enrolreview": "Review course enrolments",
    "moodle/user:viewdetails": "View user profiles",
}
SEND = "local/cetadsync:sendnotifications"
SAVE = "local/cetadsync:saveprogression"
NO_ACCESS = "Course or activity not accessible. (Not enrolled)"
MAX_CREDITS = 99999999.99  # the plugin table's number(10,2)
FIELD_LENGTH = 255  # the maximum length the plugin gives the fields it makes


def _warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


def _course_refusal(call: Call, courseid: int) -> dict[str, Any] | None:
    refusal = _course_entry_refusal(call, courseid)
    if refusal is not None:
        return refusal
    for capability, name in ENROLMENT_CAPABILITIES.items():
        if not call.token.can(capability):
            return _warning("course", courseid, "nopermissions", name)
    return None


def get_courses(call: Call) -> dict[str, Any]:
    """Courses holding the idnumbers, ordered by idnumber then id; an idnumber nobody holds is
    absent, a course the caller may not enter (hidden: without viewhiddencourses) a warning."""
    call.require(READ_ENROLMENTS, "Read enrolments in bulk")
    wanted = {i for i in call.params["idnumbers"] if i != ""}
    courses, warnings = [], []
    with call.state.lock:
        held = [c for c in call.state.courses.values()
                if c.idnumber in wanted and c.format != "site"]  # fmt: skip
        for course in sorted(held, key=lambda c: (c.idnumber, c.id)):
            refusal = _entry_refusal(call, course)
            if refusal is not None:
                warnings.append(_warning("course", course.id, "requireloginerror", refusal))
                continue
            courses.append({
                "id": course.id, "idnumber": course.idnumber, "shortname": course.shortname,
                "fullname": course.fullname, "categoryid": course.categoryid,
                "visible": course.visible, "startdate": course.startdate,
                "enddate": course.enddate, "groupmode": 0, "timemodified": course.timecreated,
            })  # fmt: skip
    return {"courses": courses, "warnings": warnings}


def _entry_refusal(call: Call, course: Course) -> str | None:
    """require_login's refusal message, or None."""
    if not course.visible and not call.token.can("moodle/course:viewhiddencourses"):
        return "Course or activity not accessible. (Course is hidden)"
    return None if call.can_enter(course.id) else NO_ACCESS


def _enrolment_row(call: Call, e: Enrolment) -> dict[str, Any]:
    groups = call.state.user_groups(e.courseid, e.userid)
    return {
        "courseid": e.courseid, "userid": e.userid, "enrolid": e.courseid * 10 + 1,
        "method": "manual", "status": e.status,
        "reason": "" if e.status == "active" else "suspended",
        "timestart": 0, "timeend": 0, "timemodified": call.state.courses[e.courseid].timecreated,
        "roles": [{"roleid": ROLE_IDS[e.role], "shortname": e.role}],
        "groups": [{"id": g.id, "name": g.name} for g in groups],
    }  # fmt: skip


def get_enrolments(call: Call) -> dict[str, Any]:
    call.require(READ_ENROLMENTS, "Read enrolments in bulk")
    rows, warnings = [], []
    with call.state.lock:
        for courseid in sorted(set(call.params["courseids"])):
            refusal = _course_refusal(call, courseid)
            if refusal is not None:
                warnings.append(refusal)
                continue
            found = sorted(call.state.course_enrolments(courseid), key=lambda e: e.userid)
            rows += [_enrolment_row(call, e) for e in found]
    return {"enrolments": rows, "warnings": warnings}


def _assignment_refusal(call: Call, assignid: int) -> dict[str, Any] | None:
    assign = call.state.assignments.get(assignid)
    if assign is None:
        return _warning("assignment", assignid, "invalidrecord", "Can't find data record")
    refusal = _entry_refusal(call, call.state.courses[assign.courseid])
    if refusal is not None:
        return _warning("assignment", assignid, "requireloginerror", refusal)
    if not call.token.can("mod/assign:viewgrades"):
        return _warning("assignment", assignid, "nopermissions", "View grades")
    return None


def _hidden_users(call: Call, courseid: int) -> set[int]:
    """Students without an active enrolment, whom a caller without viewsuspendedusers does
    not see (assign::can_view_submission, show_only_active_users)."""
    if call.token.can(SUSPENDED):
        return set()
    return {e.userid for e in call.state.course_enrolments(courseid) if e.status != "active"}


def _student_row(call: Call, assign: Assignment, userid: int) -> dict[str, Any] | None:
    """One student's dates, or None when they are the assignment's and there is no extension."""
    override = call.state.override(assign.id, userid)
    flag = call.state.flag(assign.id, userid)
    extension = flag.extensionduedate if flag else 0
    row: dict[str, Any] = {"userid": userid, "source": "user" if override else "none",
                           "groupid": 0, "extensionduedate": extension}  # fmt: skip
    for key in DATES:
        mine = getattr(override, key, None) if override else None
        row[key] = getattr(assign, key) if mine is None else mine
    differs = extension > 0 or any(row[key] != getattr(assign, key) for key in DATES)
    return row if differs else None


def _dates(call: Call, assign: Assignment, since: int) -> dict[str, Any]:
    changed_at = max(assign.timemodified, call.state.dates_changed.get(assign.id, 0))
    changed = since == 0 or changed_at >= since
    hidden = _hidden_users(call, assign.courseid)
    enrolled = sorted({e.userid for e in call.state.course_enrolments(assign.courseid)} - hidden)
    rows = [_student_row(call, assign, uid) for uid in enrolled] if changed else []
    return {
        "assignmentid": assign.id, "courseid": assign.courseid,
        **{key: getattr(assign, key) for key in DATES},
        "timechanged": changed_at, "changed": changed,
        "students": [row for row in rows if row is not None],
    }  # fmt: skip


def get_effective_dates(call: Call) -> dict[str, Any]:
    call.require(READ_DATES, "Read students' own dates in bulk")
    now = call.state.clock()
    found, warnings = [], []
    with call.state.lock:
        for assignid in dict.fromkeys(call.params["assignmentids"]):
            refusal = _assignment_refusal(call, assignid)
            if refusal is not None:
                warnings.append(refusal)
                continue
            found.append(_dates(call, call.state.assignments[assignid], call.params["since"]))
    return {"time": now, "assignments": found, "warnings": warnings}


def get_assignment_records(call: Call) -> dict[str, Any]:
    """Per readable assignment of the courses: submissions and grades modified at or after the
    course's `since` (the latest attempt's, as mod_assign's reads select them) and every user
    flag. A course given twice is read from its earlier `since`."""
    call.require(READ_RECORDS, "Read assignment records in bulk")
    sinces: dict[int, int] = {}
    for course in call.params["courses"]:
        courseid = course["courseid"]
        sinces[courseid] = min(sinces.get(courseid, course["since"]), course["since"])
    found, warnings = [], []
    with call.state.lock:
        for courseid, since in sinces.items():
            refusal = _course_entry_refusal(call, courseid)
            if refusal is not None:
                warnings.append(refusal)
                continue
            enrolled = {e.userid for e in call.state.course_enrolments(courseid)}
            enrolled -= _hidden_users(call, courseid)
            for assign in sorted(call.state.course_assignments(courseid), key=lambda a: a.cmid):
                if not all(
                    call.token.can(c) for c in ("mod/assign:viewgrades", "mod/assign:grade")
                ):
                    warnings.append(_warning("assignment", assign.id, "nopermissions", "Grade"))
                    continue
                found.append(_records(call, assign, since, enrolled))
    return {"assignments": found, "warnings": warnings}


def _course_entry_refusal(call: Call, courseid: int) -> dict[str, Any] | None:
    course = call.state.courses.get(courseid)
    if course is None:
        return _warning("course", courseid, "invalidrecord", "Can't find data record")
    refusal = _entry_refusal(call, course)
    return None if refusal is None else _warning("course", courseid, "requireloginerror", refusal)


def _records(call: Call, assign: Assignment, since: int, shown: set[int]) -> dict[str, Any]:
    """`shown`: the course's enrolled users the caller may see (suspended ones only with
    viewsuspendedusers); grades and flags of the others are left out too."""
    state = call.state

    def visible(sub: Submission) -> bool:  # can_view_submission / can_view_group_submission
        if assign.teamsubmission:
            return bool(set(state.team_members(assign, sub.groupid)) & shown)
        return sub.userid in shown

    hidden = _hidden_users(call, assign.courseid)
    submissions = [
        {"id": s.id, "userid": s.userid, "groupid": s.groupid, "attemptnumber": 0,
         "status": s.status, "timecreated": s.timecreated, "timemodified": s.timemodified}
        for s in state.assignment_submissions(assign.id)
        if s.timemodified >= since and visible(s)
    ]  # fmt: skip
    grades = [
        {"id": g.id, "userid": g.userid, "attemptnumber": 0, "grade": _grade_text(g.grade),
         "grader": g.grader, "timecreated": g.timecreated, "timemodified": g.timemodified}
        for g in state.assignment_grades(assign.id)
        if g.timemodified >= since and state.submission(assign.id, g.userid) is not None
        and g.userid not in hidden
    ]  # fmt: skip
    flags = [
        {"id": f.id, "userid": f.userid, "locked": int(f.locked), "mailed": int(f.mailed),
         "extensionduedate": f.extensionduedate, "workflowstate": f.workflowstate or "",
         "allocatedmarker": f.allocatedmarker or 0}
        for f in state.assignment_flags(assign.id)
        if f.userid not in hidden
    ]  # fmt: skip
    return {"assignmentid": assign.id, "courseid": assign.courseid,
            "submissions": submissions, "grades": grades, "userflags": flags}  # fmt: skip


def _result(row: dict[str, Any], duplicate: bool) -> dict[str, Any]:
    keys = ("idempotencykey", "status", "messageid", "userid", "timesent", "errorcode")
    return {key: row[key] for key in keys} | {"duplicate": duplicate}


def _failure(key: str, code: str) -> dict[str, Any]:
    return {"idempotencykey": key, "status": "failed", "duplicate": False, "messageid": 0,
            "userid": 0, "timesent": 0, "errorcode": code}  # fmt: skip


def _local_url(call: Call, url: str) -> bool:
    """Root-relative, or under the site's own address (the plugin's notifier::local_url)."""
    root = call.state.site.url
    relative = url.startswith("/") and not url.startswith("//")
    return relative or url == root or url.startswith(f"{root}/")


def may_receive(call: Call, userid: int, provider: str) -> bool:
    """local\\recipients::may_receive: the provider's capability held anywhere."""
    if userid in call.state.siteadmins:
        return True
    roles = RECEIVING_ROLES[provider]
    return any(e.role in roles for e in call.state.user_enrolments(userid))


def _send_one(call: Call, item: dict[str, Any]) -> dict[str, Any]:
    key, sent = item["idempotencykey"], call.state.plugin_sent
    if key in sent:
        return _result(sent[key], True)
    if item["provider"] not in PROVIDERS:
        return _failure(key, "invalidprovider")
    user = call.state.users.get(item["touserid"])
    if user is None or user.suspended:
        return _failure(key, "invaliduser")
    if item["contexturl"] and not _local_url(call, item["contexturl"]):
        return _failure(key, "invalidcontexturl")
    if not may_receive(call, item["touserid"], item["provider"]):
        return _failure(key, "notarecipient")
    now = call.state.clock()
    sent[key] = {"idempotencykey": key, "status": "sent", "messageid": len(sent) + 1,
                 "userid": item["touserid"], "timesent": now, "errorcode": "",
                 "provider": item["provider"], "courseid": item["courseid"],
                 "subject": item["subject"], "fullmessage": item["fullmessage"],
                 "contexturl": item["contexturl"]}  # fmt: skip
    return _result(sent[key], False)


def send_notifications(call: Call) -> dict[str, Any]:
    call.require(SEND, "Send notifications")
    items = call.params["notifications"]
    if any(not 1 <= len(item["idempotencykey"]) <= 128 for item in items):
        raise invalid("idempotencykey must be 1 to 128 characters")
    with call.state.lock:
        return {"results": [_send_one(call, item) for item in items]}


def get_delivered(call: Call) -> dict[str, Any]:
    call.require(SEND, "Send notifications")
    sent = call.state.plugin_sent
    unknown = {"status": "unknown", "messageid": 0, "userid": 0, "timesent": 0, "errorcode": ""}
    with call.state.lock:
        return {"results": [
            _result(sent[key], True) if key in sent
            else _result({"idempotencykey": key, **unknown}, False)
            for key in call.params["idempotencykeys"]
        ]}  # fmt: skip


def save_progression(call: Call) -> dict[str, Any]:
    """Upsert each record; every call, even with no records, sets config `lastsync` (the pages
    show "last synchronised"). The answer's `recordsepoch` is read before anything is written."""
    call.require(SAVE, "Save progression")
    results, warnings = [], []
    with call.state.lock:
        epoch = call.state.plugin_epoch
        records = call.params["records"]
        call.state.plugin_saves.append(tuple(r["userid"] for r in records))
        call.state.plugin_lastsync = call.state.clock()
        for record in records:
            refusal = _record_refusal(call, record)
            if refusal is not None:
                warnings.append(refusal)
                continue
            results.append({"userid": record["userid"], "courseid": record["courseid"],
                            "outcome": _save(call, record)})  # fmt: skip
    return {"results": results, "warnings": warnings, "recordsepoch": epoch}


def _record_refusal(call: Call, record: dict[str, Any]) -> dict[str, Any] | None:
    """Why save_progression stores a record not: an unknown user or course, or a value its
    table cannot hold."""
    userid, courseid = record["userid"], record["courseid"]
    if userid not in call.state.users:
        return _warning("user", userid, "invaliduser", "Unknown user")
    if courseid != 1 and courseid not in call.state.courses:
        return _warning("course", courseid, "invalidcourseid", "Unknown course")
    checks = {
        "status": len(record["status"]) > 50,
        "award": len(record["award"]) > 255,
        "credits": not 0 <= record["credits"] <= MAX_CREDITS,
        "nextdeadline": record["nextdeadline"] < 0,
    }
    bad = next((name for name, wrong in checks.items() if wrong), None)
    return None if bad is None else _warning("user", userid, "invalidvalue", f"Its {bad} is bad")


def _save(call: Call, record: dict[str, Any]) -> str:
    """As the plugin's table: one row per (user, course), `detail` the modules and items; the
    comparison covers every column."""
    key = (record["userid"], record["courseid"])
    values = {
        k: v for k, v in record.items() if k not in ("userid", "courseid", "modules", "items")
    }
    values["detail"] = {"modules": record["modules"], "items": record["items"]}
    before = call.state.plugin_progress.get(key)
    if before is not None and {k: before[k] for k in values} == values:
        return "unchanged"
    call.state.plugin_progress[key] = values | {"timemodified": call.state.clock()}
    return "created" if before is None else "updated"


def _user_refusal(call: Call, userid: int) -> tuple[str, str] | None:
    """save_profile_values.php's checks of the user: exists, not an administrator, a student
    (may submit assignments in a course she is enrolled in, whatever the enrolment's status)."""
    if userid not in call.state.users:
        return "invaliduser", "No such user"
    if userid in call.state.siteadmins:
        return "usernotupdatedadmin", "Cannot update admin accounts"
    if not any(e.role == "student" for e in call.state.user_enrolments(userid)):
        return "notastudent", (
            "Not a student: may submit assignments in no course she is enrolled in"
        )
    return None


def _value_refusal(call: Call, fields: list[dict[str, Any]]) -> tuple[str, str] | None:
    allowed = call.state.plugin_fields
    for entry in fields:
        name, value = entry["shortname"], entry["value"]
        if name not in allowed:
            return ("fieldnotallowed", f"Only the progression fields may be written "
                    f"({', '.join(allowed)}), not {name}")  # fmt: skip
        if name not in call.state.profile_fields:
            return "fieldmissing", f"The profile field {name} does not exist"
        if re.search(r"<[A-Za-z/!?]", value):  # PARAM_TEXT would strip a tag
            return "invalidvalue", f"The value of {name} must be plain text"
        if len(value) > FIELD_LENGTH:
            return "valuetoolong", (
                f"The value of {name} is longer than its {FIELD_LENGTH} characters"
            )
    return None


def save_profile_values(call: Call) -> dict[str, Any]:
    """Only the plugin's two fields, only of students; a refused user is a warning and is left
    as she was; a user whose values are already these is `unchanged`."""
    call.require(SAVE, "Save progression")
    results, warnings = [], []
    with call.state.lock:
        for entry in call.params["users"]:
            userid = entry["userid"]
            refusal = _user_refusal(call, userid) or _value_refusal(call, entry["fields"])
            if refusal is not None:
                warnings.append(_warning("user", userid, *refusal))
                continue
            stored = call.state.users[userid].customfields
            changed = {f["shortname"]: f["value"] for f in entry["fields"]
                       if stored.get(f["shortname"], "") != f["value"]}  # fmt: skip
            for name, value in changed.items():
                if value == "":
                    stored.pop(name, None)
                else:
                    stored[name] = value
            results.append({"userid": userid, "outcome": "updated" if changed else "unchanged"})
    return {"results": results, "warnings": warnings}


def get_profile_fields(call: Call) -> dict[str, Any]:
    call.require(SAVE, "Save progression")
    settings = ("progressionfield", "creditsfield")
    found = []
    with call.state.lock:
        for setting, name in zip(settings, call.state.plugin_fields, strict=True):
            known = call.state.profile_fields.get(name)
            locked, visible = call.state.field_rules.get(name, (True, 3)) if known else (False, 0)
            found.append({"setting": setting, "shortname": name, "exists": known is not None,
                          "name": known[0] if known else "", "datatype": known[1] if known else "",
                          "locked": locked, "visible": visible})  # fmt: skip
    return {"fields": found}


_NOTIFICATION = Struct({
    "idempotencykey": Scalar("alphanumext"), "provider": Scalar("alphanumext"),
    "touserid": Scalar("int"), "subject": Scalar("text"), "fullmessage": Scalar("raw"),
    "smallmessage": Scalar("text"),
    "contexturl": Scalar("raw", "default", ""), "contexturlname": Scalar("text", "default", ""),
    "courseid": Scalar("int", "default", 0),
})  # fmt: skip
# The record as save_progression.php declares it (issue 14's contract): every
# field after nextdeadline is optional with a default, so an older worker's call validates.
_MODULE = Struct({
    "code": Scalar("alphanumext"), "title": Scalar("text"), "credits": Scalar("int"),
    "outcome": Scalar("alphanumext"), "mark": Scalar("float", "default", None),
})  # fmt: skip
_ITEM = Struct({
    "courseid": Scalar("int"), "assignid": Scalar("int"), "cmid": Scalar("int"),
    "name": Scalar("text"), "module": Scalar("alphanumext"),
    "duedate": Scalar("int", "default", 0), "extension": Scalar("int", "default", 0),
    "owndate": Scalar("bool", "default", False), "state": Scalar("alpha"),
    "concern": Scalar("alphanumext", "default", ""), "required": Scalar("bool", "default", True),
    "mark": Scalar("float", "default", None),
})  # fmt: skip
_RECORD = Struct({
    "userid": Scalar("int"), "courseid": Scalar("int"), "status": Scalar("alphanumext"),
    "reasons": ListOf(Scalar("text"), "default"), "credits": Scalar("float"),
    "nextdeadline": Scalar("int", "default", 0),
    "award": Scalar("text", "default", ""), "awardcredits": Scalar("int", "default", 0),
    "priorcredits": Scalar("int", "default", 0), "priorcap": Scalar("int", "default", 0),
    "urgency": Scalar("int", "default", 0), "latework": Scalar("text", "default", ""),
    "modules": ListOf(_MODULE, "default"), "items": ListOf(_ITEM, "default"),
})  # fmt: skip

_PROFILE_VALUES = Struct({"users": ListOf(Struct({
    "userid": Scalar("int"),
    "fields": ListOf(Struct({"shortname": Scalar("alphanumext"), "value": Scalar("raw")})),
}))})  # fmt: skip

FUNCTIONS = [
    WsFunction(
        "local_cetadsync_get_courses", Struct({"idnumbers": ListOf(Scalar("raw"))}), get_courses
    ),
    WsFunction("local_cetadsync_get_enrolments", Struct({"courseids": ids()}), get_enrolments),
    WsFunction(
        "local_cetadsync_get_effective_dates",
        Struct({"assignmentids": ids(), "since": Scalar("int", "default", 0)}),
        get_effective_dates,
    ),
    WsFunction(
        "local_cetadsync_get_assignment_records",
        Struct(
            {
                "courses": ListOf(
                    Struct({"courseid": Scalar("int"), "since": Scalar("int", "default", 0)})
                )
            }
        ),
        get_assignment_records,
    ),
    WsFunction(
        "local_cetadsync_send_notifications",
        Struct({"notifications": ListOf(_NOTIFICATION)}),
        send_notifications,
    ),
    WsFunction(
        "local_cetadsync_get_delivered",
        Struct({"idempotencykeys": ListOf(Scalar("alphanumext"))}),
        get_delivered,
    ),
    WsFunction(
        # `records` has a default: a form-encoded empty list is no variable at all, and the
        # worker calls once per run with none so that `lastsync` is true
        "local_cetadsync_save_progression",
        Struct({"records": ListOf(_RECORD, "default")}),
        save_progression,
    ),
    WsFunction("local_cetadsync_save_profile_values", _PROFILE_VALUES, save_profile_values),
    WsFunction("local_cetadsync_get_profile_fields", Struct({}), get_profile_fields),
]

__all__ = ["FUNCTIONS", "PROVIDERS"]
