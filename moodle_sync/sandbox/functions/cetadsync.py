"""The local_cetadsync plugin's seven functions, as local_cetadsync/README.md and
classes/external/*.php define them: courses by idnumber, bulk enrolments, bulk own dates with
`since`, every assignment record of many courses with `since`, notifications sent at most once
per idempotency key, an exact delivered look-up, and progression records.

Each checks its plugin capability at system level (the whole call fails without it) and turns
an item the caller may not read into a warning, never a failed call.
"""

from __future__ import annotations

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
SEND = "local/cetadsync:sendnotifications"
SAVE = "local/cetadsync:saveprogression"
NO_ACCESS = "Course or activity not accessible. (Not enrolled)"


def _warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


def _course_refusal(call: Call, courseid: int) -> dict[str, Any] | None:
    if courseid not in call.state.courses:
        return _warning("course", courseid, "invalidrecord", "Can't find data record")
    if not call.can_enter(courseid):
        return _warning("course", courseid, "requireloginerror", NO_ACCESS)
    if not call.token.can("moodle/course:viewparticipants"):
        return _warning("course", courseid, "nopermissions", "View participants")
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
    if not call.can_enter(assign.courseid):
        return _warning("assignment", assignid, "requireloginerror", NO_ACCESS)
    if not call.token.can("mod/assign:viewgrades"):
        return _warning("assignment", assignid, "nopermissions", "View grades")
    return None


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
    enrolled = sorted({e.userid for e in call.state.course_enrolments(assign.courseid)})
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


def _records(call: Call, assign: Assignment, since: int, enrolled: set[int]) -> dict[str, Any]:
    state = call.state

    def visible(sub: Submission) -> bool:  # can_view_submission / can_view_group_submission
        if assign.teamsubmission:
            return bool(state.team_members(assign, sub.groupid))
        return sub.userid in enrolled

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
    ]  # fmt: skip
    flags = [
        {"id": f.id, "userid": f.userid, "locked": int(f.locked), "mailed": int(f.mailed),
         "extensionduedate": f.extensionduedate, "workflowstate": f.workflowstate or "",
         "allocatedmarker": f.allocatedmarker or 0}
        for f in state.assignment_flags(assign.id)
    ]  # fmt: skip
    return {"assignmentid": assign.id, "courseid": assign.courseid,
            "submissions": submissions, "grades": grades, "userflags": flags}  # fmt: skip


def _result(row: dict[str, Any], duplicate: bool) -> dict[str, Any]:
    keys = ("idempotencykey", "status", "messageid", "userid", "timesent", "errorcode")
    return {key: row[key] for key in keys} | {"duplicate": duplicate}


def _failure(key: str, code: str) -> dict[str, Any]:
    return {"idempotencykey": key, "status": "failed", "duplicate": False, "messageid": 0,
            "userid": 0, "timesent": 0, "errorcode": code}  # fmt: skip


def may_receive(call: Call, userid: int, provider: str) -> bool:
    """local\\recipients::may_receive: the provider's capability held anywhere."""
    if userid in call.state.site_admins():
        return True
    roles = RECEIVING_ROLES[provider]
    return any(e.role in roles for e in call.state.user_enrolments(userid))


def _send_one(call: Call, item: dict[str, Any]) -> dict[str, Any]:
    key, sent = item["idempotencykey"], call.state.plugin_sent
    if key in sent:
        return _result(sent[key], True)
    if item["provider"] not in PROVIDERS:
        return _failure(key, "invalidprovider")
    if item["touserid"] not in call.state.users:
        return _failure(key, "invaliduser")
    if not may_receive(call, item["touserid"], item["provider"]):
        return _failure(key, "notarecipient")
    now = call.state.clock()
    sent[key] = {"idempotencykey": key, "status": "sent", "messageid": len(sent) + 1,
                 "userid": item["touserid"], "timesent": now, "errorcode": "",
                 "provider": item["provider"], "courseid": item["courseid"],
                 "subject": item["subject"], "fullmessage": item["fullmessage"]}  # fmt: skip
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
            userid, courseid = record["userid"], record["courseid"]
            if userid not in call.state.users:
                warnings.append(_warning("user", userid, "invaliduser", "Unknown user"))
            elif courseid != 1 and courseid not in call.state.courses:
                warnings.append(_warning("course", courseid, "invalidcourseid", "Unknown course"))
            else:
                results.append({"userid": userid, "courseid": courseid,
                                "outcome": _save(call, record)})  # fmt: skip
    return {"results": results, "warnings": warnings, "recordsepoch": epoch}


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


_NOTIFICATION = Struct({
    "idempotencykey": Scalar("alphanumext"), "provider": Scalar("alphanumext"),
    "touserid": Scalar("int"), "subject": Scalar("text"), "fullmessage": Scalar("raw"),
    "fullmessagehtml": Scalar("raw"), "smallmessage": Scalar("text"),
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
]

__all__ = ["FUNCTIONS", "PROVIDERS"]
