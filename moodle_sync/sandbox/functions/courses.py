"""core_course_get_courses_by_field and core_course_get_courses."""

from __future__ import annotations

from typing import Any

from moodle_sync.sandbox.errors import no_permissions
from moodle_sync.sandbox.functions.base import Call, WsFunction, context_error
from moodle_sync.sandbox.model import Course
from moodle_sync.sandbox.params import ListOf, Scalar, Struct, invalid

_FILTERS = ("displayh5p", "activitynames", "mathjaxloader", "emoticon", "urltolink", "mediaplugin")
_GENERATED_IMAGE = "course/generated/course.svg"
_BY_FIELD = ("", "id", "ids", "shortname", "idnumber", "category")


def _format_options(course: Course, with_indentation: bool) -> list[dict[str, Any]]:
    if course.format == "site":
        return [{"name": "numsections", "value": 1}]
    options: list[dict[str, Any]] = [
        {"name": "hiddensections", "value": 1},
        {"name": "coursedisplay", "value": 0},
    ]
    if with_indentation:
        options.append({"name": "indentation", "value": "1"})
    return options


def _matches(course: Course, field: str, value: str) -> bool:
    as_int = int(value) if value.isdigit() else 0
    return {
        "": True,
        "id": course.id == as_int,
        "ids": str(course.id) in value.split(","),
        "shortname": course.shortname == value,
        "idnumber": course.idnumber == value,
        "category": course.categoryid == as_int,
    }[field]


def _public(call: Call, course: Course) -> dict[str, Any]:
    site = course.format == "site"
    teachers = [
        e.userid for e in call.state.course_enrolments(course.id) if e.role == "editingteacher"
    ]
    return {
        "id": course.id,
        "fullname": course.fullname,
        "displayname": course.fullname,
        "shortname": course.shortname,
        "courseimage": f"{call.state.site.url}/pluginfile.php/{course.id}/{_GENERATED_IMAGE}",
        "categoryid": course.categoryid,
        "categoryname": call.state.categories.get(course.categoryid, ""),
        "sortorder": course.sortorder,
        "summary": course.summary,
        "summaryformat": 1,
        "summaryfiles": [],
        "overviewfiles": [],
        "showactivitydates": False,
        "showcompletionconditions": None if site else True,
        "contacts": [{"id": u, "fullname": call.state.users[u].fullname} for u in teachers],
        "enrollmentmethods": [] if site else ["manual"],
    }


def _entered(call: Call, course: Course) -> dict[str, Any]:
    """Fields for a caller who can enter the course; the editing ones need course:update."""
    site = course.format == "site"
    fields: dict[str, Any] = {}
    if call.token.can("moodle/course:update"):
        fields["idnumber"] = course.idnumber
    fields |= {
        "format": course.format,
        "showgrades": 1,
        "newsitems": 3 if site else 0,
        "startdate": course.startdate,
        "enddate": course.enddate,
        "maxbytes": 0,
        "showreports": 0,
        "visible": course.visible,
        "groupmode": 0,
        "groupmodeforce": 0,
        "defaultgroupingid": 0,
        "enablecompletion": 0 if site else 1,
        "completionnotify": 0,
        "lang": "",
        "theme": "",
        "marker": 0,
    }
    if call.token.can("moodle/course:update"):
        fields |= {
            "legacyfiles": 0,
            "calendartype": "",
            "timecreated": course.timecreated,
            "timemodified": course.timecreated,
            "requested": 0,
            "cacherev": call.state.now,
        }
    fields["filters"] = [{"filter": f, "localstate": 0, "inheritedstate": 1} for f in _FILTERS]
    if not site:
        fields["courseformatoptions"] = _format_options(course, with_indentation=True)
    return fields


def get_courses_by_field(call: Call) -> dict[str, Any]:
    field, value = call.params["field"], call.params["value"]
    if field not in _BY_FIELD:
        raise invalid(f"Invalid field name: {field}")
    courses = []
    for course in sorted(call.state.courses.values(), key=lambda c: c.sortorder):
        if not _matches(course, field, value) or not _visible_to(call, course):
            continue
        entry = _public(call, course)
        if call.can_enter(course.id):
            entry |= _entered(call, course)
        courses.append(entry)
    return {"courses": courses, "warnings": []}


def _visible_to(call: Call, course: Course) -> bool:
    return bool(course.visible) or call.token.can("moodle/course:viewhiddencourses")


def _full_course(call: Call, course: Course) -> dict[str, Any]:
    site = course.format == "site"
    entry: dict[str, Any] = {
        "id": course.id,
        "shortname": course.shortname,
        "categoryid": course.categoryid,
        "categorysortorder": course.sortorder,
        "fullname": course.fullname,
        "displayname": course.fullname,
        "idnumber": course.idnumber,
        "summary": course.summary,
        "summaryformat": 1,
        "format": course.format,
        "showgrades": 1,
        "newsitems": 3 if site else 0,
        "startdate": course.startdate,
        "enddate": course.enddate,
        "numsections": 1 if site else 3,
        "maxbytes": 0,
        "showreports": 0,
        "visible": course.visible,
    }
    if not site:
        entry["hiddensections"] = 1
    return entry | {
        "groupmode": 0,
        "groupmodeforce": 0,
        "defaultgroupingid": 0,
        "timecreated": course.timecreated,
        "timemodified": course.timecreated,
        "enablecompletion": 0 if site else 1,
        "completionnotify": 0,
        "lang": "",
        "forcetheme": "",
        "courseformatoptions": _format_options(course, with_indentation=False),
        "showactivitydates": False,
        "showcompletionconditions": None if site else True,
    }


def get_courses(call: Call) -> list[dict[str, Any]]:
    wanted = call.params["options"].get("ids") or sorted(call.state.courses)
    found = [call.state.courses[i] for i in wanted if i in call.state.courses]
    result = []
    for course in found:
        if course.format != "site":
            if not call.can_enter(course.id):
                raise context_error(course.id)
            if not call.token.can("moodle/course:view"):
                raise no_permissions("View courses without participation", "moodle/course:view")
        if _visible_to(call, course):
            result.append(_full_course(call, course))
    return result


FUNCTIONS = [
    WsFunction(
        "core_course_get_courses_by_field",
        Struct(
            {
                "field": Scalar("alpha", "default", ""),
                "value": Scalar("raw", "default", ""),
            }
        ),
        get_courses_by_field,
    ),
    WsFunction(
        "core_course_get_courses",
        Struct({"options": Struct({"ids": ListOf(Scalar("int"), "optional")}, "default")}),
        get_courses,
    ),
]
