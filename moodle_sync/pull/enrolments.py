"""Courses, users and enrolments: refreshed in full every run and diffed with the store.

Moodle has no `since` for enrolments and does not mark suspended ones (trap 6), so each run
reads every enrolled user of a course and compares with what is stored; users who are no
longer returned keep their row with an `ended_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from moodle_sync.client.models import Course, EnrolledUser
from moodle_sync.pull.counts import StreamCounts, diff_counts
from moodle_sync.store.tables import Course as CourseRow
from moodle_sync.store.tables import Enrolment, User
from moodle_sync.store.upsert import upsert

COURSE_FIELDS = (
    "idnumber",
    "shortname",
    "fullname",
    "category_id",
    "visible",
    "start_at",
    "end_at",
)
USER_FIELDS = ("username", "idnumber", "firstname", "lastname", "email")


def store_courses(session: Session, courses: Sequence[Course], now: datetime) -> StreamCounts:
    rows = {course.id: course_row(course, now) for course in courses}
    stored = {row.id: vars(row) for row in session.scalars(select(CourseRow))}
    counts = diff_counts(rows, stored, lambda row: tuple(row[f] for f in COURSE_FIELDS))
    upsert(session, CourseRow, list(rows.values()), keep_on_update=("first_seen_at",))
    return counts


def store_enrolments(
    session: Session, course_id: int, users: Sequence[EnrolledUser], now: datetime
) -> StreamCounts:
    """Write one course's enrolled users; end the enrolments Moodle no longer returns."""
    user_rows = {user.id: user_row(user, now) for user in users}
    upsert(session, User, list(user_rows.values()), keep_on_update=("first_seen_at",))
    rows = {user.id: enrolment_row(course_id, user, now) for user in users}
    stored = {
        row.user_id: vars(row)
        for row in session.scalars(select(Enrolment).where(Enrolment.course_id == course_id))
    }
    counts = diff_counts(rows, stored, lambda row: (row["status"], row["roles"], row["ended_at"]))
    upsert(session, Enrolment, list(rows.values()), keep_on_update=("first_seen_at",))
    gone = [
        user_id for user_id, row in stored.items() if user_id not in rows and not row["ended_at"]
    ]
    if gone:
        session.execute(
            update(Enrolment)
            .where(Enrolment.course_id == course_id, Enrolment.user_id.in_(gone))
            .values(ended_at=now)
        )
    counts.ended = len(gone)
    return counts


def course_row(course: Course, now: datetime) -> dict[str, Any]:
    return {
        "id": course.id,
        "idnumber": course.idnumber,
        "shortname": course.shortname,
        "fullname": course.fullname,
        "category_id": course.categoryid,
        "visible": bool(course.visible),
        "start_at": course.startdate,
        "end_at": course.enddate,
        "first_seen_at": now,
        "last_seen_at": now,
    }


def user_row(user: EnrolledUser, now: datetime) -> dict[str, Any]:
    return {
        "id": user.id,
        **{field: getattr(user, field) for field in USER_FIELDS},
        "first_seen_at": now,
        "last_seen_at": now,
    }


def enrolment_row(course_id: int, user: EnrolledUser, now: datetime) -> dict[str, Any]:
    return {
        "course_id": course_id,
        "user_id": user.id,
        "status": user.status,
        "roles": ",".join(sorted({role.shortname for role in user.roles})),
        "first_seen_at": now,
        "last_seen_at": now,
        "ended_at": None,
    }
