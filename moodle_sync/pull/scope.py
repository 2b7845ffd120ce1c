"""Which Moodle courses a run covers: those the programme maps, found by `idnumber`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from moodle_sync.client import Requester
from moodle_sync.client.courses import get_courses_by_field
from moodle_sync.client.models import Course


@dataclass(frozen=True)
class Scope:
    """The mapped courses Moodle has, and the mapped idnumbers it does not."""

    courses: list[Course]
    missing: list[str]


def resolve_scope(requester: Requester, idnumbers: Iterable[str]) -> Scope:
    """Look each mapped course up; a missing one is reported, never silently dropped.

    One lookup per idnumber, matched by what was asked for: Moodle returns a course's
    `idnumber` only to users with `moodle/course:update`, which a least-privilege
    integration role should not hold.
    """
    wanted = sorted(set(idnumbers))
    answers = requester.map(lambda i: get_courses_by_field(requester, "idnumber", [i]), wanted)
    courses, missing = [], []
    for idnumber, answer in zip(wanted, answers, strict=True):
        if answer.data:
            courses.append(answer.data[0].model_copy(update={"idnumber": idnumber}))
        else:
            missing.append(idnumber)
    return Scope(courses=courses, missing=missing)
