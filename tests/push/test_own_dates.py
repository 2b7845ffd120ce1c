"""Students' own dates: asked of Moodle for the pairs whose outcome depends on them, kept in
the store with the pull, and read by every stage from there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.cohort.facts import evaluate_store
from moodle_sync.pull.core_source import refresh_own_dates
from moodle_sync.rules.policy import Programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox
from moodle_sync.store.tables import OwnDates
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
    for uid, first, last in ((AMELIA, "Amelia", "Hughes"), (GRACE, "Grace", "Thompson"),
                             (TOMASZ, "Tomasz", "Nowak"), (TUTOR, "Tess", "Tutor")):  # fmt: skip
        store.user(uid, first, last)
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


def stored(sessions: sessionmaker[Session]) -> dict[int, OwnDates]:
    with sessions() as session:
        return {o.user_id: o for o in session.scalars(select(OwnDates))}


def test_open_pairs_are_asked_and_an_override_is_kept_as_the_students_own_date(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    base_due: datetime,
) -> None:
    report = refresh_own_dates(requester, sessions, programme, two_days_before(base_due))
    assert (report.asked, report.overrides, report.not_participant) == (3, 1, 1)
    answers = stored(sessions)
    own_due = base_due + timedelta(days=2)  # the sandbox's override for Grace: +5d, not +3d
    assert (answers[GRACE].due_at, answers[GRACE].due_overridden) == (own_due, True)
    assert answers[AMELIA].due_overridden is False
    assert answers[TOMASZ].participant is False
    with sessions() as session:
        evaluation = evaluate_store(session, programme, two_days_before(base_due))
    deadlines = {uid: r.assessments[0].deadline if r.assessments else None
                 for uid, r in evaluation.results.items()}  # fmt: skip
    assert deadlines == {AMELIA: base_due, GRACE: own_due, TOMASZ: None}


def test_an_override_outlives_a_teacher_moving_the_assignment_and_no_two_clocks_are_compared(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    store: StoreBuilder,
    base_due: datetime,
) -> None:
    """The old rule dropped a student's own date when the assignment's `timemodified` (Moodle's
    clock) was later than our `checked_at` (ours): a sandbox clock ahead lost the override."""
    now = two_days_before(base_due)
    refresh_own_dates(requester, sessions, programme, now)
    moved = base_due + timedelta(days=1)
    ahead = datetime.now(UTC) + timedelta(days=30)  # Moodle's clock far ahead of ours
    store.assignment(LOG, MPC, "MPC Reflective Learning Log", moved, modified=ahead)
    with sessions() as session:
        evaluation = evaluate_store(session, programme, now)
    assert evaluation.results[GRACE].assessments[0].deadline == base_due + timedelta(days=2)
    assert evaluation.results[AMELIA].assessments[0].deadline == moved


def test_a_released_mark_keeps_its_last_answer_and_is_not_asked_again(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    store: StoreBuilder,
    base_due: datetime,
) -> None:
    now = base_due + timedelta(days=1)  # overdue for everyone: all three open
    assert refresh_own_dates(requester, sessions, programme, now).asked == 3
    store.submit(LOG, AMELIA, at=base_due + timedelta(hours=5))
    store.grade(LOG, AMELIA, Decimal(64))
    again = refresh_own_dates(requester, sessions, programme, now)
    assert again.asked == 2  # Grace and Tomasz, still open
    assert AMELIA in stored(sessions)


def test_work_handed_in_on_time_by_the_assignments_date_is_not_asked_about(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    store: StoreBuilder,
    base_due: datetime,
) -> None:
    store.submit(LOG, AMELIA, at=base_due - timedelta(days=1))
    store.submit(LOG, GRACE, at=base_due + timedelta(days=1))  # late by the base date only
    report = refresh_own_dates(requester, sessions, programme, base_due + timedelta(days=1))
    assert report.asked == 2  # Grace (late by the base date) and Tomasz (missing)
    with sessions() as session:
        evaluation = evaluate_store(session, programme, base_due + timedelta(days=2))
    grace = evaluation.results[GRACE].assessments[0]
    assert grace.lateness.state == "on_time"  # her own date (+2 days) makes it on time


def test_a_pair_moodle_does_not_answer_for_is_unconfirmed(
    sessions: sessionmaker[Session],
    make_requester: object,
    sandbox: Sandbox,
    programme: Programme,
    base_due: datetime,
) -> None:
    sandbox.state.revoke_course_access(INTEGRATION_TOKEN, MPC)
    requester = make_requester()  # type: ignore[operator]
    report = refresh_own_dates(requester, sessions, programme, two_days_before(base_due))
    assert set(report.unconfirmed) == {(LOG, AMELIA), (LOG, GRACE), (LOG, TOMASZ)}
    assert all(why.startswith("requireloginerror") for why in report.unconfirmed.values())
    assert stored(sessions) == {}
