"""Courses, looked up by the fields an administrator configures (idnumber, shortname, id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moodle_sync.client.envelope import reading_answer
from moodle_sync.client.models import Course, MoodleWarning, Result, parse_warnings
from moodle_sync.client.requester import Requester

__all__ = ["COURSE_FIELDS", "get_courses_by_field"]

COURSE_FIELDS = ("id", "ids", "shortname", "idnumber", "category")


def get_courses_by_field(req: Requester, field: str, values: Sequence[str]) -> Result[list[Course]]:
    """Calls: core_course_get_courses_by_field, once per value (it takes a single value).

    ``field="ids"`` would batch, but Moodle crashes on an unknown id there; one call per value
    keeps a missing course an empty answer. Courses are de-duplicated by id, in input order.
    """
    if field not in COURSE_FIELDS:
        raise ValueError(f"course field {field!r} is not one of {COURSE_FIELDS}")
    answers: list[Any] = req.map(
        lambda value: req.call(
            "core_course_get_courses_by_field", {"field": field, "value": value}
        ),
        values,
    )
    courses: dict[int, Course] = {}
    warnings: list[MoodleWarning] = []
    with reading_answer("core_course_get_courses_by_field"):
        for answer in answers:
            warnings.extend(parse_warnings(answer))
            for raw in answer["courses"]:
                courses.setdefault(raw["id"], Course.model_validate(raw))
    return Result(list(courses.values()), warnings)
