"""The store as the rules see it, and the cohort evaluated once per run.

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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from moodle_sync.cycles import batch_stage
from moodle_sync.rules.deadlines import effective_deadline
from moodle_sync.rules.evaluate import ParticipantResult, evaluate_participant
from moodle_sync.rules.facts import Assessment, ModuleRecord, Participant, ParticipantStatus
from moodle_sync.rules.policy import Programme, Reminders
from moodle_sync.rules.reminders import is_tutor, own_dates_matter
from moodle_sync.store.tables import (
    Assignment,
    Course,
    Enrolment,
    Grade,
    OwnDates,
    Submission,
    User,
    UserFlags,
)

STUDENT_ROLE = "student"
AnyRow = Row[*tuple[Any, ...]]
Pair = tuple[int, int]  # (assignment id, user id)
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
    store = Store.load(session, programme)
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
    return Cohort(participants, courses, store.live_assignments(), active, store.names)


def open_pairs(session: Session, programme: Programme, now: dt.datetime) -> list[Pair]:
    """The (assignment, student) pairs whose outcome depends on the student's own dates now,
    for which Moodle must be asked again (`rules.reminders.own_dates_matter`)."""
    store = Store.load(session, programme)
    rules, pairs = programme.reminders, []
    for uid, by_course in store.students().items():
        for cid, active in by_course.items():
            if not active:
                continue
            for a in store.by_course.get(cid, ()):
                pair = (a.id, uid)
                if store.matters(pair, a, rules, now):
                    pairs.append(pair)
    return sorted(pairs)


def unread_pairs(session: Session, idnumbers: Collection[str]) -> set[Pair]:
    """Every (assignment, participant) pair of the courses this run's pull could not read: the
    store holds an earlier run's facts for them (a student since gone, work since handed in),
    so their reminders wait, held, until a run reads the course again."""
    if not idnumbers:
        return set()
    courses = select(Course.id).where(Course.idnumber.in_(idnumbers))
    rows = session.execute(
        select(Assignment.id, Enrolment.user_id)
        .join(Enrolment, Enrolment.course_id == Assignment.course_id)
        .where(Assignment.course_id.in_(courses))
    ).all()
    return {(aid, uid) for aid, uid in rows}


def _is_active(status: str, ended_at: dt.datetime | None) -> bool:
    return status == "active" and ended_at is None


def _ids(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _tutors(
    enrolments: Iterable[AnyRow], names: Mapping[int, str], programme: Programme
) -> dict[int, list[Person]]:
    out: dict[int, list[Person]] = {}
    for row in sorted(enrolments, key=lambda r: (r.course_id, r.user_id)):
        if _is_active(row.status, row.ended_at) and is_tutor(_ids(row.roles), programme.reminders):
            out.setdefault(row.course_id, []).append(
                Person(row.user_id, names.get(row.user_id, f"user {row.user_id}"))
            )
    return out


@dataclass
class Store:
    """The mapped courses' rows, indexed by (assignment, user): read once, used for both the
    own-dates question and the cohort."""

    modules: dict[int, tuple[str, str]]  # course id -> (module code, full name)
    enrolments: list[AnyRow]
    names: dict[int, str]
    assignments: dict[int, AnyRow]
    submissions: dict[Pair, AnyRow]
    teams: dict[tuple[int, int], AnyRow]  # (assignment, group) -> the team's submission
    flags: dict[Pair, AnyRow]
    grades: dict[Pair, AnyRow]
    own: dict[Pair, AnyRow]
    groups: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)  # (course, user)
    by_course: dict[int, list[AnyRow]] = field(default_factory=dict)  # live, by due date

    def __post_init__(self) -> None:
        for row in self.assignments.values():
            if row.deleted_at is None:
                self.by_course.setdefault(row.course_id, []).append(row)
        for row in self.enrolments:
            self.groups[(row.course_id, row.user_id)] = frozenset(map(int, _ids(row.groups)))

    @classmethod
    def load(cls, session: Session, programme: Programme) -> Store:
        modules = _mapped_courses(session, programme)
        ids = list(modules)
        e = Enrolment
        enrolments = list(
            session.execute(
                select(e.course_id, e.user_id, e.status, e.roles, e.groups, e.ended_at).where(
                    e.course_id.in_(ids)
                )
            ).all()
        )
        a = Assignment
        assignments = session.execute(
            select(a.id, a.course_id, a.cmid, a.name, a.due_at, a.cutoff_at, a.max_grade)
            .add_columns(a.marking_workflow, a.team_submission, a.team_grouping_id, a.deleted_at)
            .where(a.course_id.in_(ids))
            .order_by(a.due_at, a.id)
        ).all()
        in_courses = select(a.id).where(a.course_id.in_(ids))
        s, f, g, o = Submission, UserFlags, Grade, OwnDates
        subs = session.execute(
            select(s.assignment_id, s.user_id, s.group_id, s.attempt, s.status, s.time_modified)
            .where(s.assignment_id.in_(in_courses))
        ).all()  # fmt: skip
        flags = select(f.assignment_id, f.user_id, f.extension_due_at, f.workflow_state)
        grades = select(g.assignment_id, g.user_id, g.attempt, g.grade, g.id)
        own = select(o.assignment_id, o.user_id, o.due_at, o.cutoff_at).add_columns(
            o.due_overridden, o.cutoff_overridden, o.participant
        )
        return cls(
            modules=modules,
            enrolments=enrolments,
            names=_names(session, ids),
            assignments={row.id: row for row in assignments},
            submissions=_latest([r for r in subs if r.user_id is not None], _pair, ("attempt",)),
            teams=_latest([r for r in subs if r.user_id is None], _team, ("attempt",)),
            flags=_by_pair(session.execute(flags.where(f.assignment_id.in_(in_courses))).all()),
            grades=_latest(
                session.execute(grades.where(g.assignment_id.in_(in_courses))).all(),
                _pair,
                ("attempt", "id"),
            ),
            own=_by_pair(session.execute(own.where(o.assignment_id.in_(in_courses))).all()),
        )

    def students(self) -> dict[int, dict[int, bool]]:
        """Student -> {course id: enrolment active} over every student enrolment."""
        out: dict[int, dict[int, bool]] = {}
        for row in self.enrolments:
            if STUDENT_ROLE in _ids(row.roles):
                out.setdefault(row.user_id, {})[row.course_id] = _is_active(
                    row.status, row.ended_at
                )
        return out

    def live_assignments(self) -> dict[int, AssignmentInfo]:
        return {
            aid: AssignmentInfo(aid, row.course_id, row.cmid, row.name)
            for aid, row in self.assignments.items()
            if row.deleted_at is None
        }

    def submission(self, a: AnyRow, uid: int) -> AnyRow | None:
        """The student's own latest submission, or their team's on a group assignment."""
        own = self.submissions.get((a.id, uid))
        if not a.team_submission:
            return own
        team = self.teams.get((a.id, self.team_of(a, uid)))
        return team if team is not None else own

    def team_of(self, a: AnyRow, uid: int) -> int:
        """Moodle's `get_submission_group`: the member's one group among the teams, else the
        default group 0. With a grouping, the teams are the groups that have a submission row
        (rows exist only for groups of the grouping), as no core function lists a grouping."""
        mine = self.groups.get((a.course_id, uid), frozenset())
        if a.team_grouping_id:
            mine = frozenset(g for g in mine if (a.id, g) in self.teams)
        return next(iter(mine)) if len(mine) == 1 else 0

    def dates(self, a: AnyRow, uid: int) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The student's (due, cut-off): an override Moodle reported, else the assignment's."""
        own = self.own.get((a.id, uid))
        due, cutoff = a.due_at, a.cutoff_at
        if own is not None:
            due = own.due_at if own.due_overridden else due
            cutoff = own.cutoff_at if own.cutoff_overridden else cutoff
        return due, cutoff

    def matters(self, pair: Pair, a: AnyRow, rules: Reminders, now: dt.datetime) -> bool:
        """Whether Moodle must be asked for this pair's own dates in this run."""
        uid = pair[1]
        grade, flag = self.grades.get(pair), self.flags.get(pair)
        released = (
            grade is not None
            and grade.grade is not None
            and (not a.marking_workflow or (flag is not None and flag.workflow_state == "released"))
        )
        extension = flag.extension_due_at if flag is not None else None
        base = effective_deadline(a.due_at, extension)
        sub = self.submission(a, uid)
        submitted_at = sub.time_modified if sub is not None and sub.status == "submitted" else None
        submitted = sub is not None and sub.status == "submitted"
        answered = pair in self.own
        return own_dates_matter(base, submitted, submitted_at, released, answered, now, rules)


