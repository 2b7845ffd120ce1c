"""Reconciliation: what live Moodle says against what the store holds and what was pushed.

Support staff reach for it when a tutor says "Moodle shows something else". `diff` reads the
scope live with the pull's own fetch functions (a full read, nothing written) and names every
difference with the side that has it and why it matters; `repair` re-pulls the scope in full,
re-plans (cancelling stale reminders), re-pushes profile fields edited by hand and records a
`reconcile` run. Submissions, grades and flags the store has but Moodle no longer returns are
not reported: the pull keeps them as history, so no repair could remove them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.models import EnrolledUser
from moodle_sync.client.users import get_users_by_field
from moodle_sync.cohort.facts import evaluate_store
from moodle_sync.errors import ScopeError
from moodle_sync.pull.fetch import CourseData, fetch_all
from moodle_sync.pull.runner import load_state
from moodle_sync.pull.scope import resolve_scope
from moodle_sync.pull.source import Source
from moodle_sync.push.profile import wanted_values
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import PushSettings
from moodle_sync.store.people import name_of, names
from moodle_sync.store.tables import (
    Assignment,
    Enrolment,
    Grade,
    OutboxMessage,
    ProfileValue,
    Submission,
    User,
    UserFlags,
)

ABSENT: Any = object()  # a key one side does not have (None is a value: "no extension")


@dataclass(frozen=True)
class Difference:
    """One thing Moodle and the service disagree on, and why it matters."""

    area: str  # enrolment | assignment | extension | submission | grade | profile
    change: str  # missing (only in Moodle) | extra (only in the store) | changed
    side: str  # where the newer truth is: "moodle", or "store" (not yet pushed)
    target: str
    ours: str | None  # the store's value, or what the service last pushed
    moodle: str | None
    impact: str
    user_id: int | None = None
    field_name: str | None = None  # the profile field, for a profile difference

    def line(self) -> str:
        values = f"store {self.ours or '-'}, Moodle {self.moodle or '-'}"
        return f"{self.area} {self.change} ({self.side}): {self.target}: {values}: {self.impact}"


@dataclass
class Reconciliation:
    """The differences found for a scope, and what a repair did about them."""

    courses: list[str]
    user_id: int | None
    differences: list[Difference] = field(default_factory=list)
    missing_courses: list[str] = field(default_factory=list)
    failed_courses: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "differences": [asdict(d) for d in self.differences]}


def choose_courses(mapped: Sequence[str], course: str | None) -> list[str]:
    """All mapped courses, or the one asked for if the programme maps it."""
    if course is None:
        return sorted(mapped)
    if course not in mapped:
        known = ", ".join(sorted(mapped))
        raise ScopeError([f"course {course!r} is not mapped by the programme (mapped: {known})"])
    return [course]


def resolve_user(session: Session, requester: Requester, ident: str) -> int:
    """A Moodle user id from an id, a username or an email: the store first, then Moodle."""
    name = "id" if ident.isdigit() else "email" if "@" in ident else "username"
    column = {"id": User.id, "email": User.email, "username": User.username}[name]
    value: int | str = int(ident) if name == "id" else ident
    found = session.scalar(select(User.id).where(column == value))
    if found is not None:
        return found
    users = get_users_by_field(requester, name, [value])
    if users:
        return users[0].id
    raise ScopeError(
        [
            f"no user with {name} {ident!r} in the store or in Moodle: check it, "
            "or give the Moodle user id"
        ]
    )


def choose_scope(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    course: str | None,
    user: str | None,
) -> Reconciliation:
    courses = choose_courses(list(programme.mapped_courses()), course)
    with sessions() as session:
        user_id = resolve_user(session, requester, user) if user else None
    return Reconciliation(courses, user_id)


def diff(
    sessions: sessionmaker[Session],
    requester: Requester,
    source: Source,
    programme: Programme,
    push: PushSettings,
    scope: Reconciliation,
    now: dt.datetime,
) -> Reconciliation:
    """Read the scope live through the run's `source` (writing nothing anywhere) and list
    every difference in it."""
    result = Reconciliation(list(scope.courses), scope.user_id)
    known, _bookmarks, cmids, _digests = load_state(sessions)
    found = resolve_scope(source, result.courses, known)
    window = dt.timedelta(0)
    fetched = fetch_all(source, found.courses, {}, sessions=sessions, full=True, window=window,
                        known_cmids=cmids)  # fmt: skip
    result.missing_courses = found.missing
    with sessions() as session:
        for course in found.courses:
            if course.id in fetched.failures:
                result.failed_courses[course.idnumber] = fetched.failures[course.id]
                continue
            compare = Compare(session, course.idnumber, programme.timezone, result.user_id)
            data, safe = fetched.courses[course.id], fetched.deletions_safe
            result.differences.extend(compare.differences(data, deletions_safe=safe))
        profiles = profile_differences(session, requester, programme, push, result, now)
    result.differences.extend(profiles)
    return result


@dataclass
class Compare:
    """Compares one course's live records with the stored ones, optionally for one user."""

    session: Session
    course: str
    tz: ZoneInfo
    user_id: int | None

    def differences(self, data: CourseData, *, deletions_safe: bool) -> Iterator[Difference]:
        yield from self.enrolments(data)
        yield from self.assignments(data, deletions_safe)
        records = data.records
        ids = [a.id for a in data.assignments]
        yield from self.extensions(ids, records.get("user_flags", []))
        yield from self.submissions(ids, records.get("submissions", []))
        yield from self.grades(ids, records.get("grades", []))

    def who(self, user_id: int) -> str:
        return name_of(self.session.get(User, user_id), user_id)

    def wanted(self, user_id: int | None) -> bool:
        return self.user_id is None or user_id == self.user_id

    def enrolments(self, data: CourseData) -> Iterator[Difference]:
        rows = self.session.scalars(select(Enrolment).where(Enrolment.course_id == data.course.id))
        ours = {e.user_id: f"{e.status} as {e.roles}" for e in rows if e.ended_at is None}
        assert data.users is not None, "reconcile reads every course's enrolments"
        live = {u.id: enrolment_text(u) for u in data.users}
        for uid, old, new in changes(ours, live, extra=True):
            if not self.wanted(uid):
                continue
            planned = self.planned(user_id=uid, course_id=data.course.id)
            impact = {
                "missing": "gets no reminders and no status until pulled",
                "extra": f"unenrolled in Moodle: {plural(planned, 'planned reminder')} would be "
                "cancelled and the status recomputed",
            }.get(change_of(old, new), f"{plural(planned, 'planned reminder')} may be cancelled")
            yield self.difference(
                "enrolment", uid, f"{self.who(uid)} in {self.course}", old, new, impact
            )

    def assignments(self, data: CourseData, deletions_safe: bool) -> Iterator[Difference]:
        rows = self.session.scalars(
            select(Assignment).where(Assignment.course_id == data.course.id)
        )
        stored = {a.id: a for a in rows if a.deleted_at is None}
        ours = {i: self.when(a.due_at) for i, a in stored.items()}
        live = {a.id: self.when(a.duedate) for a in data.assignments}
        for aid, old, new in changes(ours, live, extra=deletions_safe):
            old_due = stored[aid].due_at if aid in stored else None
            planned = plural(self.planned(assignment_id=aid, deadline=old_due), "reminder")
            impact = {
                "missing": "its deadline gets no reminders until pulled",
                "extra": f"deleted in Moodle: {planned} planned for it would be cancelled",
            }.get(change_of(old, new), f"{planned} planned for the old date would be cancelled")
            yield self.difference(
                "assignment", None, f"assignment {aid} due date in {self.course}", old, new, impact
            )

    def extensions(self, ids: list[int], records: Sequence[Any]) -> Iterator[Difference]:
        rows = self.session.scalars(select(UserFlags).where(UserFlags.assignment_id.in_(ids)))
        stored = {(f.assignment_id, f.user_id): f.extension_due_at for f in rows}
        live = {(r.assignment_id, r.userid): r.extensionduedate for r in records}
        for (aid, uid), old, new in changes(stored, live, extra=False):
            if not self.wanted(uid) or (old is ABSENT and new is None):
                continue
            before = None if old is ABSENT else old
            planned = self.planned(user_id=uid, assignment_id=aid, deadline=before)
            impact = (
                f"{plural(planned, 'reminder')} planned for the old date would be "
                "cancelled; reminders and the late penalty follow the new date"
            )
            target = f"extension of {self.who(uid)} on assignment {aid} ({self.course})"
            shown = ABSENT if old is ABSENT else self.when(old)
            yield self.difference("extension", uid, target, shown, self.when(new), impact)

    def submissions(self, ids: list[int], records: Sequence[Any]) -> Iterator[Difference]:
        s = Submission
        rows = self.session.execute(
            select(s.assignment_id, s.user_id, s.attempt, s.status).where(
                s.assignment_id.in_(ids), s.user_id.is_not(None)
            )
        ).all()
        ours = latest((r[0], r[1], r[2], r[3]) for r in rows if r[1] is not None)
        live = latest(
            (r.assignment_id, r.userid, r.attemptnumber, r.status) for r in records if r.userid
        )
        for (aid, uid), old, new in changes(ours, live, extra=False):
            if self.wanted(uid):
                planned = self.planned(user_id=uid, assignment_id=aid)
                impact = (
                    f"{plural(planned, 'planned reminder')} would be cancelled"
                    if new == "submitted"
                    else "reminders and the status follow it"
                )
                target = f"submission of {self.who(uid)} to assignment {aid} ({self.course})"
                yield self.difference("submission", uid, target, old, new, impact)

    def grades(self, ids: list[int], records: Sequence[Any]) -> Iterator[Difference]:
        g = Grade
        rows = self.session.execute(
            select(g.assignment_id, g.user_id, g.attempt, g.grade).where(g.assignment_id.in_(ids))
        ).all()
        ours = latest((r[0], r[1], r[2], grade_text(r[3])) for r in rows)
        live = latest(
            (r.assignment_id, r.userid, r.attemptnumber, grade_text(r.grade)) for r in records
        )
        for (aid, uid), old, new in changes(ours, live, extra=False):
            if self.wanted(uid) and not (old is ABSENT and new is None):
                target = f"grade of {self.who(uid)} on assignment {aid} ({self.course})"
                impact = "credits, classification and the progression status are computed from it"
                yield self.difference("grade", uid, target, old, new, impact)

    def planned(
        self,
        *,
        user_id: int | None = None,
        assignment_id: int | None = None,
        course_id: int | None = None,
        deadline: dt.datetime | None = None,
    ) -> int:
        """How many reminders wait in the outbox (state planned) for this person or work."""
        o = OutboxMessage
        query = select(func.count()).select_from(o).where(o.state == "planned")
        if user_id is not None:
            query = query.where(o.recipient_id == user_id)
        if assignment_id is not None:
            query = query.where(o.assignment_id == assignment_id)
        if course_id is not None:
            in_course = select(Assignment.id).where(Assignment.course_id == course_id)
            query = query.where(o.assignment_id.in_(in_course))
        if deadline is not None:
            query = query.where(o.deadline_at == deadline)
        return self.session.scalar(query) or 0

    def when(self, moment: dt.datetime | None) -> str | None:
        return None if moment is None else f"{moment.astimezone(self.tz):%-d %b %Y %H:%M %Z}"

    def difference(
        self, area: str, uid: int | None, target: str, old: Any, new: Any, impact: str
    ) -> Difference:
        ours, live = (None if v is ABSENT else v for v in (old, new))
        return Difference(area, change_of(old, new), "moodle", target, ours, live, impact, uid)


