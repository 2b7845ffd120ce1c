"""What the pull reads, held per course, and the reading both paths share.

Reads are batched across courses (one assignment list for all courses, records for up to
`max_ids_per_call` assignments or courses at once), but a batch only ever holds whole
courses, so a failed call or an access warning fails exactly the courses it covered. Each
path's own reads are its source's (`core_source`, `plugin_source`).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.assignments import get_assignments
from moodle_sync.client.envelope import Listing
from moodle_sync.client.models import Assignment, Course, EnrolledUser, MoodleWarning
from moodle_sync.errors import RetriableError, SkippableError
from moodle_sync.pull.streams import ASSIGNMENT_STREAMS, AssignmentStream

if TYPE_CHECKING:
    from moodle_sync.pull.source import Source

log = logging.getLogger(__name__)
T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # (stage, done, total), e.g. a progress bar
NOTHING_FOUND = "3"  # warning code: no records (with `since`: nothing new)
Bookmarks = Mapping[tuple[str, str], datetime]


@dataclass
class CourseData:
    """All that was read for one course; written in one transaction if nothing failed."""

    course: Course
    # None: Moodle's enrolment answer is the one the stored rows came from (`enrolments_digest`)
    users: list[EnrolledUser] | None = field(default_factory=list)
    enrolments_digest: str | None = None
    enrolments_listed: int = 0  # users Moodle listed, read again or not
    assignments: list[Assignment] = field(default_factory=list)
    records: dict[str, list[Any]] = field(default_factory=dict)
    since: dict[str, datetime | None] = field(default_factory=dict)

    def enrolled(self, listing: Listing[EnrolledUser]) -> None:
        self.users, self.enrolments_digest = listing.items, listing.digest
        self.enrolments_listed = listing.count


@dataclass
class Fetched:
    courses: dict[int, CourseData]
    failures: dict[int, str] = field(default_factory=dict)  # course id -> reason
    deletions_safe: bool = True  # False when a hidden assignment could not be placed

    def fail(self, course_ids: Sequence[int], reason: str) -> None:
        for course_id in course_ids:
            self.failures.setdefault(course_id, reason)


def attempt(call: Callable[[], T]) -> T | Exception:
    """Run one call; a problem confined to its items is returned, a fatal one is raised."""
    try:
        return call()
    except (SkippableError, RetriableError) as exc:
        return exc


def fetch_all(
    source: Source,
    courses: Sequence[Course],
    bookmarks: Bookmarks,
    *,
    sessions: sessionmaker[Session],
    full: bool,
    window: timedelta,
    known_cmids: Mapping[int, int],
) -> Fetched:
    """Read enrolments, assignments and their records for every course in scope at once.

    For a comparison that needs everything; the pull itself reads records a group at a time
    (`Source.record_groups`, `Source.read_records`) so that only a group or two is ever in
    memory.
    """
    fetched = source.read_courses(courses, known_cmids, None, sessions=sessions, full=full,
                                  digests={})  # fmt: skip
    for group in source.record_groups(fetched, bookmarks, full=full):
        source.read_records(fetched, group, bookmarks, full=full, window=window)
    return fetched


class Counted:
    """Reports one stage's progress from the client's worker threads."""

    def __init__(self, stage: str, total: int, progress: Progress | None) -> None:
        self.stage, self.total, self.progress = stage, total, progress
        self.done = 0
        self._lock = threading.Lock()

    def step(self) -> None:
        if self.progress is not None:
            with self._lock:
                self.done += 1
                self.progress(self.stage, self.done, self.total)


def fetch_assignments(
    requester: Requester, fetched: Fetched, known_cmids: Mapping[int, int]
) -> None:
    """One call for every course; a course with an access warning fails as a whole."""
    answer = attempt(lambda: get_assignments(requester, list(fetched.courses)))
    if isinstance(answer, Exception):
        fetched.fail(list(fetched.courses), f"assignments: {answer}")
        return
    for record in answer.data:
        if record.course_id in fetched.courses:
            fetched.courses[record.course_id].assignments.append(record)
    for warning in answer.warnings:
        course_id = warning.itemid if warning.item == "course" else None
        if warning.item == "module" and warning.itemid is not None:
            course_id = known_cmids.get(warning.itemid)
        if course_id is None:
            log.warning("assignment hidden from the service: %s", describe(warning))
            fetched.deletions_safe = False
        elif course_id in fetched.courses:
            fetched.fail([course_id], f"assignments: {describe(warning)}")


def split_records(
    fetched: Fetched,
    stream: AssignmentStream,
    group: Sequence[CourseData],
    records: Sequence[Any],
    warnings: Sequence[MoodleWarning],
    since: datetime | None,
) -> None:
    owner = {a.id: data.course.id for data in group for a in data.assignments}
    per_course: dict[int, list[Any]] = defaultdict(list)
    for record in records:
        if record.assignment_id in owner and (record.userid > 0 or stream.teams):
            per_course[owner[record.assignment_id]].append(record)
    for data in group:
        data.records[stream.name] = per_course[data.course.id]
        data.since[stream.name] = since
    for warning in warnings:
        if warning.warningcode != NOTHING_FOUND:
            course_id = owner.get(warning.itemid or 0)
            ids = [course_id] if course_id else [data.course.id for data in group]
            fetched.fail(ids, f"{stream.name}: {describe(warning)}")


def record_groups(
    fetched: Fetched, limit: int, bookmarks: Bookmarks, *, per_course: bool = False
) -> list[list[CourseData]]:
    """Pack whole courses into groups of at most `limit` assignments (a bigger course alone),
    or with `per_course` of at most `limit` courses (the plugin path's incremental read, where
    the call carries course ids and the answer only what changed).

    Courses with similar submission bookmarks go together, so one stale course does not make
    a whole group re-read from the beginning. Courses without assignments need no group.
    """
    usable = [data for cid, data in fetched.courses.items() if cid not in fetched.failures]
    usable = [data for data in usable if data.assignments]
    usable.sort(key=lambda data: bookmarks.get(("submissions", str(data.course.id))) or EPOCH)
    groups: list[list[CourseData]] = []
    size = 0
    for data in usable:
        weight = 1 if per_course else len(data.assignments)
        if groups and size + weight <= limit:
            groups[-1].append(data)
            size += weight
        else:
            groups.append([data])
            size = weight
    return groups


def all_bookmarked(fetched: Fetched, bookmarks: Bookmarks) -> bool:
    """Every course with assignments has a bookmark of each incremental stream: a read with
    `since` (not a first read, which brings everything)."""
    return all((stream.name, str(cid)) in bookmarks
               for cid, data in fetched.courses.items() if data.assignments
               for stream in ASSIGNMENT_STREAMS if stream.incremental)  # fmt: skip


def group_since(
    stream: AssignmentStream,
    group: Sequence[CourseData],
    bookmarks: Bookmarks,
    full: bool,
    window: timedelta,
) -> datetime | None:
    """The oldest bookmark of the batch, less the safety window; None reads everything."""
    if full or not stream.incremental:
        return None
    marks = [bookmarks.get((stream.name, str(data.course.id))) for data in group]
    if any(mark is None for mark in marks):
        return None
    return min(mark for mark in marks if mark is not None) - window


def course_since(
    data: CourseData, bookmarks: Bookmarks, full: bool, window: timedelta
) -> datetime | None:
    """One course's `since` for both incremental streams; None reads everything."""
    marks = [group_since(stream, [data], bookmarks, full, window)
             for stream in ASSIGNMENT_STREAMS if stream.incremental]  # fmt: skip
    return None if any(m is None for m in marks) else min(m for m in marks if m is not None)


def assignment_ids(group: Sequence[CourseData]) -> list[int]:
    return [assignment.id for data in group for assignment in data.assignments]


def describe(warning: MoodleWarning) -> str:
    return f"warning {warning.warningcode} on {warning.item} {warning.itemid}: {warning.message}"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
