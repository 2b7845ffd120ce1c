"""Alerts: a failed or partial run reaches each administrator once a day per problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.errors import FatalError, SafetyValveError
from moodle_sync.ops.alerts import ALERT_KIND, plan_alerts, problem_of
from moodle_sync.pull.runner import SyncReport
from moodle_sync.push import DeliveryReport
from moodle_sync.push.planner import PlanReport
from moodle_sync.push.profile import ProfileReport
from moodle_sync.rules.policy import load_programme
from moodle_sync.run import PipelineReport
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, Settings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage
from tests.conftest import REPO, pipeline

NOW = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)
LONDON = ZoneInfo("Europe/London")
ADMINS = (2, 3)


def report(
    failed: dict[str, str] | None = None, in_doubt: int = 0, dry_run: bool = False
) -> PipelineReport:
    sync = SyncReport(
        7,
        "incremental",
        NOW,
        outcome="partial" if failed else "complete",
        failed_courses=failed or {},
    )
    delivery = DeliveryReport(in_doubt=in_doubt)
    return PipelineReport(
        sync,
        PlanReport(7, dry_run),
        delivery,
        ProfileReport(dry_run),
        NOW,
        dry_run,
    )


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'store.db'}")[1]


def settings(admins: tuple[int, ...] = ADMINS) -> Settings:
    return Settings(alerts={"admin_users": admins})


def alert_rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == ALERT_KIND)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def test_a_partial_run_plans_one_alert_per_admin_saying_what_to_do(
    sessions: sessionmaker[Session],
) -> None:
    failed = report({"CETAD-MPC": "no access to course 3"})
    assert plan_alerts(sessions, settings(), failed, NOW) == 2
    rows = alert_rows(sessions)
    assert [r.recipient_id for r in rows] == list(ADMINS)
    fingerprint = problem_of(failed).fingerprint  # type: ignore[union-attr]
    assert rows[0].key == f"a-2-{fingerprint}-20260302"
    text = rows[0].payload["text"]
    assert "run 7 partial" in text and "CETAD-MPC was not read: no access to course 3" in text
    assert "moodle-sync check" in text and rows[0].payload["html"].startswith("<p>")
    assert rows[0].state == "planned" and rows[0].send_after == NOW


@pytest.mark.parametrize(
    ("second", "later", "new"),
    [
        (report({"CETAD-MPC": "no access"}), dt.timedelta(hours=5), 0),  # same problem, same day
        (report({"CETAD-MPC": "timed out"}), dt.timedelta(hours=5), 0),  # same course, new words
        (report({"CETAD-MPC": "no access"}), dt.timedelta(days=1), 2),  # the next day
        (report({"CETAD-LOTC": "no access"}), dt.timedelta(hours=5), 2),  # another problem
        (report({"CETAD-MPC": "no access"}, in_doubt=3), dt.timedelta(hours=1), 2),
    ],
)
def test_the_same_problem_alerts_at_most_once_a_day(
    sessions: sessionmaker[Session], second: PipelineReport, later: dt.timedelta, new: int
) -> None:
    assert plan_alerts(sessions, settings(), report({"CETAD-MPC": "no access"}), NOW) == 2
    assert plan_alerts(sessions, settings(), second, NOW + later) == new
    assert len(alert_rows(sessions)) == 2 + new


@pytest.mark.parametrize(
    ("run", "admins"),
    [
        (report(), ADMINS),  # complete
        (report({"CETAD-MPC": "no access"}, dry_run=True), ADMINS),
        (report({"CETAD-MPC": "no access"}), ()),  # nobody to tell
    ],
)
def test_no_alert_for_a_complete_run_a_dry_run_or_no_admins(
    sessions: sessionmaker[Session], run: PipelineReport, admins: tuple[int, ...]
) -> None:
    assert plan_alerts(sessions, settings(admins), run, NOW) == 0
    assert alert_rows(sessions) == []


def test_a_run_that_stopped_on_a_fatal_error_alerts_with_the_error(
    sessions: sessionmaker[Session],
) -> None:
    error = FatalError("Moodle rejected the token", function="x", errorcode="invalidtoken")
    assert plan_alerts(sessions, settings((2,)), error, NOW) == 1
    [row] = alert_rows(sessions)
    assert "The run stopped: Moodle rejected the token" in row.payload["text"]
    assert plan_alerts(sessions, settings((2,)), error, NOW + dt.timedelta(hours=1)) == 0


def in_the_window(moment: dt.datetime) -> dt.datetime:
    """10:00 Europe/London on the same day: alerts, like every message, wait for the window."""
    london = moment.astimezone(LONDON)
    return dt.datetime.combine(london.date(), dt.time(10), LONDON).astimezone(dt.UTC)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def test_a_partial_pipeline_run_messages_the_admin_once_that_day(
    sandbox: Sandbox, sessions: sessionmaker[Session]
) -> None:
    admin = next(u for u in sandbox.state.users.values() if u.username != "ws_integration").id
    config = Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
        push={"templates_dir": REPO / "config" / "templates"},
        alerts={"admin_users": (admin,)},
    )
    programme = load_programme(REPO / "config" / "programme.toml")
    mpc = next(c for c in sandbox.state.courses.values() if c.idnumber == "CETAD-MPC")
    sandbox.state.revoke_course_access(INTEGRATION_TOKEN, mpc.id)
    now = in_the_window(dt.datetime.fromtimestamp(sandbox.state.clock(), dt.UTC))
    with Requester(config.require_moodle()) as requester:
        for hours in (0, 3):
            run = pipeline(
                config, programme, requester, sessions, now=now + dt.timedelta(hours=hours)
            )
            assert run.outcome == "partial"
    alerts = [m for m in sandbox.state.messages if m.clientmsgid and m.clientmsgid.startswith("a-")]
    assert len(alerts) == 1
    assert alerts[0].useridto == admin and "CETAD-MPC was not read" in alerts[0].text
    assert [r.state for r in alert_rows(sessions)] == ["sent"]


def test_a_pipeline_stopped_by_the_safety_valve_still_alerts_the_admins(
    sandbox: Sandbox, sessions: sessionmaker[Session]
) -> None:
    config = Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
        push={"templates_dir": REPO / "config" / "templates", "max_messages_per_run": 1},
        alerts={"admin_users": (17,)},
    )
    programme = load_programme(REPO / "config" / "programme.toml")
    now = in_the_window(dt.datetime.now(dt.UTC))
    with Requester(config.require_moodle()) as requester, pytest.raises(SafetyValveError):
        pipeline(config, programme, requester, sessions, now=now)
    [row] = alert_rows(sessions)
    assert row.recipient_id == 17 and "at most 1 may be sent" in row.payload["text"]
    assert row.state == "sent", "the alert gets through although the valve stopped the rest"