def changes(
    ours: Mapping[Any, Any], live: Mapping[Any, Any], *, extra: bool
) -> Iterator[tuple[Any, Any, Any]]:
    """(key, stored, live) for each key whose values differ; ABSENT marks a missing side."""
    for key in sorted(set(ours) | set(live), key=repr):
        old, new = ours.get(key, ABSENT), live.get(key, ABSENT)
        if new is ABSENT and not extra:
            continue
        if old != new:
            yield key, old, new


def change_of(old: Any, new: Any) -> str:
    return "missing" if old is ABSENT else "extra" if new is ABSENT else "changed"


def latest(rows: Iterator[tuple[int, int, int, Any]]) -> dict[tuple[int, int], Any]:
    """(assignment, user) -> the value of the highest attempt."""
    best: dict[tuple[int, int], tuple[int, Any]] = {}
    for aid, uid, attempt, value in rows:
        if (aid, uid) not in best or attempt >= best[(aid, uid)][0]:
            best[(aid, uid)] = (attempt, value)
    return {key: value for key, (_attempt, value) in best.items()}


def enrolment_text(user: EnrolledUser) -> str:
    return f"{user.status} as {','.join(sorted({r.shortname for r in user.roles}))}"


def grade_text(grade: Decimal | None) -> str | None:
    return None if grade is None else f"{grade.normalize():f}"


