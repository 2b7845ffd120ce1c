"""The planner: the right reminders at the right times, cancellations with reasons, digests."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.cohort.facts import evaluate_store
from moodle_sync.push.planner import PlanReport, make_plan, write_plan
from moodle_sync.push.render import Renderer
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import OutboxMessage
from tests.push.conftest import StoreBuilder

LONDON = ZoneInfo("Europe/London")
MPC, OCVB = 3, 4
TUTOR, AMELIA, BEN = 17, 5, 6
ESSAY, REPORT = 2, 7
DUE = datetime(2025, 12, 5, 12, tzinfo=UTC)  # Friday 5 December 2025, 12:00 GMT
SITE = "https://moodle.example.ac.uk"
KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def cohort(store: StoreBuilder) -> StoreBuilder:
    """MPC with one tutor and two students, and an essay due Friday 5 December at noon."""
    store.course(MPC, "CETAD-MPC", "Models for Planning Change")
    for uid, first, last in ((TUTOR, "Tess", "Tutor"), (AMELIA, "Amelia", "Hughes")):
        store.user(uid, first, last)
    store.user(BEN, "Ben", "Okafor")
    store.enrol(TUTOR, MPC, "editingteacher")
    store.enrol(AMELIA, MPC)
    store.enrol(BEN, MPC)
    store.assignment(ESSAY, MPC, "MPC Essay", DUE)
    return store


Run = Callable[..., PlanReport]


@pytest.fixture
def run(sessions: sessionmaker[Session], programme: Programme, push_settings: PushSettings) -> Run:
    def go(
        now: datetime, settings: PushSettings = push_settings, dry_run: bool = False
    ) -> PlanReport:
        """The planning stage of a run at `now` (dry: the same, rolled back)."""
        with sessions() as session:
            evaluation = evaluate_store(session, programme, now, settings.interrupted_users)
        plan = make_plan(evaluation, settings.opt_out_users)
        renderer = Renderer(settings.templates_dir, programme, SITE)
        with sessions.begin() as session:
            report = write_plan(session, plan, renderer, now, 1, dry_run=dry_run)
            if dry_run:
                session.rollback()
            return report

    return go


def rows(sessions: sessionmaker[Session]) -> dict[str, OutboxMessage]:
    with sessions() as session:
        return {row.key: row for row in session.scalars(select(OutboxMessage))}


def deliver(sessions: sessionmaker[Session], now: datetime) -> None:
    """Stand in for the delivery half: every planned row whose time has come is sent."""
    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "planned", OutboxMessage.send_after <= now)
            .values(state="sent", sent_at=now)
        )


def steps_for(report: PlanReport, user: int) -> list[str]:
    return [m["kind"] for m in report.messages if m["recipient_id"] == user]


@pytest.mark.usefixtures("cohort")
def test_each_reminder_arrives_on_its_day_over_a_fortnight(
    run: Run, sessions: sessionmaker[Session], store: StoreBuilder
) -> None:
    expected = {
        date(2025, 11, 28): ["before_7d"],
        date(2025, 12, 3): ["before_2d"],
        date(2025, 12, 5): ["due_today"],
        date(2025, 12, 6): ["overdue_1d"],
        date(2025, 12, 8): ["overdue_3d"],
    }
    seen: dict[date, list[str]] = {}
    ben: list[str] = []
    for offset in range(16):
        day = date(2025, 11, 24) + timedelta(days=offset)
        report = run(at(day))
        if steps := steps_for(report, AMELIA):
            seen[day] = steps
        ben += steps_for(report, BEN)
        deliver(sessions, at(day))
        if day == date(2025, 12, 4):
            store.submit(ESSAY, BEN, at=at(day, 11))
    assert seen == expected
    assert ben == ["before_7d", "before_2d"]  # nothing after Ben submitted


@pytest.mark.usefixtures("cohort")
def test_a_rerun_plans_nothing_new(run: Run) -> None:
    first = run(at(date(2025, 12, 3)))
    again = run(at(date(2025, 12, 3), 11))
    assert first.planned == 2  # both students' before_2d; the tutor has nothing to read yet
    assert (again.planned, again.already_known, again.cancelled) == (0, 2, 0)


@pytest.mark.usefixtures("cohort")
def test_the_planned_row_keeps_the_outbox_contract(
    run: Run, sessions: sessionmaker[Session]
) -> None:
    run(at(date(2025, 12, 3)))
    row = rows(sessions)["r-5-2-before_2d-20251205T120000Z"]
    assert (row.state, row.kind, row.recipient_id, row.assignment_id) == (
        "planned",
        "before_2d",
        AMELIA,
        ESSAY,
    )
    assert (row.deadline_at, row.send_after, row.run_id) == (DUE, at(date(2025, 12, 3), 9), 1)
    for key, message in rows(sessions).items():
        assert KEY.match(key)
        assert message.payload["text"].endswith(f"\nRef: {key}")
        assert message.payload["html"].endswith(f"<p>Ref: {key}</p>")
    assert f"{SITE}/mod/assign/view.php?id=102" in row.payload["text"]


def suspend(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    store.enrol(AMELIA, MPC, status="suspended")
    return settings


def unenrol(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    store.enrol(AMELIA, MPC, ended_at=at(date(2025, 12, 3), 10))
    return settings


def suspend_in_one_course(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    store.course(OCVB, "CETAD-OCVB", "Organisations: Culture, Values and Behaviours")
    store.enrol(AMELIA, OCVB)
    return suspend(store, settings)


def interrupt(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    return settings.model_copy(update={"interrupted_users": (AMELIA,)})


def opt_out(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    return settings.model_copy(update={"opt_out_users": (AMELIA,)})


def submit(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    store.submit(ESSAY, AMELIA, at=at(date(2025, 12, 3), 10))
    return settings


def grade(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    store.grade(ESSAY, AMELIA, Decimal(0))
    return settings


def delete(store: StoreBuilder, settings: PushSettings) -> PushSettings:
    store.assignment(ESSAY, MPC, "MPC Essay", DUE, deleted_at=at(date(2025, 12, 3), 10))
    return settings


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (suspend, "withdrawn"),
        (unenrol, "withdrawn"),
        (suspend_in_one_course, "enrolment_inactive"),
        (interrupt, "interrupted"),
        (opt_out, "opted_out"),
        (submit, "work_submitted"),
        (grade, "work_graded"),
        (delete, "assignment_deleted"),
    ],
)
@pytest.mark.usefixtures("cohort")
def test_a_planned_reminder_whose_reason_has_gone_is_cancelled_and_not_replanned(
    run: Run,
    sessions: sessionmaker[Session],
    store: StoreBuilder,
    push_settings: PushSettings,
    change: Callable[[StoreBuilder, PushSettings], PushSettings],
    reason: str,
) -> None:
    key = "r-5-2-before_2d-20251205T120000Z"
    run(at(date(2025, 12, 3), 9))
    settings = change(store, push_settings)
    report = run(at(date(2025, 12, 3), 11), settings)
    assert set(report.cancel_reasons) == {reason}
    row = rows(sessions)[key]
    assert (row.state, str(row.error).split(":")[0]) == ("cancelled", reason)
    later = run(at(date(2025, 12, 5), 10), settings)
    assert steps_for(later, AMELIA) == []


@pytest.mark.usefixtures("cohort")
def test_rows_in_other_states_are_never_touched(run: Run, sessions: sessionmaker[Session]) -> None:
    run(at(date(2025, 12, 3)))
    with sessions.begin() as session:
        session.execute(update(OutboxMessage).values(state="sending"))
    store_change = run(at(date(2025, 12, 3), 11), PushSettings(opt_out_users=(AMELIA,)))
    assert store_change.cancelled == 0
    assert {row.state for row in rows(sessions).values()} == {"sending"}


@pytest.mark.usefixtures("cohort")
def test_an_extension_cancels_the_reminder_and_reschedules_for_the_new_deadline(
    run: Run, sessions: sessionmaker[Session], store: StoreBuilder
) -> None:
    run(at(date(2025, 12, 3)))
    store.flags(ESSAY, AMELIA, extension=DUE + timedelta(days=7))
    moved = run(at(date(2025, 12, 3), 11))
    old = rows(sessions)["r-5-2-before_2d-20251205T120000Z"]
    assert (old.state, moved.cancel_reasons) == ("cancelled", {"deadline_moved": 1})
    assert steps_for(moved, AMELIA) == []  # 12 December is more than two days away
    week_before = run(at(date(2025, 12, 5)))
    new = rows(sessions)["r-5-2-before_7d-20251212T120000Z"]
    assert (steps_for(week_before, AMELIA), new.deadline_at) == (["before_7d"], DUE + timedelta(7))
    assert "You have an extension" in new.payload["text"]


@pytest.mark.usefixtures("cohort")
def test_an_unsent_reminder_is_superseded_by_the_next_step(
    run: Run, sessions: sessionmaker[Session]
) -> None:
    run(at(date(2025, 11, 28)))
    report = run(at(date(2025, 12, 3)))
    assert report.cancel_reasons["superseded"] == 2  # both students' before_7d
    assert steps_for(report, AMELIA) == ["before_2d"]


@pytest.mark.usefixtures("cohort")
def test_outside_the_send_window_a_reminder_waits_for_the_next_opening(run: Run) -> None:
    report = run(at(date(2025, 12, 3), 21))
    sends = {m["send_after"] for m in report.messages}
    assert sends == {at(date(2025, 12, 4), 8).isoformat()}
    assert all(m["recipient_id"] != TUTOR for m in report.messages)  # no digest at night


@pytest.mark.usefixtures("cohort")
def test_a_dry_run_reports_the_full_text_and_changes_nothing(
    run: Run, sessions: sessionmaker[Session]
) -> None:
    run(at(date(2025, 11, 28)))
    before = {key: row.state for key, row in rows(sessions).items()}
    report = run(at(date(2025, 12, 3)), dry_run=True)
    assert (report.planned, report.cancelled) == (2, 2)
    assert "Ref: r-5-2-before_2d-20251205T120000Z" in report.messages[0]["text"]
    assert {key: row.state for key, row in rows(sessions).items()} == before


@pytest.mark.usefixtures("cohort")
def test_a_tutor_gets_one_digest_a_day_grouped_by_course_and_student(
    run: Run, sessions: sessionmaker[Session], store: StoreBuilder
) -> None:
    store.course(OCVB, "CETAD-OCVB", "Organisations: Culture, Values and Behaviours")
    store.enrol(TUTOR, OCVB, "teacher")
    store.enrol(AMELIA, OCVB)
    store.assignment(REPORT, OCVB, "OCVB Report", DUE - timedelta(days=2))
    store.submit(ESSAY, BEN, at=DUE - timedelta(days=1))
    monday = date(2025, 12, 8)
    counts = [run(at(monday, hour)).planned for hour in (9, 12, 15)]
    digests = [row for row in rows(sessions).values() if row.kind == "tutor_digest"]
    assert len(digests) == 1 and digests[0].recipient_id == TUTOR
    text = digests[0].payload["text"]
    assert text.index("MPC: Models for Planning Change") < text.index("OCVB: Organisations")
    assert "MPC Essay: 3 days overdue, not submitted" in text
    assert "OCVB Report: 5 days overdue, not submitted" in text
    assert "Ben Okafor (On track)" in text and "MPC Essay: submitted, awaiting marking" in text
    assert text.count("Amelia Hughes (At risk)") == 2  # once under each course
    assert counts[1:] == [0, 0]
    run(at(monday + timedelta(days=1), 9))
    assert sum(row.kind == "tutor_digest" for row in rows(sessions).values()) == 2


@pytest.mark.usefixtures("cohort")
def test_no_digest_when_there_is_nothing_to_report(run: Run) -> None:
    report = run(at(date(2025, 11, 20)))  # nothing due, submitted or overdue yet
    assert report.messages == []
