"""The mapped courses' rows, read from the store once per question, one query per table.

Indexed by (assignment, user) for the two readers that share them: the rules' facts
(`cohort.facts`) and the pull's own-dates question (`cohort.own_dates`). What a row means
for a student is settled here once: her latest submission (or her team's, chosen as Moodle's
`get_submission_group` does), and her own dates (an override Moodle reported, else the
assignment's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from moodle_sync.rules.policy import Programme
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


def is_active(status: str, ended_at: dt.datetime | None) -> bool:
    return status == "active" and ended_at is None


def ids(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


@dataclass
class Rows:
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
            self.groups[(row.course_id, row.user_id)] = frozenset(map(int, ids(row.groups)))

    @classmethod
    def load(cls, session: Session, programme: Programme) -> Rows:
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
            if STUDENT_ROLE in ids(row.roles):
                out.setdefault(row.user_id, {})[row.course_id] = is_active(row.status, row.ended_at)
        return out

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
