"""Students' own dates through local_cetadsync: every live assignment of the mapped courses
in one call (chunked if many), instead of one mod_assign_get_participant per open pair.

The core path asks only the *open* pairs (`cohort.open_pairs`), because each costs a call and
choosing them costs a read of the whole store. Here one call covers every assignment, and the
plugin records when an assignment's dates, overrides or students last changed. Its answer for
an assignment lists the students whose dates are their own; everyone else has the
assignment's. The store keeps that answer as it is: a row for each listed student (the same
row the core path writes for an override) and no row for the others, which `cohort` reads as
the assignment's dates. So a first sync writes a row per override, not per student, and a
night with nothing changed reads nothing but the bookmarks. (A user listed who is not, or not
yet, an active student in the store has her row too: a role given later needs no new read.)

Each assignment keeps a bookmark (stream `own_dates`, partition the assignment id): the
plugin's `time` from the answer that last listed its students, committed with the rows. An
assignment read before is asked with that `since`: `changed: false` keeps the stored rows.
A changed one has its active students' rows replaced by the answer. An assignment never read,
or a `--full` run, asks with `since=0`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import AssignmentDates, get_effective_dates
from moodle_sync.cohort import STUDENT_ROLE
from moodle_sync.errors import RetriableError, SkippableError
from moodle_sync.pull.owndates import OwnDatesReport
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import Assignment, Bookmark, Course, Enrolment, OwnDates
from moodle_sync.store.upsert import upsert

__all__ = ["refresh_own_dates_bulk"]
STREAM = "own_dates"
MAX_USERS_BOUND = 5000  # more user ids than this are not bound as parameters: all are read


def refresh_own_dates_bulk(
    requester: Requester,
    sessions: sessionmaker[Session],
    programme: Programme,
    now: dt.datetime,
    *,
    full: bool = False,
    run_id: int | None = None,
) -> OwnDatesReport:
    """Calls: local_cetadsync_get_effective_dates, once per distinct `since` (chunked)."""
    with sessions() as session:
        live = set(session.scalars(_live_assignments(programme)))
        marks = {} if full else _bookmarks(session, live)
    by_since: dict[int, set[int]] = defaultdict(set)
    for aid in live:
        by_since[marks.get(aid, 0)].add(aid)
    report = OwnDatesReport()
    answers: dict[int, AssignmentDates] = {}
    times: dict[int, int] = {}
    failed: dict[int, str] = {}
    for since, aids in sorted(by_since.items()):
        report.asked += 1
        try:
            answer = get_effective_dates(requester, sorted(aids), since)
        except (SkippableError, RetriableError) as exc:
            failed.update(dict.fromkeys(aids, f"{exc.errorcode}: {exc}"))
            continue
        for warning in answer.warnings:
            failed[warning.itemid or 0] = f"{warning.warningcode}: {warning.message}"
        for item in answer.assignments:
            answers[item.assignmentid] = item
            times[item.assignmentid] = answer.time
    changed = {aid: answer for aid, answer in answers.items() if answer.changed}
    with sessions.begin() as session:
        for aid, uids in _students(session, set(failed)).items():
            report.unconfirmed.update({(aid, uid): failed[aid] for uid in uids})
        _replace(session, changed, now, report)
        _advance(session, answers, times, now, run_id)
    return report


def _replace(
    session: Session, changed: dict[int, AssignmentDates], now: dt.datetime, report: OwnDatesReport
) -> None:
    """The changed assignments' rows become the answer's. The plugin lists every user enrolled
    in the course (in any state, any role) whose dates are her own, so each listed user gets a
    row, and a stored row of a user still enrolled but no longer listed goes (a removed
    override, or a core-path row that now matches the assignment). A user the store no longer
    has enrolled keeps her last row, as on the core path."""
    stored: dict[int, set[int]] = defaultdict(set)
    query = select(OwnDates.assignment_id, OwnDates.user_id)
    for aid, uid in session.execute(query.where(OwnDates.assignment_id.in_(sorted(changed)))):
        stored[aid].add(uid)
    enrolled = _enrolled(session, set(stored), set().union(*stored.values()))
    rows = []
    for aid, answer in sorted(changed.items()):
        listed = {own.userid for own in answer.students}
        gone = (stored[aid] & enrolled.get(aid, set())) - listed
        if gone:
            session.execute(delete(OwnDates).where(OwnDates.assignment_id == aid,
                                                   OwnDates.user_id.in_(sorted(gone))))  # fmt: skip
        for own in answer.students:
            overridden = (own.duedate != answer.duedate, own.cutoffdate != answer.cutoffdate)
            report.overrides += any(overridden)
            rows.append({"assignment_id": aid, "user_id": own.userid, "checked_at": now,
                         "due_at": own.duedate, "cutoff_at": own.cutoffdate,
                         "due_overridden": overridden[0], "cutoff_overridden": overridden[1],
                         "participant": True})  # fmt: skip
    upsert(session, OwnDates, rows)


def _live_assignments(programme: Programme) -> Select[int]:
    """The live assignments of the mapped courses still current (a course that rolled over
    is history)."""
    current = select(Course.id).where(
        Course.idnumber.in_(list(programme.mapped_courses())), Course.replaced_at.is_(None)
    )
    return select(Assignment.id).where(
        Assignment.course_id.in_(current), Assignment.deleted_at.is_(None)
    )


def _students(session: Session, aids: set[int]) -> dict[int, list[int]]:
    """Assignment id -> its active students, in user id order (read by course: a course's
    students are every assignment's)."""
    out: dict[int, list[int]] = {}
    for aid, rows in _enrolments(session, aids, None, active=True).items():
        out[aid] = [uid for uid, roles in rows if STUDENT_ROLE in roles.split(",")]
    return out


def _enrolled(session: Session, aids: set[int], users: set[int]) -> dict[int, set[int]]:
    """Assignment id -> which of `users` are enrolled in its course, in any state."""
    found = _enrolments(session, aids, users, active=False)
    return {aid: {uid for uid, _roles in rows} for aid, rows in found.items()}


def _enrolments(
    session: Session, aids: set[int], users: set[int] | None, *, active: bool
) -> dict[int, list[tuple[int, str]]]:
    """Assignment id -> (user, roles) of the stored enrolments in its course not ended (only
    active ones if `active`; of `users` only, if given), in user id order."""
    if not aids or users == set():
        return {}
    by_id = select(Assignment.id, Assignment.course_id).where(Assignment.id.in_(sorted(aids)))
    courses: dict[int, int] = {aid: cid for aid, cid in session.execute(by_id)}
    query = select(Enrolment.course_id, Enrolment.user_id, Enrolment.roles).where(
        Enrolment.course_id.in_(sorted(set(courses.values()))), Enrolment.ended_at.is_(None)
    )
    if active:
        query = query.where(Enrolment.status == "active")
    if users is not None and len(users) <= MAX_USERS_BOUND:
        query = query.where(Enrolment.user_id.in_(sorted(users)))
    by_course: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cid, uid, roles in sorted(session.execute(query).all()):
        if users is None or uid in users:
            by_course[cid].append((uid, roles))
    return {aid: by_course[cid] for aid, cid in sorted(courses.items()) if cid in by_course}


def _bookmarks(session: Session, aids: set[int]) -> dict[int, int]:
    query = select(Bookmark.partition, Bookmark.value).where(Bookmark.stream == STREAM)
    marks = {int(p): v for p, v in session.execute(query) if int(p) in aids}
    return {aid: int(_aware(value).timestamp()) for aid, value in marks.items()}


def _advance(
    session: Session,
    answers: dict[int, AssignmentDates],
    times: dict[int, int],
    now: dt.datetime,
    run_id: int | None,
) -> None:
    """An assignment whose students were listed is current as of that answer's `time`."""
    rows = [{"stream": STREAM, "partition": str(aid), "run_id": run_id, "updated_at": now,
             "value": dt.datetime.fromtimestamp(times[aid], dt.UTC)}
            for aid, answer in answers.items() if answer.changed]  # fmt: skip
    upsert(session, Bookmark, rows)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
