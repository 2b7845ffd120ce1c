"""Write whole courses in one transaction: rows, history and bookmarks together.

A transaction holds one or more complete courses (a batch, to keep the number of queries
down on a large site), never part of one: either everything read for a course lands,
bookmarks included, or nothing does. A crash mid-run leaves each course fully at the new
state or fully at the old, and the next run reads from the old bookmarks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
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
from moodle_sync.store.tables import Course as CourseRow
from moodle_sync.store.upsert import upsert


def write_courses(
    session: Session,
    batch: Sequence[CourseData],
    now: datetime,
    run_id: int,
    *,
    deletions_safe: bool,
) -> dict[str, StreamCounts]:
    """Store everything read for these courses; return counts per stream."""
    read = {data.course.id: data.users for data in batch if data.users is not None}
    counts = {"enrolments": store_enrolments(session, read, now)}
    kept = sum(data.enrolments_listed for data in batch if data.users is None)
    counts["enrolments"].add(StreamCounts(read=kept, unchanged=kept))
    digests = [{"id": data.course.id, "enrolments_digest": data.enrolments_digest}
               for data in batch if data.users is not None]  # fmt: skip
    if digests:
        session.execute(update(CourseRow), digests)
    counts["assignments"] = store_assignments(session, batch, now, deletions_safe=deletions_safe)
    assignment_ids = [a.id for data in batch for a in data.assignments]
    for stream in ASSIGNMENT_STREAMS:
        records = [r for data in batch for r in data.records.get(stream.name, [])]
        ensure_users(session, {record.userid for record in records if record.userid}, now)
        counts[stream.name] = store_records(session, stream, records, assignment_ids, now)
        if stream.incremental:
            advance_bookmarks(session, stream, batch, now, run_id)
    return counts


def store_assignments(
    session: Session, batch: Sequence[CourseData], now: datetime, *, deletions_safe: bool
) -> StreamCounts:
    """Upsert the courses' assignments; mark the ones Moodle no longer has as deleted."""
    rows = {a.id: assignment_row(a, now) for data in batch for a in data.assignments}
    in_batch = Assignment.course_id.in_([data.course.id for data in batch])
    stored = stored_rows(session, Assignment, in_batch, ["id"], ASSIGNMENT_COMPARE)
    keep = ("first_seen_at",)
    counts = write_changes(session, Assignment, rows, stored, ASSIGNMENT_COMPARE, keep)
    gone = [i for i, row in stored.items() if i not in rows and row["deleted_at"] is None]
    if gone and deletions_safe:
        session.execute(update(Assignment).where(Assignment.id.in_(gone)).values(deleted_at=now))
        counts.ended = len(gone)
    return counts


#: Above this many records, the stored ones are read by assignment: building and binding an
#: IN list of tens of thousands of ids cost more than a first sync's whole diff.
MAX_IDS_COMPARED = 1000


def store_records(
    session: Session,
    stream: AssignmentStream,
    records: Sequence[Any],
    assignment_ids: Sequence[int],
    now: datetime,
) -> StreamCounts:
    """Diff and write one stream's records for the batch's assignments."""
    rows = {stream.key(row): row for row in (stream.to_row(r, now) for r in records)}
    table: Any = stream.table
    if not rows and stream.incremental:
        return StreamCounts()
    if stream.incremental and len(rows) <= MAX_IDS_COMPARED:
        # `since` returned only recent rows: compare just those, by id
        where = table.id.in_([row["id"] for row in rows.values()])
    else:  # a first or --full read: the batch's stored rows, by assignment
        where = table.assignment_id.in_(assignment_ids)
    stored = stored_rows(session, stream.table, where, stream.key_columns, stream.compare)
    return write_changes(session, stream.table, rows, stored, stream.compare)


def ensure_users(session: Session, user_ids: Iterable[int], now: datetime) -> None:
    """Placeholder rows for people seen only in records (left the course before we looked)."""
    rows: list[Row] = [
        {"id": user_id, "first_seen_at": now, "last_seen_at": now} for user_id in sorted(user_ids)
    ]
    upsert(session, User, rows, update=False)


def advance_bookmarks(
    session: Session,
    stream: AssignmentStream,
    batch: Sequence[CourseData],
    now: datetime,
    run_id: int,
) -> None:
    """Per course, the largest `timemodified` seen, never past the run's start.

    The start is cut to whole seconds, as Moodle's times are: a row changed in the very
    second the run started must still fall on or after the next run's `since`. A course
    where the read found nothing moves to the start too: everything changed before it would
    have been returned, and the safety window covers a Moodle clock running behind ours.
    """
    start = now.replace(microsecond=0)
    partitions = [str(data.course.id) for data in batch]
    query = select(Bookmark).where(Bookmark.stream == stream.name,
                                   Bookmark.partition.in_(partitions))  # fmt: skip
    stored = {b.partition: b.value for b in session.scalars(query)}
    rows = []
    for partition, data in zip(partitions, batch, strict=True):
        if stream.name not in data.since:
            continue  # not read this run (a course without assignments)
        seen = [m for m in map(stream.modified, data.records.get(stream.name, [])) if m]
        value = min(max(seen), start) if seen else start
        if partition not in stored or value > stored[partition]:
            rows.append({"stream": stream.name, "partition": partition, "value": value,
                         "run_id": run_id, "updated_at": now})  # fmt: skip
    upsert(session, Bookmark, rows)
