"""Confirm a student's own due date with Moodle just before their reminder goes out.

Per-student overrides exist only in `mod_assign_get_participant` (trap 9), one student per
call, so they cannot be pulled for everyone. Instead each candidate (a planned student
reminder whose time has come) is checked once per run, in parallel. The answer is stored in
DueDateOverride; when it moves the deadline the stale reminders are cancelled and the planner
runs again, which plans the new deadline's reminders under new keys. When Moodle does not
answer for a student (course inaccessible, a refused call) the reminder is held back for
`HOLD` rather than sent with a deadline that may be wrong; a later run asks again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.assignments import get_participant
from moodle_sync.client.models import Participant as OwnDates
from moodle_sync.errors import SkippableError
from moodle_sync.push.facts import own_dates
from moodle_sync.push.planner import DIGEST_KIND, PlanReport, cancel_rows, plan
from moodle_sync.rules.deadlines import effective_deadline
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import Assignment, DueDateOverride, OutboxMessage, UserFlags
from moodle_sync.store.upsert import upsert

Pair = tuple[int, int]  # (assignment id, user id)
HOLD = dt.timedelta(minutes=5)  # an unconfirmed reminder waits at least this long
Answer = OwnDates | SkippableError


@dataclass
class ConfirmReport:
    checked: int = 0  # calls made to Moodle
    cached: int = 0  # candidates answered from this run's cache
    moved: int = 0  # students whose own dates differ from what was planned
    cancelled: int = 0
    cancel_reasons: Counter[str] = field(default_factory=Counter)
    unconfirmed: dict[str, str] = field(default_factory=dict)  # key -> why Moodle did not say
    replanned: PlanReport | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "replanned"}
        out["cancel_reasons"] = dict(self.cancel_reasons)
        out["replanned"] = self.replanned.as_dict() if self.replanned else None
        return out


def confirm(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    now: dt.datetime,
    run_id: int | None,
    *,
    cache: dict[Pair, Answer] | None = None,
    dry_run: bool = False,
    site_url: str = "",
) -> ConfirmReport:
    """Check every due student reminder's own dates; cancel and re-plan where they moved.

    `cache` (one per run) keeps Moodle's answers so a student is asked at most once a run.
    """
    cache = {} if cache is None else cache
    report = ConfirmReport()
    with sessions() as session:
        rows = _candidates(session, now)
        pairs = sorted({(r.assignment_id, r.recipient_id) for r in rows})
        asked = [p for p in pairs if p not in cache]
        report.checked, report.cached = len(asked), len(pairs) - len(asked)
        answers = requester.map(lambda p: _ask(requester, p), asked)
        cache.update(zip(asked, answers, strict=True))
        used = _used_dates(session, pairs)
        cancels = _judge(rows, {p: cache[p] for p in pairs}, used, report)
        if not dry_run:
            _store(session, {p: cache[p] for p in pairs}, now)
            cancel_rows(session, cancels, now)
            _hold(session, [r.id for r in rows if r.key in report.unconfirmed], now)
            session.commit()
    if report.moved and not dry_run:
        report.replanned = plan(sessions, programme, push_settings, now, run_id, site_url=site_url)
    return report


def _candidates(session: Session, now: dt.datetime) -> list[Any]:
    """Planned student reminders whose send time has come."""
    o = OutboxMessage
    return list(
        session.execute(
            select(o.id, o.key, o.recipient_id, o.assignment_id, o.deadline_at).where(
                o.state == "planned",
                o.kind != DIGEST_KIND,
                o.assignment_id.is_not(None),
                o.send_after <= now,
            )
        ).all()
    )


def _ask(requester: Requester, pair: Pair) -> Answer:
    """Calls: mod_assign_get_participant. A skippable refusal is an answer too."""
    try:
        return get_participant(requester, *pair)
    except SkippableError as exc:
        return exc


@dataclass(frozen=True)
class _Used:
    due: dt.datetime | None
    cutoff: dt.datetime | None
    extension: dt.datetime | None


def _used_dates(session: Session, pairs: list[Pair]) -> dict[Pair, _Used]:
    """The dates the planner used for each pair: one query per table, over the pairs' work."""
    ids = sorted({a for a, _ in pairs})
    assignments = {
        row.id: row
        for row in session.execute(
            select(Assignment.id, Assignment.due_at, Assignment.cutoff_at)
            .add_columns(Assignment.time_modified)
            .where(Assignment.id.in_(ids))
        )
    }
    o, f = DueDateOverride, UserFlags
    own = session.execute(select(o).where(o.assignment_id.in_(ids))).scalars()
    owns = {(r.assignment_id, r.user_id): r for r in own}
    flags = session.execute(select(f).where(f.assignment_id.in_(ids))).scalars()
    extensions = {(r.assignment_id, r.user_id): r.extension_due_at for r in flags}
    out = {}
    for pair in pairs:
        if pair[0] in assignments:
            due, cutoff = own_dates(assignments[pair[0]], owns.get(pair))
            out[pair] = _Used(due, cutoff, extensions.get(pair))
    return out


def _judge(
    rows: list[Any], answers: dict[Pair, Answer], used: dict[Pair, _Used], report: ConfirmReport
) -> list[tuple[int, str]]:
    """(row id, reason) for each reminder Moodle's answer makes wrong; counts in `report`."""
    cancels: list[tuple[int, str]] = []
    moved: set[Pair] = set()
    for row in rows:
        pair = (row.assignment_id, row.recipient_id)
        answer, dates = answers[pair], used.get(pair)
        reason = _reason(row, answer, dates)
        if isinstance(answer, SkippableError) and reason is None:
            report.unconfirmed[row.key] = f"{answer.errorcode}: {answer}"
        if _moved(answer, dates):
            moved.add(pair)
        if reason is not None:
            cancels.append((row.id, reason))
            report.cancel_reasons[reason.split(":", 1)[0]] += 1
    report.moved, report.cancelled = len(moved), len(cancels)
    return cancels


def _moved(answer: Answer, dates: _Used | None) -> bool:
    """Moodle's own dates for the student differ from those the planner used."""
    if dates is None or not isinstance(answer, OwnDates):
        return False
    return (answer.duedate, answer.cutoffdate) != (dates.due, dates.cutoff)


def _reason(row: Any, answer: Answer, dates: _Used | None) -> str | None:
    if isinstance(answer, SkippableError):
        if answer.errorcode != "usernotincourse":
            return None
        return f"usernotincourse: Moodle says user {row.recipient_id} is not in the course"
    if answer.submitted:
        return "work_submitted: Moodle says it is submitted (confirmed before sending)"
    extension = dates.extension if dates else None
    deadline = effective_deadline(answer.duedate, extension)
    if deadline != row.deadline_at:
        shown = deadline.isoformat() if deadline else "none"
        return (
            f"deadline_moved: Moodle gives this student the deadline {shown}, "
            f"not {row.deadline_at.isoformat() if row.deadline_at else 'none'} (own due date)"
        )
    return None


def _hold(session: Session, ids: list[int], now: dt.datetime) -> None:
    """Move unconfirmed reminders' send time past this run: sent only once confirmed."""
    if ids:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(send_after=now + HOLD)
        )


def _store(session: Session, answers: dict[Pair, Answer], now: dt.datetime) -> None:
    rows = [
        {
            "assignment_id": aid,
            "user_id": uid,
            "due_at": answer.duedate,
            "cutoff_at": answer.cutoffdate,
            "checked_at": now,
        }
        for (aid, uid), answer in answers.items()
        if isinstance(answer, OwnDates)
    ]
    upsert(session, DueDateOverride, rows)
