"""Which Moodle courses a run covers: those the programme maps, found by `idnumber`.

Every run asks Moodle which course holds each mapped idnumber now (one lookup per idnumber,
in parallel). A cheaper refresh by known ids cannot see a rollover: Moodle shows a course's
`idnumber` only to holders of `moodle/course:update`, which a least-privilege role lacks, so a
course whose idnumber moved to next year's course would look unchanged. A lookup that finds
another course than the one known reports the move (`Scope.rolled_over`); the store then keeps
the old course as history, no longer mapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from moodle_sync.client import Requester
from moodle_sync.client.courses import get_courses_by_field
from moodle_sync.client.models import Course
from moodle_sync.errors import RetriableError, SkippableError


@dataclass(frozen=True)
class Rollover:
    """A mapped idnumber now held by another course than the one the store knew."""

    idnumber: str
    old_id: int
    new_id: int
    new_name: str

    def describe(self) -> str:
        return (
            f"{self.idnumber} moved from course {self.old_id} to course {self.new_id} "
            f"({self.new_name!r}): course {self.old_id} is kept as history and no longer mapped"
        )


@dataclass(frozen=True)
class Scope:
    """The mapped courses Moodle has, the mapped idnumbers it does not, and rollovers."""

    courses: list[Course]
    missing: list[str]
    rolled_over: list[Rollover] = field(default_factory=list)


def resolve_scope(
    requester: Requester, idnumbers: Iterable[str], known: Mapping[str, int] | None = None
) -> Scope:
    """Find each mapped course; a missing one is reported, never silently dropped.

    Calls: core_course_get_courses_by_field: once (field ids) for the courses already known,
    then once per idnumber (field idnumber) for the others.
    """
    wanted = sorted(set(idnumbers))
    found = _still_known(requester, wanted, known or {})
    rest = [i for i in wanted if i not in found]
    answers = requester.map(lambda i: get_courses_by_field(requester, "idnumber", [i]), rest)
    found |= {i: answer.data[0] for i, answer in zip(rest, answers, strict=True) if answer.data}
    courses = [found[i].model_copy(update={"idnumber": i}) for i in wanted if i in found]
    rolled = [
        Rollover(c.idnumber, (known or {})[c.idnumber], c.id, c.fullname)
        for c in courses
        if known and c.idnumber in known and known[c.idnumber] != c.id
    ]
    return Scope(courses, [i for i in wanted if i not in found], rolled)


def _still_known(
    requester: Requester, wanted: list[str], known: Mapping[str, int]
) -> dict[str, Course]:
    """The known courses that still carry their idnumber, in one call. Moodle keeps course
    idnumbers unique, so none of them can have rolled over. Moodle fails the whole `ids`
    call on an id it no longer has: then every idnumber is looked up on its own."""
    ids = {known[i]: i for i in wanted if i in known}
    if not ids:
        return {}
    try:
        answer = get_courses_by_field(requester, "ids", [",".join(map(str, sorted(ids)))])
    except (SkippableError, RetriableError):
        return {}
    return {ids[c.id]: c for c in answer.data if c.id in ids and c.idnumber == ids[c.id]}