def _mapped_courses(session: Session, programme: Programme) -> dict[int, tuple[str, str]]:
    """Current course id -> (module code, full name) for the courses the programme maps."""
    mapped = programme.mapped_courses()
    rows = session.execute(
        select(Course.id, Course.idnumber, Course.fullname).where(Course.replaced_at.is_(None))
    ).all()
    return {cid: (mapped[idn].code, name) for cid, idn, name in rows if idn in mapped}


def _names(session: Session, course_ids: list[int]) -> dict[int, str]:
    enrolled = select(Enrolment.user_id).where(Enrolment.course_id.in_(course_ids))
    rows = session.execute(
        select(User.id, User.firstname, User.lastname).where(User.id.in_(enrolled))
    ).all()
    return {
        uid: " ".join(p for p in (first, last) if p) or f"user {uid}" for uid, first, last in rows
    }


def _by_pair(rows: Iterable[AnyRow]) -> dict[Pair, AnyRow]:
    return {(row[0], row[1]): row for row in rows}


def _latest(
    rows: Iterable[AnyRow], key: Callable[[AnyRow], tuple[int, int]], order: tuple[str, ...]
) -> dict[tuple[int, int], AnyRow]:
    """One row per key: the one with the highest values of the `order` columns."""
    out: dict[tuple[int, int], AnyRow] = {}
    for row in rows:
        kept = out.get(key(row))
        if kept is None or _rank(row, order) > _rank(kept, order):
            out[key(row)] = row
    return out


def _rank(row: AnyRow, order: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, column) for column in order)


def _pair(row: AnyRow) -> tuple[int, int]:
    return row.assignment_id, row.user_id


def _team(row: AnyRow) -> tuple[int, int]:
    return row.assignment_id, row.group_id or 0


@dataclass
class _Builder:
    programme: Programme
    store: Store
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
            released=not a.marking_workflow
            or (flag is not None and flag.workflow_state == "released"),
            resit=self.programme.resit_regex.search(a.name) is not None,
            own_date=own is not None and own.due_overridden,
        )


def _scaled(graded: AnyRow | None, max_grade: Decimal) -> Decimal | None:
    """A points grade as a mark out of 100; none for ungraded work or a scale (max <= 0)."""
    if graded is None or graded.grade is None or max_grade <= 0:
        return None
    return Decimal(graded.grade) * _HUNDRED / Decimal(max_grade)
