"""mod_assign_get_assignments, mod_assign_get_participant, mod_assign_save_user_extensions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moodle_sync.sandbox.errors import WsError, invalid_record
from moodle_sync.sandbox.functions.base import Call, WsFunction
from moodle_sync.sandbox.model import Assignment
from moodle_sync.sandbox.params import ListOf, Scalar, Struct, ids

_STATEMENT = (
    "This submission is my own work, except where I have acknowledged the use of the works of "
    "other people."
)
NOT_ENROLLED = "User is not enrolled or does not have requested capability"
NO_COURSE_ACCESS = "No access rights in course context"
NOT_ACCESSIBLE = "Course or activity not accessible."
NO_EXTENSION = "Could not grant submission date extensions."
_CONFIGS = (
    ("onlinetext", "assignsubmission", "enabled", "1"),
    ("onlinetext", "assignsubmission", "wordlimit", "0"),
    ("onlinetext", "assignsubmission", "wordlimitenabled", "0"),
    ("file", "assignsubmission", "enabled", "1"),
    ("file", "assignsubmission", "maxfilesubmissions", "2"),
    ("file", "assignsubmission", "maxsubmissionsizebytes", "67108864"),
    ("file", "assignsubmission", "filetypeslist", ""),
    ("comments", "assignsubmission", "enabled", "0"),
    ("comments", "assignfeedback", "enabled", "1"),
    ("comments", "assignfeedback", "commentinline", "0"),
)


def _warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


def _assignment(a: Assignment) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": a.id,
        "cmid": a.cmid,
        "course": a.courseid,
        "name": a.name,
        "nosubmissions": 0,
        "submissiondrafts": a.submissiondrafts,
        "sendnotifications": 0,
        "sendlatenotifications": 0,
        "sendstudentnotifications": 1,
        "duedate": a.duedate,
        "allowsubmissionsfromdate": a.allowsubmissionsfromdate,
        "grade": a.grade,
        "timemodified": a.timemodified,
        "completionsubmit": 1,
        "cutoffdate": a.cutoffdate,
        "gradingduedate": a.gradingduedate,
        "teamsubmission": a.teamsubmission,
        "requireallteammemberssubmit": a.requireallteammemberssubmit,
        "teamsubmissiongroupingid": a.teamsubmissiongroupingid,
        "blindmarking": 0,
        "hidegrader": 0,
        "revealidentities": 0,
        "attemptreopenmethod": "none",
        "maxattempts": -1,
        "markingworkflow": a.markingworkflow,
        "markingallocation": 0,
        "requiresubmissionstatement": a.requiresubmissionstatement,
        "preventsubmissionnotingroup": a.preventsubmissionnotingroup,
    }
    if a.requiresubmissionstatement:
        entry |= {"submissionstatement": _STATEMENT, "submissionstatementformat": 1}
    return entry | {
        "configs": [{"plugin": p, "subtype": s, "name": n, "value": v} for p, s, n, v in _CONFIGS],
        "intro": f"<p>{a.name}.</p>",
        "introformat": 1,
        "introfiles": [],
        "introattachments": [],
        "timelimit": 0,
        "submissionattachments": 0,
    }


def _course_entry(call: Call, courseid: int) -> dict[str, Any] | str:
    """The course's entry, or the reason it is a warning instead."""
    course = call.state.courses.get(courseid)
    if course is None:
        return "Can't find data record in database table course."
    if not call.can_enter(courseid):
        return "Course or activity not accessible."
    assigns = call.state.course_assignments(courseid)
    return {
        "id": course.id,
        "fullname": course.fullname,
        "shortname": course.shortname,
        "timemodified": course.timecreated,
        "assignments": [_assignment(a) for a in assigns if call.token.can("mod/assign:view")],
    }


def get_assignments(call: Call) -> dict[str, Any]:
    courseids = list(dict.fromkeys(call.params["courseids"]))
    if not courseids:  # "my courses": the integration user has none
        courseids = [e.courseid for e in call.state.user_enrolments(call.token.userid)]
    courses, warnings = [], []
    for courseid in courseids:
        if not call.params["includenotenrolledcourses"] and not call.enrolled(courseid):
            warnings.append(_warning("course", courseid, "2", NOT_ENROLLED))
            continue
        entry = _course_entry(call, courseid)
        if isinstance(entry, str):
            warnings.append(_warning("course", courseid, "1", f"{NO_COURSE_ACCESS} {entry}"))
        else:
            courses.append(entry)
    return {"courses": courses, "warnings": warnings}


