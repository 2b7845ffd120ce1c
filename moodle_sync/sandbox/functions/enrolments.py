"""core_enrol_get_enrolled_users: everyone enrolled, suspended included, with nothing to say so."""

from __future__ import annotations

from typing import Any

from moodle_sync.sandbox.errors import WsError
from moodle_sync.sandbox.functions.base import Call, WsFunction, context_error, profile_url
from moodle_sync.sandbox.model import ROLE_IDS, Enrolment, User
from moodle_sync.sandbox.params import ListOf, Scalar, Struct, invalid

ROLE_CAPABILITIES = {
    "student": {"mod/assign:view", "mod/assign:submit"},
    "teacher": {"mod/assign:view", "mod/assign:grade", "mod/assign:viewgrades"},
    "editingteacher": {
        "mod/assign:view",
        "mod/assign:grade",
        "mod/assign:viewgrades",
        "mod/assign:grantextension",
    },
}
_USERFIELDS = set(
    [
        "id",
        "username",
        "fullname",
        "firstname",
        "lastname",
        "email",
        "address",
        "phone1",
        "phone2",
        "department",
        "institution",
        "interests",
        "firstaccess",
        "lastaccess",
        "auth",
        "confirmed",
        "idnumber",
        "lang",
        "theme",
        "timezone",
        "mailformat",
        "description",
        "descriptionformat",
        "city",
        "country",
        "profileimageurlsmall",
        "profileimageurl",
        "customfields",
        "groups",
        "roles",
        "preferences",
        "enrolledcourses",
        "suspended",
        "lastcourseaccess",
    ]
)
_NOT_RETURNED = {"auth", "confirmed", "lang", "theme", "timezone", "mailformat", "suspended"}


def _options(call: Call) -> dict[str, str]:
    """Options as name -> value; unknown names are silently ignored, as Moodle does."""
    return {o["name"]: o["value"] for o in call.params["options"]}


def _truthy(value: str | None) -> bool:
    return value not in (None, "", "0")


def _selected(call: Call, opts: dict[str, str], courseid: int) -> list[Enrolment]:
    rows = call.state.course_enrolments(courseid)
    if _truthy(opts.get("onlyactive")) and _truthy(opts.get("onlysuspended")):
        raise WsError("coding_exception", "codingerror", "Coding error detected")
    if _truthy(opts.get("onlyactive")) or _truthy(opts.get("onlysuspended")):
        call.require("moodle/course:enrolreview", "Review course enrolments")
        wanted = "active" if _truthy(opts.get("onlyactive")) else "suspended"
        rows = [e for e in rows if e.status == wanted]
    if "withcapability" in opts:
        call.require("moodle/role:review", "Review permissions for others")
        rows = [e for e in rows if opts["withcapability"] in ROLE_CAPABILITIES.get(e.role, ())]
    start = int(opts.get("limitfrom") or 0)
    size = int(opts.get("limitnumber") or 0)
    return rows[start : start + size] if size else rows[start:]


def enrolled_courses(call: Call, userid: int) -> list[dict[str, Any]]:
    """A user's active enrolments, in course sort order (a suspended course is missing)."""
    ids = [e.courseid for e in call.state.user_enrolments(userid) if e.status == "active"]
    courses = sorted((call.state.courses[i] for i in ids), key=lambda c: c.sortorder)
    return [{"id": c.id, "fullname": c.fullname, "shortname": c.shortname} for c in courses]


def _details(call: Call, user: User, enrolment: Enrolment) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "email": user.email,
    }
    entry |= {
        k: getattr(user, k) for k in ("department", "institution", "idnumber") if getattr(user, k)
    }
    entry |= {"firstaccess": 0, "lastaccess": 0, "lastcourseaccess": 0}
    entry |= {k: getattr(user, k) for k in ("city", "country") if getattr(user, k)}
    entry |= {
        "profileimageurlsmall": profile_url(call.state, "f2"),
        "profileimageurl": profile_url(call.state, "f1"),
    }
    fields = [
        {"type": kind, "value": user.customfields[short], "name": name, "shortname": short}
        for short, (name, kind) in call.state.profile_fields.items()
        if user.customfields.get(short)
    ]
    if fields:
        entry["customfields"] = fields
    groups = call.state.user_groups(enrolment.courseid, user.id)
    if groups:
        entry["groups"] = [
            {"id": g.id, "name": g.name, "description": "", "descriptionformat": 1} for g in groups
        ]
    role = enrolment.role
    entry["roles"] = [{"roleid": ROLE_IDS[role], "name": "", "shortname": role, "sortorder": 0}]
    entry["enrolledcourses"] = enrolled_courses(call, user.id)
    return entry


def _only(entry: dict[str, Any], userfields: str | None) -> dict[str, Any]:
    if userfields is None:
        return entry
    wanted = {f.strip() for f in userfields.split(",") if f.strip()} | {"id", "fullname"}
    unknown = sorted(wanted - _USERFIELDS)
    if unknown:
        raise WsError("moodle_exception", "invaliduserfield", f"Invalid user field: {unknown[0]}")
    return {k: v for k, v in entry.items() if k in wanted - _NOT_RETURNED}


def get_enrolled_users(call: Call) -> list[dict[str, Any]]:
    course = call.course(call.params["courseid"])
    if not call.can_enter(course.id):
        raise context_error(course.id)
    call.require("moodle/course:viewparticipants", "View participants")
    opts = _options(call)
    if opts.get("sortby", "id") not in ("id", "firstname", "lastname", "siteorder"):
        raise invalid("Invalid sort field")
    rows = _selected(call, opts, course.id)
    return [
        _only(_details(call, call.state.users[e.userid], e), opts.get("userfields")) for e in rows
    ]


FUNCTIONS = [
    WsFunction(
        "core_enrol_get_enrolled_users",
        Struct(
            {
                "courseid": Scalar("int"),
                "options": ListOf(
                    Struct({"name": Scalar("alphanumext"), "value": Scalar("raw")}), "default"
                ),
            }
        ),
        get_enrolled_users,
    ),
]