def plural(count: int, noun: str) -> str:
    words = {0: "no", 1: "one", 2: "two", 3: "three"}
    return f"{words.get(count, str(count))} {noun}{'s' * (count != 1)}"


def profile_differences(
    session: Session,
    requester: Requester,
    programme: Programme,
    push: PushSettings,
    result: Reconciliation,
    now: dt.datetime,
) -> list[Difference]:
    """Profile fields in Moodle against what was last pushed and what the store gives now.

    Calls: core_user_get_users_by_field (read only).
    """
    codes = {programme.mapped_courses()[idnumber].code for idnumber in result.courses}
    evaluation = evaluate_store(session, programme, now, push.interrupted_users)
    wanted = {
        uid: values
        for uid, values in wanted_values(evaluation, push, result.user_id).items()
        if any(m.module in codes for m in evaluation.results[uid].participant.modules)
    }
    if not wanted:
        return []
    live = {u.id: u.customfields for u in get_users_by_field(requester, "id", sorted(wanted))}
    rows = session.scalars(select(ProfileValue).where(ProfileValue.user_id.in_(wanted)))
    pushed = {(row.user_id, row.field): row.value for row in rows}
    people = names(session, wanted)
    found = (
        profile_difference(
            uid, people[uid], name, value, pushed.get((uid, name)), live.get(uid, {}).get(name)
        )
        for uid, values in sorted(wanted.items())
        for name, value in values.items()
    )
    return [difference for difference in found if difference is not None]


def profile_difference(
    uid: int, who: str, name: str, wanted: str, pushed: str | None, moodle: str | None
) -> Difference | None:
    """A hand edit in Moodle, or a status the store gives that was not pushed yet."""
    target = f"profile field {name} of {who}"
    if pushed is not None and (moodle or "") != pushed:
        impact = (
            f"edited in Moodle since the service pushed {pushed!r}: the service sends only "
            "changes, so it stays so until reconciled"
        )
        return Difference("profile", "changed", "moodle", target, pushed, moodle, impact, uid, name)
    if wanted not in (pushed, moodle):
        change = "missing" if pushed is None else "changed"
        impact = "the status computed from the store is not in Moodle yet: the next run pushes it"
        return Difference("profile", change, "store", target, wanted, moodle, impact, uid, name)
    return None
