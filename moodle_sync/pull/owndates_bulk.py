"""Students' own dates through local_cetadsync: the open pairs' assignments in one call
(chunked if many), instead of one mod_assign_get_participant per pair; the same store rows.

Each assignment keeps a bookmark (stream `own_dates`, partition the assignment id): the
plugin's `time` from the answer that last listed its students, committed with the rows. An
assignment read before is asked with that `since`: `changed: false` keeps the stored rows. An
open pair with no stored row, or a `--full` run, asks with `since=0`. A student the plugin
does not list has the assignment's dates; one not an active student of the course is, as in
core, not a participant.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import AssignmentDates, get_effective_dates
from moodle_sync.cohort import Pair, open_pairs
from moodle_sync.errors import RetriableError, SkippableError
from moodle_sync.pull.owndates import OwnDatesReport
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import Assignment, Bookmark, Enrolment, OwnDates
from moodle_sync.store.upsert import upsert

__all__ = ["refresh_own_dates_bulk"]
STREAM = "own_dates"


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
        pairs = open_pairs(session, programme, now)
        stored = _stored(session, pairs)
        marks = {} if full else _bookmarks(session, {a for a, _ in pairs})
        students = _active_students(session, {a for a, _ in pairs})
    by_since: dict[int, set[int]] = defaultdict(set)
    for aid, uid in pairs:
        fresh = (aid, uid) not in stored or aid not in marks
        by_since[0 if fresh else marks[aid]].add(aid)
    for aid in by_since[0]:
        for since in [s for s in by_since if s]:
            by_since[since].discard(aid)
    report = OwnDatesReport()
    answers: dict[int, AssignmentDates] = {}
    times: dict[int, int] = {}
    for since, aids in sorted(by_since.items()):
        if not aids:
            continue
        report.asked += 1
        try:
            answer = get_effective_dates(requester, sorted(aids), since)
        except (SkippableError, RetriableError) as exc:
            _unconfirmed(report, pairs, aids, f"{exc.errorcode}: {exc}")
            continue
        for warning in answer.warnings:
            reason = f"{warning.warningcode}: {warning.message}"
            _unconfirmed(report, pairs, {warning.itemid or 0}, reason)
        for item in answer.assignments:
            answers[item.assignmentid] = item
            times[item.assignmentid] = answer.time
    rows = [row for pair in pairs
            if (row := _row(pair, answers, stored, students, now, report)) is not None]  # fmt: skip
    with sessions.begin() as session:
        upsert(session, OwnDates, rows)
        _advance(session, answers, times, now, run_id)
    return report


def _row(
    pair: Pair,
    answers: dict[int, AssignmentDates],
    stored: set[Pair],
    students: set[Pair],
    now: dt.datetime,
    report: OwnDatesReport,
) -> dict[str, Any] | None:
    """The pair's row from its assignment's answer; None when kept or unconfirmed."""
    aid, uid = pair
    answer = answers.get(aid)
    if answer is None or not answer.changed:
        return None  # unconfirmed (recorded), or unchanged: the stored row stands
    values = {"assignment_id": aid, "user_id": uid, "checked_at": now}
    if (aid, uid) not in students:
        report.not_participant += 1
        return values | {"due_at": answer.duedate, "cutoff_at": answer.cutoffdate,
                         "due_overridden": False, "cutoff_overridden": False,
                         "participant": False}  # fmt: skip
    mine = next((s for s in answer.students if s.userid == uid), None)
    due = mine.duedate if mine else answer.duedate
    cutoff = mine.cutoffdate if mine else answer.cutoffdate
    overridden = (due != answer.duedate, cutoff != answer.cutoffdate)
    report.overrides += any(overridden)
    return values | {"due_at": due, "cutoff_at": cutoff, "due_overridden": overridden[0],
                     "cutoff_overridden": overridden[1], "participant": True}  # fmt: skip


def _unconfirmed(report: OwnDatesReport, pairs: list[Pair], aids: set[int], why: str) -> None:
    for pair in pairs:
        if pair[0] in aids:
            report.unconfirmed[pair] = why


def _stored(session: Session, pairs: list[Pair]) -> set[Pair]:
    """The pairs with a stored row (asked by assignment: a few thousand ids at most, where
    tens of thousands of pairs would pass a database's limit on bound parameters)."""
    aids = sorted({aid for aid, _ in pairs})
    query = select(OwnDates.assignment_id, OwnDates.user_id).where(OwnDates.assignment_id.in_(aids))
    return {(aid, uid) for aid, uid in session.execute(query)} & set(pairs)


def _bookmarks(session: Session, aids: set[int]) -> dict[int, int]:
    query = select(Bookmark.partition, Bookmark.value).where(Bookmark.stream == STREAM)
    marks = {int(p): v for p, v in session.execute(query) if int(p) in aids}
    return {aid: int(_aware(value).timestamp()) for aid, value in marks.items()}


def _active_students(session: Session, aids: set[int]) -> set[Pair]:
    """(assignment, user) for every active student enrolment in those assignments' courses."""
    query = (
        select(Assignment.id, Enrolment.user_id, Enrolment.roles)
        .join(Enrolment, Enrolment.course_id == Assignment.course_id)
        .where(Assignment.id.in_(aids), Enrolment.status == "active", Enrolment.ended_at.is_(None))
    )
    return {(aid, uid) for aid, uid, roles in session.execute(query)
            if "student" in roles.split(",")}  # fmt: skip


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
