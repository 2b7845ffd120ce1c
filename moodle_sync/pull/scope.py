"""Which Moodle courses a run covers: those the programme maps, found by `idnumber`.

Every run asks Moodle which course holds each mapped idnumber now, through the run's source
(`Source.find_courses`: one lookup per idnumber on the core path, one call for them all on the
plugin path). A cheaper core refresh by known ids cannot see a rollover: Moodle shows a course's
`idnumber` only to holders of `moodle/course:update`, which a least-privilege role lacks, so a
course whose idnumber moved to next year's course would look unchanged (the plugin's function
returns idnumbers to its own capability). A lookup that finds another course than the one known
reports the move (`Scope.rolled_over`); the store then keeps the old course as history, no
longer mapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from moodle_sync.client.models import Course
from moodle_sync.pull.source import Source


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
    source: Source, idnumbers: Iterable[str], known: Mapping[str, int] | None = None
) -> Scope:
    """Find each mapped course; a missing one is reported, never silently dropped.

    On the core path, asking for known ids in one call would save nothing on a site set up
    from the admin guide: without moodle/course:update the answer carries no idnumber, so a
    rollover could not be seen.
    """
    wanted = sorted(set(idnumbers))
    found = source.find_courses(wanted)
    courses = [found[i].model_copy(update={"idnumber": i}) for i in wanted if i in found]
    rolled = [
        Rollover(c.idnumber, (known or {})[c.idnumber], c.id, c.fullname)
        for c in courses
        if known and c.idnumber in known and known[c.idnumber] != c.id
    ]
    return Scope(courses, [i for i in wanted if i not in found], rolled)
