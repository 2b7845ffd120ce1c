"""Write one course's data in one transaction: rows, history and bookmarks together.

Either everything read for the course lands, bookmarks included, or nothing does; a crash
mid-run therefore leaves each course either fully at the new state or fully at the old, and
the next run reads from the old bookmark again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from moodle_sync.pull.diff import StreamCounts, stored_rows, write_changes
from moodle_sync.pull.enrolments import store_enrolments
from moodle_sync.pull.fetch import CourseData
from moodle_sync.pull.streams import (
    ASSIGNMENT_COMPARE,
    ASSIGNMENT_STREAMS,
    AssignmentStream,
    Row,
    assignment_row,
)
from moodle_sync.store.tables import Assignment, Bookmark, User
from moodle_sync.store.upsert import upsert


def write_course(
    session: Session, data: CourseData, now: datetime, run_id: int, *, deletions_safe: bool
) -> dict[str, StreamCounts]:
    """Store everything read for one course; return counts per stream."""
    counts = {"enrolments": store_enrolments(session, data.course.id, data.users, now)}
    counts["assignments"] = store_assignments(session, data, now, deletions_safe=deletions_safe)
    assignment_ids = [assignment.id for assignment in data.assignments]
    for stream in ASSIGNMENT_STREAMS:
        records = data.records.get(stream.name, [])
        ensure_users(session, {record.userid for record in records}, now)
        counts[stream.name] = store_records(session, stream, records, assignment_ids, now)
        if stream.incremental:
            advance_bookmark(session, stream, data.course.id, records, now, run_id)
    return counts


def store_assignments(
    session: Session, data: CourseData, now: datetime, *, deletions_safe: bool
) -> StreamCounts:
    """Upsert the course's assignments; mark the ones Moodle no longer has as deleted."""
    rows = {a.id: assignment_row(a, now) for a in data.assignments}
    in_course = Assignment.course_id == data.course.id
    stored = stored_rows(session, Assignment, in_course, lambda row: row["id"])
    counts = write_changes(
        session, Assignment, rows, stored, ASSIGNMENT_COMPARE, ("first_seen_at",)
    )
    gone = [i for i, row in stored.items() if i not in rows and row["deleted_at"] is None]
    if gone and deletions_safe:
        session.execute(update(Assignment).where(Assignment.id.in_(gone)).values(deleted_at=now))
        counts.ended = len(gone)
    return counts


def store_records(
    session: Session,
    stream: AssignmentStream,
    records: Sequence[Any],
    assignment_ids: Sequence[int],
    now: datetime,
) -> StreamCounts:
    """Diff and write one stream's records for one course's assignments."""
    rows = {stream.key(row): row for row in (stream.to_row(r, now) for r in records)}
    table: Any = stream.table
    if stream.incremental:  # `since` returned only recent rows: compare just those (by id)
        where = table.id.in_([row["id"] for row in rows.values()])
    else:
        where = table.assignment_id.in_(assignment_ids)
    stored = (
        stored_rows(session, stream.table, where, stream.key)
        if rows or not stream.incremental
        else {}
    )
    return write_changes(session, stream.table, rows, stored, stream.compare)


def ensure_users(session: Session, user_ids: Iterable[int], now: datetime) -> None:
    """Placeholder rows for people seen only in records (left the course before we looked)."""
    rows: list[Row] = [
        {"id": user_id, "first_seen_at": now, "last_seen_at": now} for user_id in sorted(user_ids)
    ]
    upsert(session, User, rows, update=False)


def advance_bookmark(
    session: Session,
    stream: AssignmentStream,
    course_id: int,
    records: Sequence[Any],
    now: datetime,
    run_id: int,
) -> None:
    """The largest `timemodified` seen, never past the run's start; kept when nothing was seen.

    The start is cut to whole seconds, as Moodle's times are: a row changed in the very
    second the run started must still fall on or after the next run's `since`.
    """
    seen = [moment for moment in (stream.modified(r) for r in records) if moment is not None]
    if not seen:
        return
    value = min(max(seen), now.replace(microsecond=0))
    key = {"stream": stream.name, "partition": str(course_id)}
    existing = session.get(Bookmark, key)
    if existing is not None and existing.value >= value:
        return
    row = {**key, "value": value, "run_id": run_id, "updated_at": now}
    upsert(session, Bookmark, [row])
