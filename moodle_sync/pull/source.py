"""What the pull needs of Moodle, behind one seam: the mapped courses, each course's enrolments
and assignments, their records, and students' own dates.

Two sources read a site, chosen once per run by the path selection (`moodle_sync.paths`):
`core_source.CoreSource` (core web services) and `plugin_source.PluginSource`
(local_cetadsync's bulk functions). Both land the same rows; the runner, the partition
writer and the store never know which one read them.

A new Moodle data stream touches, on the way in, the client (its web-service call), one
source per path (how that path reads it) and, for the plugin path, its PHP function; what it
stores is declared once, beside the other streams (`streams.py`, a table). Nothing else in
the pull changes: a record stream read by assignment is split into courses by `fetch` and
written by `partition` whichever source read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.models import Course
from moodle_sync.cohort.rows import Pair
from moodle_sync.pull.fetch import Bookmarks, CourseData, Fetched, Progress
from moodle_sync.rules.policy import Programme

if TYPE_CHECKING:
    from moodle_sync.probe import AccessReport

__all__ = ["OwnDatesReport", "Source"]


@dataclass
class OwnDatesReport:
    asked: int = 0  # calls made to Moodle
    overrides: int = 0  # answers whose dates differ from the assignment's
    not_participant: int = 0  # Moodle says the student is not part of the assignment
    unconfirmed: dict[Pair, str] = field(default_factory=dict)  # pair -> why Moodle did not say

    def as_dict(self) -> dict[str, Any]:
        unconfirmed = {f"{a}:{u}": why for (a, u), why in sorted(self.unconfirmed.items())}
        return {"asked": self.asked, "overrides": self.overrides,
                "not_participant": self.not_participant, "unconfirmed": unconfirmed}  # fmt: skip


class Source(Protocol):
    def find_courses(self, wanted: Sequence[str]) -> dict[str, Course]:
        """The course holding each mapped idnumber now; one Moodle does not show is absent."""
        ...

    def read_courses(
        self,
        courses: Sequence[Course],
        known_cmids: Mapping[int, int],
        progress: Progress | None,
        *,
        sessions: sessionmaker[Session],
        full: bool,
        digests: Mapping[int, str],
    ) -> Fetched:
        """Every course's enrolments and assignments: small, and needed before any records.
        A course whose enrolment answer digests to its `digests` entry keeps its stored rows."""
        ...

    def record_groups(
        self, fetched: Fetched, bookmarks: Bookmarks, *, full: bool
    ) -> list[list[CourseData]]:
        """Whole courses grouped as this source reads their records, one call set a group."""
        ...

    def read_records(
        self,
        fetched: Fetched,
        group: Sequence[CourseData],
        bookmarks: Bookmarks,
        *,
        full: bool,
        window: dt.timedelta,
    ) -> None:
        """One group's submissions, user flags and grades into its courses' `records`."""
        ...

    def refresh_own_dates(
        self,
        sessions: sessionmaker[Session],
        programme: Programme,
        now: dt.datetime,
        *,
        full: bool,
        run_id: int | None,
    ) -> OwnDatesReport:
        """Students' own dates where they matter at `now`, stored (`OwnDates`)."""
        ...

    def probe(self, course: Course, userid: int, available: set[str]) -> AccessReport:
        """`check`: each read of this path made once on `course`, every refusal named."""
        ...
