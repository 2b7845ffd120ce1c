"""mod_assign_get_submissions, mod_assign_get_grades and mod_assign_get_user_flags.

Each answers per assignment: an assignment the caller may not see becomes warning code 1, an
empty one warning code 3; only get_submissions keeps an empty entry and ignores unknown ids.
"""

from __future__ import annotations

from typing import Any

from moodle_sync.sandbox.functions.base import Call, WsFunction
from moodle_sync.sandbox.model import Assignment, Submission
from moodle_sync.sandbox.params import Scalar, Struct, ids

NO_ACCESS = "No access rights in module context"


def _warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


def _readable(call: Call, assignid: int, *capabilities: str) -> Assignment | None:
    """The assignment if the caller may read its grading data there."""
    assign = call.state.assignments.get(assignid)
    if assign is None or not call.can_enter(assign.courseid):
        return None
    return assign if any(call.token.can(c) for c in capabilities) else None


def _grading_status(call: Call, assign: Assignment, sub: Submission) -> str:
    if assign.markingworkflow:
        flag = call.state.flag(assign.id, sub.userid)
        return flag.workflowstate if flag and flag.workflowstate else "notmarked"
    grade = call.state.grade_row(assign.id, sub.userid)
    return "graded" if grade is not None and grade.grade is not None else "notgraded"


def _submission(call: Call, assign: Assignment, sub: Submission) -> dict[str, Any]:
    editor = {
        "name": "onlinetext",
        "description": "Online text submissions",
        "text": sub.text,
        "format": 1 if sub.text else 0,
    }
    return {
        "id": sub.id,
        "userid": sub.userid,
        "attemptnumber": 0,
        "timecreated": sub.timecreated,
        "timemodified": sub.timemodified,
        "timestarted": None,
        "status": sub.status,
        "groupid": sub.groupid,
        "plugins": [
            {
                "type": "onlinetext",
                "name": "Online text",
                "fileareas": [{"area": "submissions_onlinetext", "files": []}],
                "editorfields": [editor],
            },
            {
                "type": "file",
                "name": "File submissions",
                "fileareas": [{"area": "submission_files", "files": []}],
            },
            {"type": "comments", "name": "Submission comments"},
        ],
        "gradingstatus": _grading_status(call, assign, sub),
    }


def _in_window(sub: Submission, since: int, before: int, status: str) -> bool:
    if sub.timemodified < since or (before and sub.timemodified > before):
        return False
    return not status or sub.status == status


def _visible(call: Call, assign: Assignment, sub: Submission) -> bool:
    """On a group assignment Moodle returns a row only if its group (a member's own row has
    group 0, the default group) has a member: `can_view_group_submission`."""
    if not assign.teamsubmission:
        return True
    return bool(call.state.team_members(assign, sub.groupid))


def get_submissions(call: Call) -> dict[str, Any]:
    p = call.params
    assignments, warnings = [], []
    for assignid in p["assignmentids"]:
        if assignid not in call.state.assignments:
            continue  # unknown ids vanish without a warning (trap 13)
        assign = _readable(call, assignid, "mod/assign:viewgrades", "mod/assign:grade")
        if assign is None:
            warnings.append(_warning("assignment", assignid, "1", NO_ACCESS))
            continue
        subs = [
            _submission(call, assign, s)
            for s in call.state.assignment_submissions(assignid)
            if _in_window(s, p["since"], p["before"], p["status"]) and _visible(call, assign, s)
        ]
        if not subs:
            warnings.append(_warning("module", assignid, "3", "No submissions found"))
        assignments.append({"assignmentid": assignid, "submissions": subs})
    return {"assignments": assignments, "warnings": warnings}


def _grade_text(grade: float | None) -> str:
    """Moodle's decimal string; -1 means a grade row exists but holds no mark."""
    return f"{-1.0 if grade is None else grade:.5f}"


def get_grades(call: Call) -> dict[str, Any]:
    assignments, warnings = [], []
    for assignid in call.params["assignmentids"]:
        exists = assignid in call.state.assignments
        assign = _readable(call, assignid, "mod/assign:viewgrades", "mod/assign:grade")
        if exists and assign is None:
            warnings.append(_warning("assignment", assignid, "1", NO_ACCESS))
            continue
        grades = [
            {
                "id": g.id,
                "userid": g.userid,
                "attemptnumber": 0,
                "timecreated": g.timecreated,
                "timemodified": g.timemodified,
                "grader": g.grader,
                "grade": _grade_text(g.grade),
            }
            for g in call.state.assignment_grades(assignid)
            if g.timemodified >= call.params["since"]
            and call.state.submission(assignid, g.userid) is not None
        ]
        if grades:
            assignments.append({"assignmentid": assignid, "grades": grades})
        else:
            warnings.append(_warning("assignment", assignid, "3", "No grades found"))
    return {"assignments": assignments, "warnings": warnings}


def get_user_flags(call: Call) -> dict[str, Any]:
    assignments, warnings = [], []
    for assignid in call.params["assignmentids"]:
        exists = assignid in call.state.assignments
        if exists and _readable(call, assignid, "mod/assign:grade") is None:
            warnings.append(_warning("assignment", assignid, "1", NO_ACCESS))
            continue
        flags = [
            {
                "id": f.id,
                "userid": f.userid,
                "locked": f.locked,
                "mailed": f.mailed,
                "extensionduedate": f.extensionduedate,
                "workflowstate": f.workflowstate,
                "allocatedmarker": f.allocatedmarker,
            }
            for f in call.state.assignment_flags(assignid)
        ]
        if flags:
            assignments.append({"assignmentid": assignid, "userflags": flags})
        else:
            warnings.append(_warning("assignment", assignid, "3", "No user flags found"))
    return {"assignments": assignments, "warnings": warnings}


FUNCTIONS = [
    WsFunction(
        "mod_assign_get_submissions",
        Struct(
            {
                "assignmentids": ids(),
                "status": Scalar("alpha", "default", ""),
                "since": Scalar("int", "default", 0),
                "before": Scalar("int", "default", 0),
            }
        ),
        get_submissions,
    ),
    WsFunction(
        "mod_assign_get_grades",
        Struct({"assignmentids": ids(), "since": Scalar("int", "default", 0)}),
        get_grades,
    ),
    WsFunction("mod_assign_get_user_flags", Struct({"assignmentids": ids()}), get_user_flags),
]