def _assign_or_fail(call: Call, assignid: int) -> Assignment:
    assign = call.state.assignments.get(assignid)
    if assign is None:
        raise invalid_record("assign")
    if not call.can_enter(assign.courseid):
        raise WsError("require_login_exception", "requireloginerror", NOT_ACCESSIBLE)
    return assign


def _is_participant(call: Call, assign: Assignment, userid: int) -> bool:
    enrolment = call.state.enrolment(userid, assign.courseid)
    return enrolment is not None and enrolment.status == "active" and enrolment.role == "student"


def _london_date(ts: int) -> str:
    """Moodle's `strftimedatetime` in the site timezone, e.g. "21 November 2026, 2:19 AM"."""
    try:
        zone: Any = ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # pragma: no cover - tzdata missing
        zone = UTC
    when = datetime.fromtimestamp(ts, zone)
    return f"{when.day} {when:%B %Y}, {int(when.strftime('%I'))}:{when:%M %p}"


def get_participant(call: Call) -> dict[str, Any]:
    assign = _assign_or_fail(call, call.params["assignid"])
    call.require("mod/assign:viewgrades", "View grades")
    userid = call.params["userid"]
    if not _is_participant(call, assign, userid):
        raise WsError("moodle_exception", "usernotincourse", "This user is not in this course!")
    sub, flag = call.state.submission(assign.id, userid), call.state.flag(assign.id, userid)
    override = call.state.override(assign.id, userid)
    due = override.duedate if override and override.duedate is not None else assign.duedate
    cutoff = (
        override.cutoffdate if override and override.cutoffdate is not None else assign.cutoffdate
    )
    submitted = sub is not None and sub.status == "submitted"  # the user's own row only
    grade = call.state.grade_row(assign.id, userid)
    graded = grade is not None and grade.grade is not None
    return _team(call, assign, userid) | {
        "id": userid,
        "fullname": call.state.users[userid].fullname,
        "submitted": submitted,
        "requiregrading": submitted and not graded,
        "grantedextension": bool(flag and flag.extensionduedate),
        "blindmarking": False,
        "allowsubmissionsfromdate": assign.allowsubmissionsfromdate,
        "duedate": due,
        "cutoffdate": cutoff,
        "duedatestr": _london_date(due),
        "submissionstatus": sub.status if sub else "",
    }


def _team(call: Call, assign: Assignment, userid: int) -> dict[str, Any]:
    """On a group assignment, the participant's team (`groupid`, `groupname`), if any."""
    groupid = call.state.submission_group(assign, userid) if assign.teamsubmission else 0
    if not groupid:
        return {}
    return {"groupid": groupid, "groupname": call.state.groups[groupid].name}


def save_user_extensions(call: Call) -> list[dict[str, Any]]:
    assign = _assign_or_fail(call, call.params["assignmentid"])
    userids, dates = call.params["userids"], call.params["dates"]
    if len(userids) != len(dates):
        item = "Length of userids and dates parameters differ."
        return [_warning(item, assign.id, "invalidparameters", "Invalid parameters.")]
    warnings = []
    for userid, date in zip(userids, dates, strict=True):
        call.require("mod/assign:grantextension", "Grant extension")
        too_early = date and (date < assign.duedate or date < assign.allowsubmissionsfromdate)
        if not _is_participant(call, assign, userid) or too_early:
            item = f"User id: {userid}, Assignment id: {assign.id}, Extension date: {date}"
            warnings.append(_warning(item, assign.id, "couldnotgrantextensions", NO_EXTENSION))
        else:
            call.state.grant_extension(assign.id, userid, date)
    return warnings


FUNCTIONS = [
    WsFunction(
        "mod_assign_get_assignments",
        Struct(
            {
                "courseids": ids("default"),
                "capabilities": ListOf(Scalar("raw"), "default"),
                "includenotenrolledcourses": Scalar("bool", "default", False),
            }
        ),
        get_assignments,
    ),
    WsFunction(
        "mod_assign_get_participant",
        Struct(
            {
                "assignid": Scalar("int"),
                "userid": Scalar("int"),
                "embeduser": Scalar("bool", "default", False),
            }
        ),
        get_participant,
    ),
    WsFunction(
        "mod_assign_save_user_extensions",
        Struct({"assignmentid": Scalar("int"), "userids": ids(), "dates": ids()}),
        save_user_extensions,
    ),
]
