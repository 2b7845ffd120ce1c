"""Confirming each student's own due date with mod_assign_get_participant before sending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.push.confirm import Answer, confirm
from moodle_sync.push.planner import plan
from moodle_sync.rules.policy import Programme
from moodle_sync.sandbox.server import Sandbox
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import DueDateOverride, OutboxMessage
from tests.push.conftest import StoreBuilder

MPC, LOG = 3, 3  # the sandbox's MPC course and its Reflective Learning Log
AMELIA, GRACE, TOMASZ, TUTOR = 5, 15, 16, 17  # Grace has her own due date; Tomasz is not in MPC
LONDON = ZoneInfo("Europe/London")


def epoch(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


@pytest.fixture
def base_due(store: StoreBuilder, sandbox: Sandbox) -> datetime:
    """The store as the pull leaves it: the log's base dates, and Tomasz still listed in MPC."""
    log = sandbox.state.assignments[LOG]
    store.course(MPC, "CETAD-MPC", "Models for Planning Change")
    for uid, first, last in ((AMELIA, "Amelia", "Hughes"), (GRACE, "Grace", "Thompson")):
        store.user(uid, first, last)
    store.user(TOMASZ, "Tomasz", "Nowak")
    store.user(TUTOR, "Tess", "Tutor")
    for uid in (AMELIA, GRACE, TOMASZ):
        store.enrol(uid, MPC)
    store.enrol(TUTOR, MPC, "editingteacher")
    due = epoch(log.duedate)
    assert due is not None
    store.assignment(LOG, MPC, log.name, due, cutoff=epoch(log.cutoffdate))
    return due


def two_days_before(due: datetime) -> datetime:
    day = due.astimezone(LONDON).date() - timedelta(days=2)
    return datetime(day.year, day.month, day.day, 10, tzinfo=LONDON).astimezone(UTC)


def outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_own_due_dates_are_confirmed_once_and_a_moved_one_is_replanned(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    base_due: datetime,
) -> None:
    now = two_days_before(base_due)
    first = plan(sessions, programme, push_settings, now, 1)
    assert {m["recipient_id"] for m in first.messages} == {AMELIA, GRACE, TOMASZ}
    cache: dict[tuple[int, int], Answer] = {}
    report = confirm(sessions, requester, programme, push_settings, now, 1, cache=cache)
    assert (report.checked, report.moved) == (3, 1)
    assert dict(report.cancel_reasons) == {"deadline_moved": 1, "usernotincourse": 1}
    own_due = base_due + timedelta(days=2)  # the sandbox's override for Grace: +5d, not +3d
    errors = {r.recipient_id: str(r.error) for r in outbox(sessions) if r.state == "cancelled"}
    assert errors[GRACE].startswith("deadline_moved") and own_due.isoformat() in errors[GRACE]
    assert errors[TOMASZ].startswith("usernotincourse")
    replanned = [r for r in outbox(sessions) if r.state == "planned" and r.recipient_id == GRACE]
    assert [r.deadline_at for r in replanned] == [own_due]
    assert report.replanned is not None and report.replanned.planned == 1
    with sessions() as session:
        stored = {
            (o.assignment_id, o.user_id): o.due_at for o in session.scalars(select(DueDateOverride))
        }
    assert stored == {(LOG, AMELIA): base_due, (LOG, GRACE): own_due}
    again = confirm(sessions, requester, programme, push_settings, now, 1, cache=cache)
    assert (again.checked, again.cached, again.cancelled) == (0, 2, 0)


def test_a_dry_run_asks_moodle_but_changes_nothing(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    base_due: datetime,
) -> None:
    now = two_days_before(base_due)
    plan(sessions, programme, push_settings, now, 1)
    before = [(r.key, r.state) for r in outbox(sessions)]
    report = confirm(sessions, requester, programme, push_settings, now, 1, dry_run=True)
    assert (report.checked, report.cancelled, report.replanned) == (3, 2, None)
    assert [(r.key, r.state) for r in outbox(sessions)] == before
    with sessions() as session:
        assert list(session.scalars(select(DueDateOverride))) == []
