"""Which Moodle courses a run covers: those the programme maps, found by `idnumber`.

Moodle returns a course's `idnumber` only to holders of `moodle/course:update`, which a
least-privilege integration role does not have, so a course is found by asking for its
idnumber and matched by what was asked. The id found is remembered in the store; later runs
refresh all known courses in one call and look up by idnumber only what is new or gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from moodle_sync.client import Requester
from moodle_sync.client.courses import get_courses, get_courses_by_field
from moodle_sync.client.models import Course
from moodle_sync.pull.fetch import attempt


@dataclass(frozen=True)
class Scope:
    """The mapped courses Moodle has, and the mapped idnumbers it does not."""

    courses: list[Course]
    missing: list[str]


def resolve_scope(
    requester: Requester, idnumbers: Iterable[str], known: Mapping[str, int] | None = None
) -> Scope:
    """Find each mapped course; a missing one is reported, never silently dropped."""
    wanted = sorted(set(idnumbers))
    found = refresh_known(requester, {i: known[i] for i in wanted if known and i in known})
    rest = [idnumber for idnumber in wanted if idnumber not in found]
    answers = requester.map(lambda i: get_courses_by_field(requester, "idnumber", [i]), rest)
    for idnumber, answer in zip(rest, answers, strict=True):
        if answer.data:
            found[idnumber] = answer.data[0]
    courses = [found[i].model_copy(update={"idnumber": i}) for i in wanted if i in found]
    return Scope(courses=courses, missing=[i for i in wanted if i not in found])


def refresh_known(requester: Requester, known: Mapping[str, int]) -> dict[str, Course]:
    """Known courses in one call; any doubt (gone, renumbered, refused) means look up again."""
    if not known:
        return {}
    answer = attempt(lambda: get_courses(requester, list(known.values())))
    if isinstance(answer, Exception):
        return {}
    by_id = {course.id: course for course in answer}
    return {
        idnumber: by_id[course_id]
        for idnumber, course_id in known.items()
        if course_id in by_id and by_id[course_id].idnumber in ("", idnumber)
    }
