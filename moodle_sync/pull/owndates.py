"""Each student's own dates, pulled for the pairs whose outcome depends on them.

Per-student overrides exist only in `mod_assign_get_participant` (trap 9), one student and
assignment per call, and core Moodle has no bulk read of them. So after the courses are
written, the store says which (assignment, student) pairs are *open*: their lateness, a
reminder, a draft warning or an overdue status would change with a different date
(`rules.reminders.own_dates_matter`). Only those are asked, in parallel, every run (a teacher
can add an override at any time without Moodle changing any `timemodified`); a pair whose mark
is released keeps its last answer. The answers are stored beside the pull (`OwnDates`), so
every later stage and every report reads the same dates. A pair Moodle does not answer for
is reported unconfirmed: its reminders are held until it does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.assignments import get_participant
from moodle_sync.client.models import Participant as Answer
from moodle_sync.cohort import Pair, open_pairs
from moodle_sync.errors import RetriableError, SkippableError
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import Assignment, OwnDates
from moodle_sync.store.upsert import upsert

NOT_IN_COURSE = "usernotincourse"


@dataclass
class OwnDatesReport:
    asked: int = 0  # calls made to Moodle
    overrides: int = 0  # answers whose dates differ from the assignment's
    not_participant: int = 0  # Moodle says the student is not part of the assignment
    unconfirmed: dict[Pair, str] = field(default_factory=dict)  # pair -> why Moodle did not say

    def as_dict(self) -> dict[str, Any]:
        unconfirmed = {f"{a}:{u}": why for (a, u), why in sorted(self.unconfirmed.items())}
        return {"asked": self.asked, "overrides": self.overrides,
                "not_participant": self.not_participant, "unconfirmed": unconfirmed}  # fmt: skip


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
