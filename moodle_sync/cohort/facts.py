"""The store as the rules see it (their facts), and the cohort evaluated once per run.

Participants are the users with a student role in a mapped course that is still current (a
course whose idnumber rolled over to a new course is history, not part of its module). Each
table is read with one query, not one per student. Three Moodle facts are settled here, once,
for every consumer (planner, digests, profile fields, reports, reconcile):

- a student's own dates: Moodle's answer from `mod_assign_get_participant` (`OwnDates`) where
  it was an override, else the assignment's current dates;
- team work: with `teamsubmission` on, the team's submission (Moodle's `userid` 0 row of the
  member's group, chosen as Moodle's `get_submission_group` does) counts for every member;
- enrolment: work of a course the student is suspended in is kept (its marks count) but is
  marked `enrolled = False`, so the rules neither remind nor worry about it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from moodle_sync.cohort.rows import AnyRow, Pair, Rows, ids, is_active
from moodle_sync.cycles import batch_stage
from moodle_sync.rules.evaluate import ParticipantResult, evaluate_participant
from moodle_sync.rules.facts import (
    Assessment,
    ModuleRecord,
    Participant,
    ParticipantStatus,
    mark_released,
)
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.reminders import is_tutor

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
    """Everything the rules and their consumers read, keyed by Moodle ids."""

    participants: tuple[Participant, ...]
    courses: Mapping[int, CourseInfo]
    assignments: Mapping[int, AssignmentInfo]  # live ones only
    active_courses: Mapping[int, frozenset[int]]  # student -> courses enrolled and active
    names: Mapping[int, str] = field(default_factory=dict)  # everyone enrolled, by user id

    def course_of(self, assignment_id: int) -> CourseInfo | None:
        info = self.assignments.get(assignment_id)
        return None if info is None else self.courses.get(info.course_id)

    def name_of(self, user_id: int) -> str:
        return self.names.get(user_id, f"user {user_id}")


@dataclass(frozen=True)
class Evaluation:
    """The cohort and each participant's result at `now`: one per run, read by every stage.

    `unconfirmed` are the (assignment, student) pairs whose own dates Moodle was asked for in
    this run's pull and did not give, and those of the courses it could not read: their
    reminders wait (held) until it does.
    """

    cohort: Cohort
    results: Mapping[int, ParticipantResult]
    programme: Programme
    now: dt.datetime
    unconfirmed: frozenset[Pair] = frozenset()

    def __iter__(self) -> Iterator[ParticipantResult]:
        return iter(self.results.values())


def evaluate(
    cohort: Cohort,
    programme: Programme,
    now: dt.datetime,
    unconfirmed: Collection[Pair] = (),
) -> Evaluation:
    results = {int(p.id): evaluate_participant(p, programme, now) for p in cohort.participants}
    return Evaluation(cohort, results, programme, now, frozenset(unconfirmed))


@batch_stage
def evaluate_store(
    session: Session,
    programme: Programme,
    now: dt.datetime,
    interrupted: Collection[int] = (),
    unconfirmed: Collection[Pair] = (),
) -> Evaluation:
    """Load the cohort from the store and evaluate it (for commands that did not just pull)."""
    return evaluate(load_cohort(session, programme, interrupted), programme, now, unconfirmed)


def load_cohort(
    session: Session, programme: Programme, interrupted: Collection[int] = ()
) -> Cohort:
    """Read the mapped courses' people and work; `interrupted` are user ids paused by the
    programme (settings `push.interrupted_users`)."""
    store = Rows.load(session, programme)
    tutors = _tutors(store.enrolments, store.names, programme)
    courses = {
        cid: CourseInfo(cid, code, title, tuple(tutors.get(cid, ())))
        for cid, (code, title) in store.modules.items()
    }
    students = store.students()
    active = {
        uid: frozenset(c for c, ok in by_course.items() if ok)
        for uid, by_course in students.items()
    }
    build = _Builder(programme, store, courses, frozenset(interrupted))
    participants = tuple(
        build.participant(uid, store.names.get(uid, f"user {uid}"), by_course)
        for uid, by_course in sorted(students.items())
    )
    return Cohort(participants, courses, _live_assignments(store), active, store.names)


def _live_assignments(store: Rows) -> dict[int, AssignmentInfo]:
    return {
        aid: AssignmentInfo(aid, row.course_id, row.cmid, row.name)
        for aid, row in store.assignments.items()
        if row.deleted_at is None
    }


def _tutors(
    enrolments: Iterable[AnyRow], names: Mapping[int, str], programme: Programme
) -> dict[int, list[Person]]:
    out: dict[int, list[Person]] = {}
    for row in sorted(enrolments, key=lambda r: (r.course_id, r.user_id)):
        if is_active(row.status, row.ended_at) and is_tutor(ids(row.roles), programme.reminders):
            out.setdefault(row.course_id, []).append(
                Person(row.user_id, names.get(row.user_id, f"user {row.user_id}"))
            )
    return out


@dataclass
class _Builder:
    programme: Programme
    store: Rows
    courses: Mapping[int, CourseInfo]
    interrupted: frozenset[int]

    def participant(self, uid: int, name: str, by_course: Mapping[int, bool]) -> Participant:
        status: ParticipantStatus = "active"
        if not any(by_course.values()):
            status = "suspended"
        elif uid in self.interrupted:
            status = "interrupted"
        modules = tuple(
            ModuleRecord(self.courses[cid].module, self._assessments(uid, cid), enrolled=active)
            for cid, active in sorted(by_course.items())
        )
        return Participant(uid, name, modules, status=status)

    def _assessments(self, uid: int, course_id: int) -> tuple[Assessment, ...]:
        rows = self.store.by_course.get(course_id, ())
        return tuple(a for a in (self._assessment(uid, row) for row in rows) if a is not None)

    def _assessment(self, uid: int, a: AnyRow) -> Assessment | None:
        """The student's work; None for an assignment Moodle says they are not part of
        (`usernotincourse`) and that holds nothing of theirs."""
        pair, store = (a.id, uid), self.store
        flag, sub, grade = store.flags.get(pair), store.submission(a, uid), store.grades.get(pair)
        own = store.own.get(pair)
        if own is not None and not own.participant and sub is None and grade is None:
            return None
        due, cutoff = store.dates(a, uid)
        status = sub.status if sub is not None and sub.status in _STATUSES else None
        return Assessment(
            id=a.id,
            name=a.name,
            due=due,
            extension=flag.extension_due_at if flag is not None else None,
            cutoff=cutoff,
            submitted_at=sub.time_modified if sub is not None and status == "submitted" else None,
            submission_status=status,
            grade=_scaled(grade, a.max_grade),
            released=mark_released(
                a.marking_workflow, flag.workflow_state if flag is not None else None
            ),
            resit=self.programme.resit_regex.search(a.name) is not None,
            own_date=own is not None and own.due_overridden,
        )


def _scaled(graded: AnyRow | None, max_grade: Decimal) -> Decimal | None:
    """A points grade as a mark out of 100; none for ungraded work or a scale (max <= 0)."""
    if graded is None or graded.grade is None or max_grade <= 0:
        return None
    return Decimal(graded.grade) * _HUNDRED / Decimal(max_grade)
