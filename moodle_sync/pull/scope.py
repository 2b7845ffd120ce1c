"""Which Moodle courses a run covers: those the programme maps, found by `idnumber`.

Every run asks Moodle which course holds each mapped idnumber now: on the core path one
lookup per idnumber, in parallel; on the plugin path one `local_cetadsync_get_courses` for them
all. A cheaper core refresh by known ids cannot see a rollover: Moodle shows a course's
`idnumber` only to holders of `moodle/course:update`, which a least-privilege role lacks, so a
course whose idnumber moved to next year's course would look unchanged (the plugin's function
returns idnumbers to its own capability). A lookup that finds another course than the one known
reports the move (`Scope.rolled_over`); the store then keeps the old course as history, no
longer mapped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import get_courses
from moodle_sync.client.courses import get_courses_by_field
from moodle_sync.client.models import Course

log = logging.getLogger(__name__)


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
    requester: Requester,
    idnumbers: Iterable[str],
    known: Mapping[str, int] | None = None,
    *,
    plugin: bool = False,
) -> Scope:
    """Find each mapped course; a missing one is reported, never silently dropped.

    Calls: on the `plugin` path local_cetadsync_get_courses once (chunked if many); else
    core_course_get_courses_by_field (field idnumber), once per idnumber. Asking core for
    known ids in one call saves nothing on a site set up from the admin guide: without
    moodle/course:update the answer carries no idnumber, so a rollover could not be seen.
    """
    wanted = sorted(set(idnumbers))
    found = _by_plugin(requester, wanted) if plugin else _by_core(requester, wanted)
    courses = [found[i].model_copy(update={"idnumber": i}) for i in wanted if i in found]
    rolled = [
        Rollover(c.idnumber, (known or {})[c.idnumber], c.id, c.fullname)
        for c in courses
        if known and c.idnumber in known and known[c.idnumber] != c.id
    ]
    return Scope(courses, [i for i in wanted if i not in found], rolled)


def _by_core(requester: Requester, wanted: list[str]) -> dict[str, Course]:
    answers = requester.map(lambda i: get_courses_by_field(requester, "idnumber", [i]), wanted)
    return {i: answer.data[0] for i, answer in zip(wanted, answers, strict=True) if answer.data}


def _by_plugin(requester: Requester, wanted: list[str]) -> dict[str, Course]:
    """A course the plugin refuses (a warning) is missing, as core's lookup would leave it."""
    courses, warnings = get_courses(requester, wanted)
    for warning in warnings:
        log.warning("local_cetadsync_get_courses: course %s not readable: %s (%s)",
                    warning.itemid, warning.message, warning.warningcode)  # fmt: skip
    found: dict[str, Course] = {}
    for course in courses:  # ordered by idnumber, then id: the lowest id wins, as in core
        found.setdefault(course.idnumber, course)
    return found
