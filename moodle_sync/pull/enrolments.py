"""Courses, users and enrolments: refreshed in full every run and diffed with the store.

Moodle has no `since` for enrolments and does not mark suspended ones (trap 6), so each run
reads every enrolled user of a course and compares with what is stored; users who are no
longer returned keep their row with an `ended_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, true, update
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
    "replaced_by",
    "replaced_at",
)
USER_FIELDS = ("username", "idnumber", "firstname", "lastname", "email")
KEEP = ("first_seen_at",)


def store_courses(session: Session, courses: Sequence[Course], now: datetime) -> StreamCounts:
    """Write the courses found; any other course still holding one of their idnumbers in the
    store has rolled over: it is kept, marked replaced, and no longer part of its module."""
    rows = {course.id: course_row(course, now) for course in courses}
    stored = stored_rows(session, CourseRow, true(), ["id"], COURSE_FIELDS)
    counts = write_changes(session, CourseRow, rows, stored, COURSE_FIELDS, KEEP)
    session.execute(update(CourseRow).where(CourseRow.id.in_(rows)).values(last_seen_at=now))
    found = {course.idnumber: course.id for course in courses}
    superseded = select(CourseRow.id, CourseRow.idnumber).where(
        CourseRow.idnumber.in_(found), CourseRow.id.not_in(rows), CourseRow.replaced_at.is_(None)
    )
    for old_id, idnumber in session.execute(superseded).all():
        session.execute(
            update(CourseRow)
            .where(CourseRow.id == old_id)
            .values(replaced_by=found[idnumber], replaced_at=now)
        )
    return counts


def store_enrolments(
    session: Session, users_by_course: Mapping[int, Sequence[EnrolledUser]], now: datetime
) -> StreamCounts:
    """Write the courses' enrolled users; end the enrolments Moodle no longer returns."""
    user_rows = {u.id: user_row(u, now) for users in users_by_course.values() for u in users}
    known = stored_rows(session, User, User.id.in_(user_rows), ["id"], USER_FIELDS)
    write_changes(session, User, user_rows, known, USER_FIELDS, KEEP)
    rows = {
        (course_id, user.id): enrolment_row(course_id, user, now)
        for course_id, users in users_by_course.items()
        for user in users
    }
    in_batch = Enrolment.course_id.in_(list(users_by_course))
    compare = ("status", "roles", "groups", "ended_at")
    stored = stored_rows(session, Enrolment, in_batch, ["course_id", "user_id"], compare)
    counts = write_changes(session, Enrolment, rows, stored, compare, KEEP)
    gone = [key for key, row in stored.items() if key not in rows and row["ended_at"] is None]
    for course_id, user_ids in group_by_course(gone).items():
        ending = (Enrolment.course_id == course_id) & Enrolment.user_id.in_(user_ids)
        session.execute(update(Enrolment).where(ending).values(ended_at=now))
    counts.ended = len(gone)
    seen = in_batch & (Enrolment.ended_at.is_(None))
    session.execute(update(Enrolment).where(seen).values(last_seen_at=now))
    session.execute(update(User).where(User.id.in_(user_rows)).values(last_seen_at=now))
    return counts


def group_by_course(keys: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for course_id, user_id in keys:
        grouped.setdefault(course_id, []).append(user_id)
    return grouped


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
        "replaced_by": None,
        "replaced_at": None,
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
        "groups": ",".join(str(g) for g in sorted({group.id for group in user.groups})),
        "first_seen_at": now,
        "last_seen_at": now,
        "ended_at": None,
    }
