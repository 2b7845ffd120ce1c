"""The pull on the core path: core web services alone.

Courses are found one `core_course_get_courses_by_field` per idnumber (in parallel): the
documented role cannot see idnumbers by course id, so a rollover shows only this way.
Enrolments come one `core_enrol_get_enrolled_users` per course, records as three calls per
group of assignments (`streams.ASSIGNMENT_STREAMS`, each with its own `since`).

Students' own dates: per-student overrides exist only in `mod_assign_get_participant`
(trap 9), one student and assignment per call, and core Moodle has no bulk read of them. So
after the courses are written, the store says which (assignment, student) pairs are *open*:
their lateness, a reminder, a draft warning or an overdue status would change with a
different date (`rules.reminders.own_dates_matter`). Only those are asked, in parallel, every
run (a teacher can add an override at any time without Moodle changing any `timemodified`);
a pair whose mark is released keeps its last answer. The answers are stored beside the pull
(`OwnDates`), so every later stage and every report reads the same dates. A pair Moodle does
not answer for is reported unconfirmed: its reminders are held until it does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.assignments import (
    get_assignments,
    get_grades,
    get_participant,
    get_submissions,
    get_user_flags,
)
from moodle_sync.client.courses import get_courses_by_field
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.client.envelope import Listing
from moodle_sync.client.models import Course, EnrolledUser, Result
from moodle_sync.client.models import Participant as Answer
from moodle_sync.cohort.own_dates import open_pairs
from moodle_sync.cohort.rows import Pair
from moodle_sync.errors import RetriableError, SkippableError
from moodle_sync.probe import AccessReport, attempter, prove_messaging
from moodle_sync.pull.fetch import (
    Bookmarks,
    Counted,
    CourseData,
    Fetched,
    Progress,
    assignment_ids,
    attempt,
    fetch_assignments,
    group_since,
    record_groups,
    split_records,
)
from moodle_sync.pull.source import OwnDatesReport
from moodle_sync.pull.streams import ASSIGNMENT_STREAMS
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import Assignment, OwnDates
from moodle_sync.store.upsert import upsert

__all__ = ["CoreSource", "fetch_enrolments", "refresh_own_dates"]

NOT_IN_COURSE = "usernotincourse"
Read = Callable[[Requester, Sequence[int], dt.datetime | None], Result[Any]]


def _flags(req: Requester, ids: Sequence[int], _since: dt.datetime | None) -> Result[Any]:
    return get_user_flags(req, ids)


# Each record stream's core read, by stream name: by assignment ids, from `since` if it has one
READS: dict[str, Read] = {"submissions": get_submissions, "user_flags": _flags,
                          "grades": get_grades}  # fmt: skip


@dataclass
class CoreSource:
    """Reads through core web services, as the integration user."""

    requester: Requester

    def find_courses(self, wanted: Sequence[str]) -> dict[str, Course]:
        """Calls: core_course_get_courses_by_field (field idnumber), once per idnumber."""
        return _by_core(self.requester, list(wanted))

    def read_courses(
        self,
        courses: Sequence[Course],
        known_cmids: Mapping[int, int],
        progress: Progress | None,
        *,
        sessions: sessionmaker[Session],
        full: bool,
        digests: Mapping[int, str],
    ) -> Fetched:
        """Calls: core_enrol_get_enrolled_users per course, then mod_assign_get_assignments."""
        fetched = Fetched({course.id: CourseData(course) for course in courses})
        counted = Counted("reading enrolments", len(courses), progress)
        fetch_enrolments(self.requester, fetched, counted, digests=digests)
        fetch_assignments(self.requester, fetched, known_cmids)
        return fetched

    def record_groups(
        self, fetched: Fetched, bookmarks: Bookmarks, *, full: bool
    ) -> list[list[CourseData]]:
        return record_groups(fetched, self.requester.settings.max_ids_per_call, bookmarks)

    def read_records(
        self,
        fetched: Fetched,
        group: Sequence[CourseData],
        bookmarks: Bookmarks,
        *,
        full: bool,
        window: dt.timedelta,
    ) -> None:
        """Calls: mod_assign_get_submissions, mod_assign_get_user_flags, mod_assign_get_grades,
        in parallel, each from the group's oldest bookmark of its stream."""
        requester = self.requester
        tasks = [(stream, group_since(stream, group, bookmarks, full, window))
                 for stream in ASSIGNMENT_STREAMS]  # fmt: skip
        ids = assignment_ids(group)
        answers = requester.map(
            lambda task: attempt(lambda: READS[task[0].name](requester, ids, task[1])), tasks
        )
        course_ids = [data.course.id for data in group]
        for (stream, since), answer in zip(tasks, answers, strict=True):
            if isinstance(answer, Exception):
                fetched.fail(course_ids, f"{stream.name}: {answer}")
            else:
                split_records(fetched, stream, group, answer.data, answer.warnings, since)

    def refresh_own_dates(
        self,
        sessions: sessionmaker[Session],
        programme: Programme,
        now: dt.datetime,
        *,
        full: bool,
        run_id: int | None,
    ) -> OwnDatesReport:
        return refresh_own_dates(self.requester, sessions, programme, now)

    def probe(self, course: Course, userid: int, available: set[str]) -> AccessReport:
        return probe_access(self.requester, userid, course.id, course.idnumber, available)


