"""Courses, users and enrolments: refreshed in full every run and diffed with the store.

Moodle has no `since` for enrolments and does not mark suspended ones (trap 6), so each run
reads every enrolled user of a course and compares with what is stored; users who are no
longer returned keep their row with an `ended_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import true, update
from sqlalchemy.orm import Session

from moodle_sync.client.models import Course, EnrolledUser
from moodle_sync.pull.diff import StreamCounts, stored_rows, write_changes
from moodle_sync.store.tables import Course as CourseRow
from moodle_sync.store.tables import Enrolment, User

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
KEEP = ("first_seen_at",)


def store_courses(session: Session, courses: Sequence[Course], now: datetime) -> StreamCounts:
    rows = {course.id: course_row(course, now) for course in courses}
    stored = stored_rows(session, CourseRow, true(), lambda row: row["id"])
    counts = write_changes(session, CourseRow, rows, stored, COURSE_FIELDS, KEEP)
    session.execute(update(CourseRow).where(CourseRow.id.in_(rows)).values(last_seen_at=now))
    return counts


def store_enrolments(
    session: Session, course_id: int, users: Sequence[EnrolledUser], now: datetime
) -> StreamCounts:
    """Write one course's enrolled users; end the enrolments Moodle no longer returns."""
    user_rows = {user.id: user_row(user, now) for user in users}
    known = stored_rows(session, User, User.id.in_(user_rows), lambda row: row["id"])
    write_changes(session, User, user_rows, known, USER_FIELDS, KEEP)
    rows = {user.id: enrolment_row(course_id, user, now) for user in users}
    in_course = Enrolment.course_id == course_id
    stored = stored_rows(session, Enrolment, in_course, lambda row: row["user_id"])
    counts = write_changes(session, Enrolment, rows, stored, ("status", "roles", "ended_at"), KEEP)
    gone = [uid for uid, row in stored.items() if uid not in rows and row["ended_at"] is None]
    if gone:
        ending = in_course & Enrolment.user_id.in_(gone)
        session.execute(update(Enrolment).where(ending).values(ended_at=now))
    counts.ended = len(gone)
    seen = in_course & Enrolment.user_id.in_(rows)
    session.execute(update(Enrolment).where(seen).values(last_seen_at=now))
    session.execute(update(User).where(User.id.in_(user_rows)).values(last_seen_at=now))
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
