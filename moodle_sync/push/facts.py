"""The store as the rules see it: participants, their modules and assessments, in one pass.

Participants are the users with a student role in a mapped course. Each table is read with one
query (not one per student): the planner runs over thousands of students after every pull. A
student's own due date (DueDateOverride) wins over the assignment's unless the assignment was
edited after that date was checked, so a teacher moving the base date is never masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from moodle_sync.rules.facts import Assessment, ModuleRecord, Participant, ParticipantStatus
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.reminders import is_tutor
from moodle_sync.store.tables import (
    Assignment,
    Course,
    DueDateOverride,
    Enrolment,
    Grade,
    Submission,
    User,
    UserFlags,
)

STUDENT_ROLE = "student"
AnyRow = Row[*tuple[Any, ...]]
_HUNDRED = Decimal(100)
_STATUSES = ("new", "draft", "submitted", "reopened")


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class CourseInfo:
    id: int
    module: str  # the programme's module code
    name: str  # the course's full name, as students see it
    tutors: tuple[Person, ...]  # tutors with an active enrolment


@dataclass(frozen=True, slots=True)
class AssignmentInfo:
    id: int
    course_id: int
    cmid: int
    name: str


@dataclass(frozen=True, slots=True)
class Cohort:
    """Everything the planner and the profile push read, keyed by Moodle ids."""

    participants: tuple[Participant, ...]
    courses: Mapping[int, CourseInfo]
    assignments: Mapping[int, AssignmentInfo]  # live ones only
    active_courses: Mapping[int, frozenset[int]]  # student -> courses enrolled and active

    def course_of(self, assignment_id: int) -> CourseInfo | None:
        info = self.assignments.get(assignment_id)
        return None if info is None else self.courses.get(info.course_id)


def load_cohort(
    session: Session, programme: Programme, interrupted: Collection[int] = ()
) -> Cohort:
    """Read the mapped courses' people and work; `interrupted` are user ids paused by the
    programme (settings `push.interrupted_users`)."""
    modules = _mapped_courses(session, programme)
    ids = list(modules)
    enrolments = session.execute(
        select(Enrolment.course_id, Enrolment.user_id, Enrolment.status, Enrolment.roles)
        .add_columns(Enrolment.ended_at)
        .where(Enrolment.course_id.in_(ids))
    ).all()
    names = _names(session, ids)
    work = _Work.load(session, ids)
    tutors = _tutors(enrolments, names, programme)
    courses = {
        cid: CourseInfo(cid, code, title, tuple(tutors.get(cid, ())))
        for cid, (code, title) in modules.items()
    }
    students = _students(enrolments)
    active = {
        uid: frozenset(c for c, ok in by_course.items() if ok)
        for uid, by_course in students.items()
    }
    build = _Builder(programme, work, courses, frozenset(interrupted))
    participants = tuple(
        build.participant(uid, names.get(uid, f"user {uid}"), by_course)
        for uid, by_course in sorted(students.items())
    )
    return Cohort(participants, courses, work.live_assignments(), active)


def _mapped_courses(session: Session, programme: Programme) -> dict[int, tuple[str, str]]:
    """Course id -> (module code, full name) for the courses the programme maps."""
    mapped = programme.mapped_courses()
    rows = session.execute(select(Course.id, Course.idnumber, Course.fullname)).all()
    return {cid: (mapped[idn].code, name) for cid, idn, name in rows if idn in mapped}


def _names(session: Session, course_ids: list[int]) -> dict[int, str]:
    enrolled = select(Enrolment.user_id).where(Enrolment.course_id.in_(course_ids))
    rows = session.execute(
        select(User.id, User.firstname, User.lastname).where(User.id.in_(enrolled))
    ).all()
    return {
        uid: " ".join(p for p in (first, last) if p) or f"user {uid}" for uid, first, last in rows
    }


def _roles(roles: str) -> list[str]:
    return [role for role in roles.split(",") if role]


def _is_active(status: str, ended_at: dt.datetime | None) -> bool:
    return status == "active" and ended_at is None


def _students(enrolments: Iterable[AnyRow]) -> dict[int, dict[int, bool]]:
    """Student -> {course id: enrolment active} over every student enrolment, ended or not."""
    out: dict[int, dict[int, bool]] = {}
    for cid, uid, status, roles, ended in enrolments:
        if STUDENT_ROLE in _roles(roles):
            out.setdefault(uid, {})[cid] = _is_active(status, ended)
    return out


def _tutors(
    enrolments: Iterable[AnyRow], names: Mapping[int, str], programme: Programme
) -> dict[int, list[Person]]:
    out: dict[int, list[Person]] = {}
    for cid, uid, status, roles, ended in sorted(enrolments, key=lambda r: (r[0], r[1])):
        if _is_active(status, ended) and is_tutor(_roles(roles), programme.reminders):
            out.setdefault(cid, []).append(Person(uid, names.get(uid, f"user {uid}")))
    return out


@dataclass
class _Work:
    """The assignment-side tables for the mapped courses, indexed by (assignment, user)."""

    assignments: dict[int, AnyRow]
    submissions: dict[tuple[int, int], AnyRow]
    flags: dict[tuple[int, int], AnyRow]
    grades: dict[tuple[int, int], AnyRow]
    overrides: dict[tuple[int, int], AnyRow]
    by_course: dict[int, list[AnyRow]] = field(default_factory=dict)  # live, by due date

    def __post_init__(self) -> None:
        for row in self.assignments.values():
            if row.deleted_at is None:
                self.by_course.setdefault(row.course_id, []).append(row)

    @classmethod
    def load(cls, session: Session, course_ids: list[int]) -> _Work:
        a = Assignment
        assignments = session.execute(
            select(a.id, a.course_id, a.cmid, a.name, a.due_at, a.cutoff_at, a.max_grade)
            .add_columns(a.marking_workflow, a.time_modified, a.deleted_at)
            .where(a.course_id.in_(course_ids))
            .order_by(a.due_at, a.id)
        ).all()
        ids = select(a.id).where(a.course_id.in_(course_ids))
        s, f, g, o = Submission, UserFlags, Grade, DueDateOverride
        subs = select(s.assignment_id, s.user_id, s.attempt, s.status, s.time_modified)
        flags = select(f.assignment_id, f.user_id, f.extension_due_at, f.workflow_state)
        grades = select(g.assignment_id, g.user_id, g.attempt, g.grade, g.id)
        own = select(o.assignment_id, o.user_id, o.due_at, o.cutoff_at, o.checked_at)
        return cls(
            {row.id: row for row in assignments},
            _latest(session.execute(subs.where(s.assignment_id.in_(ids))).all(), (2,)),
            _by_pair(session.execute(flags.where(f.assignment_id.in_(ids))).all()),
            _latest(session.execute(grades.where(g.assignment_id.in_(ids))).all(), (2, 4)),
            _by_pair(session.execute(own.where(o.assignment_id.in_(ids))).all()),
        )

    def live_assignments(self) -> dict[int, AssignmentInfo]:
        return {
            aid: AssignmentInfo(aid, row.course_id, row.cmid, row.name)
            for aid, row in self.assignments.items()
            if row.deleted_at is None
        }


def _by_pair(rows: Iterable[AnyRow]) -> dict[tuple[int, int], AnyRow]:
    return {(row[0], row[1]): row for row in rows}


def _latest(rows: Iterable[AnyRow], order: tuple[int, ...]) -> dict[tuple[int, int], AnyRow]:
    """One row per (assignment, user): the one with the highest value of the `order` columns."""
    out: dict[tuple[int, int], AnyRow] = {}
    for row in rows:
        pair = (row[0], row[1])
        kept = out.get(pair)
        if kept is None or tuple(row[i] for i in order) > tuple(kept[i] for i in order):
            out[pair] = row
    return out


@dataclass
class _Builder:
    programme: Programme
    work: _Work
    courses: Mapping[int, CourseInfo]
    interrupted: frozenset[int]

    def participant(self, uid: int, name: str, by_course: Mapping[int, bool]) -> Participant:
        status: ParticipantStatus = "active"
        if not any(by_course.values()):
            status = "suspended"
        elif uid in self.interrupted:
            status = "interrupted"
        modules = tuple(
            ModuleRecord(self.courses[cid].module, self._assessments(uid, cid))
            for cid in sorted(by_course)
        )
        return Participant(uid, name, modules, status=status)

    def _assessments(self, uid: int, course_id: int) -> tuple[Assessment, ...]:
        return tuple(self._assessment(uid, row) for row in self.work.by_course.get(course_id, ()))

    def _assessment(self, uid: int, a: AnyRow) -> Assessment:
        pair = (a.id, uid)
        due, cutoff = own_dates(a, self.work.overrides.get(pair))
        flag, sub = self.work.flags.get(pair), self.work.submissions.get(pair)
        status = sub.status if sub is not None and sub.status in _STATUSES else None
        return Assessment(
            id=a.id,
            name=a.name,
            due=due,
            extension=flag.extension_due_at if flag is not None else None,
            cutoff=cutoff,
            submitted_at=sub.time_modified if sub is not None and status == "submitted" else None,
            submission_status=status,
            grade=_scaled(self.work.grades.get(pair), a.max_grade),
            released=not a.marking_workflow
            or (flag is not None and flag.workflow_state == "released"),
            resit=self.programme.resit_regex.search(a.name) is not None,
        )


def own_dates(a: Any, own: Any | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A student's (due, cut-off): the stored own dates (`DueDateOverride`) when they were
    checked since the assignment was last edited, else the assignment's. `a` has `due_at`,
    `cutoff_at`, `time_modified`; `own` has `due_at`, `cutoff_at`, `checked_at`."""
    if own is not None and (a.time_modified is None or own.checked_at >= a.time_modified):
        return own.due_at, own.cutoff_at
    return a.due_at, a.cutoff_at


def _scaled(graded: AnyRow | None, max_grade: Decimal) -> Decimal | None:
    """A points grade as a mark out of 100; none for ungraded work or a scale (max <= 0)."""
    if graded is None or graded.grade is None or max_grade <= 0:
        return None
    return Decimal(graded.grade) * _HUNDRED / Decimal(max_grade)