def _by_core(requester: Requester, wanted: list[str]) -> dict[str, Course]:
    answers = requester.map(lambda i: get_courses_by_field(requester, "idnumber", [i]), wanted)
    return {i: answer.data[0] for i, answer in zip(wanted, answers, strict=True) if answer.data}


def fetch_enrolments(
    requester: Requester,
    fetched: Fetched,
    counted: Counted,
    only: Sequence[int] | None = None,
    *,
    digests: Mapping[int, str] | None = None,
) -> None:
    """Calls: core_enrol_get_enrolled_users, once per course (or per course of `only`)."""
    known = digests or {}

    def read(course_id: int) -> Listing[EnrolledUser] | Exception:
        answer = attempt(
            lambda: get_enrolled_users(requester, course_id, known=known.get(course_id))
        )
        counted.step()
        return answer

    ids = list(fetched.courses) if only is None else list(only)
    answers = requester.map(read, ids)
    for course_id, answer in zip(ids, answers, strict=True):
        if isinstance(answer, Exception):
            fetched.fail([course_id], f"enrolments: {answer}")
        else:
            fetched.courses[course_id].enrolled(answer)


def refresh_own_dates(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme, now: dt.datetime
) -> OwnDatesReport:
    """Calls: mod_assign_get_participant, once per open pair. Stores every answer."""
    with sessions() as session:
        pairs = open_pairs(session, programme, now)
        base = _assignment_dates(session, sorted({a for a, _ in pairs}))
    answers = requester.map(lambda pair: _ask(requester, pair), pairs)
    report = OwnDatesReport(asked=len(pairs))
    rows = []
    for pair, answer in zip(pairs, answers, strict=True):
        row = _row(pair, answer, base[pair[0]], now, report)
        if row is not None:
            rows.append(row)
    with sessions.begin() as session:
        upsert(session, OwnDates, rows)
    return report


def _ask(requester: Requester, pair: Pair) -> Answer | SkippableError | RetriableError:
    """A refusal confined to this pair (or a site that stayed unreachable) is an answer too."""
    try:
        return get_participant(requester, *pair)
    except (SkippableError, RetriableError) as exc:
        return exc


def _assignment_dates(
    session: Session, ids: list[int]
) -> dict[int, tuple[dt.datetime | None, dt.datetime | None]]:
    rows = session.execute(
        select(Assignment.id, Assignment.due_at, Assignment.cutoff_at).where(Assignment.id.in_(ids))
    )
    return {aid: (due, cutoff) for aid, due, cutoff in rows}


def _row(
    pair: Pair,
    answer: Answer | SkippableError | RetriableError,
    base: tuple[dt.datetime | None, dt.datetime | None],
    now: dt.datetime,
    report: OwnDatesReport,
) -> dict[str, Any] | None:
    """The stored answer; None (and the pair unconfirmed) when Moodle gave none."""
    due, cutoff = base
    values = {"assignment_id": pair[0], "user_id": pair[1], "checked_at": now}
    if isinstance(answer, SkippableError) and answer.errorcode == NOT_IN_COURSE:
        report.not_participant += 1
        return values | {"due_at": due, "cutoff_at": cutoff, "due_overridden": False,
                         "cutoff_overridden": False, "participant": False}  # fmt: skip
    if not isinstance(answer, Answer):
        report.unconfirmed[pair] = f"{answer.errorcode}: {answer}"
        return None
    overridden = (answer.duedate != due, answer.cutoffdate != cutoff)
    report.overrides += any(overridden)
    return values | {"due_at": answer.duedate, "cutoff_at": answer.cutoffdate,
                     "due_overridden": overridden[0], "cutoff_overridden": overridden[1],
                     "participant": True}  # fmt: skip


def probe_access(
    req: Requester, userid: int, course_id: int, idnumber: str, available: set[str]
) -> AccessReport:
    """Make each core read once on `course_id`; name every refusal with the capabilities to
    grant; prove the integration user may message a student."""
    report = AccessReport(idnumber)
    attempt = attempter(report, available)
    listed = attempt("core_enrol_get_enrolled_users", lambda: get_enrolled_users(req, course_id))
    people: list[EnrolledUser] = (listed.items or []) if listed else []
    students = [p for p in people if any(r.shortname == "student" for r in p.roles)]
    nameless = [s.id for s in students if not (s.firstname or s.lastname)]
    if nameless:
        report.problems.append(
            f"students' names are hidden from the integration user (user ids {nameless[:5]}): "
            "grant moodle/site:viewfullnames, or reminders say 'Dear user N'"
        )
    found = attempt("mod_assign_get_assignments", lambda: get_assignments(req, [course_id]))
    assignment = next(iter(found.data), None) if found else None
    if assignment is not None:
        ids = [assignment.id]
        attempt("mod_assign_get_submissions", lambda: get_submissions(req, ids))
        attempt("mod_assign_get_user_flags", lambda: get_user_flags(req, ids))
        attempt("mod_assign_get_grades", lambda: get_grades(req, ids))
        if students:
            first = students[0].id
            attempt("mod_assign_get_participant",
                    lambda: get_participant(req, assignment.id, first))  # fmt: skip
    report.messaging = prove_messaging(req, userid, [s.id for s in students], available)
    if report.messaging != "proved":
        report.problems.append(f"messaging: {report.messaging}")
    return report
