"""The worker: its schedule across a night and a day, `--once`, and a graceful SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.ops.scheduler import build_scheduler, missed_job, next_runs, once_job, schedule
from moodle_sync.pull import runner
from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox.faults import FaultPlan
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, Settings, WorkerSettings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import Enrolment, OutboxMessage, PipelineLock, SyncRun
from tests.conftest import REPO, pipeline

LONDON = ZoneInfo("Europe/London")
PROGRAMME = load_programme(REPO / "config" / "programme.toml")
SATURDAY = date(2025, 1, 4)


def at(day: date, hour: int, minute: int = 0, days: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON) + timedelta(days)


def names(runs: list[tuple[Any, datetime]]) -> list[tuple[str, str]]:
    return [(job.name, f"{when.astimezone(LONDON):%a %H:%M}") for job, when in runs]


def test_a_weekend_runs_nightly_then_hourly_in_the_send_window_with_sunday_full() -> None:
    runs = names(schedule(Settings(), PROGRAMME, at(SATURDAY, 0), at(SATURDAY, 0, days=2)))
    hourly = [
        [("hourly", f"{day} {hour:02}:00") for hour in range(8, 20)] for day in ("Sat", "Sun")
    ]
    assert runs == [("nightly-incremental", "Sat 02:00"), *hourly[0],
                    ("nightly-full", "Sun 02:00"), *hourly[1]]  # fmt: skip


@pytest.mark.parametrize(
    ("worker", "start", "expected"),
    [
        ({"hourly_in_send_window": False}, 0, [("nightly-incremental", "Sat 02:00"),
                                            ("nightly-full", "Sun 02:00")]),
        ({"hourly_in_send_window": False, "full_sync_weekday": "sat", "nightly_at": "23:30"}, 0,
         [("nightly-full", "Sat 23:30"), ("nightly-incremental", "Sun 23:30")]),
        ({"nightly_at": "19:00", "full_sync_weekday": "mon"}, 18,  # the nightly replaces 19:00
         [("hourly", "Sat 18:00"), ("nightly-incremental", "Sat 19:00")]),
    ],
)  # fmt: skip
def test_the_schedule_follows_the_worker_settings(
    worker: dict[str, Any], start: int, expected: list[tuple[str, str]]
) -> None:
    settings = Settings(worker=WorkerSettings(**worker))
    runs = names(schedule(settings, PROGRAMME, at(SATURDAY, start), at(SATURDAY, 0, days=2)))
    assert runs[: len(expected)] == expected


@pytest.mark.parametrize("sunday", [date(2025, 3, 30), date(2025, 10, 26)])
def test_the_full_sync_runs_once_on_the_nights_the_clocks_change(sunday: date) -> None:
    runs = schedule(Settings(), PROGRAMME, at(sunday, 0), at(sunday, 6))
    assert names(runs) == [("nightly-full", "Sun 02:00")]


def test_next_runs_lists_each_job_once_soonest_first() -> None:
    runs = names(next_runs(Settings(), at(SATURDAY, 21), PROGRAMME))
    assert runs == [("nightly-full", "Sun 02:00"), ("hourly", "Sun 08:00"),
                    ("nightly-incremental", "Mon 02:00")]  # fmt: skip


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(SATURDAY, 2, 0, days=1), "nightly-full"),
        (at(SATURDAY, 1, 59, days=1), "nightly-full"),  # cron a few seconds early
        (at(SATURDAY, 2, 50, days=1), "nightly-full"),  # late, within the grace time
        (at(SATURDAY, 10, 0, days=1), "hourly"),
        (at(SATURDAY, 2, 0, days=2), "nightly-incremental"),
        (at(SATURDAY, 23, 0, days=1), "incremental"),  # nothing due: an incremental run
    ],
)
def test_once_runs_what_the_schedule_says_is_due(now: datetime, expected: str) -> None:
    job = once_job(Settings(), PROGRAMME, now)
    assert (job.name, job.full) == (expected, expected == "nightly-full")


@pytest.mark.parametrize(
    ("now", "last_started", "expected"),
    [
        (at(SATURDAY, 2, 30, days=1), None, "nightly-full"),
        (at(SATURDAY, 2, 30, days=1), at(SATURDAY, 20), "nightly-full"),
        (at(SATURDAY, 2, 30, days=1), at(SATURDAY, 2, 10, days=1), None),  # it ran
        (at(SATURDAY, 4, 0, days=1), None, None),  # beyond the grace time: wait for the next
        (at(SATURDAY, 9, 30, days=1), at(SATURDAY, 8, 1, days=1), "hourly"),
    ],
)
def test_a_restarted_worker_catches_up_a_run_missed_within_the_grace_time(
    now: datetime, last_started: datetime | None, expected: str | None
) -> None:
    job = missed_job(Settings(), PROGRAMME, now, last_started)
    assert (job.name if job else None) == expected


# --- against the sandbox ---------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path}/db.sqlite")[1]


def sandbox_settings(sandbox: Sandbox) -> Settings:
    return Settings(moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
                    push={"templates_dir": REPO / "config" / "templates"})  # fmt: skip


def runs(sessions: sessionmaker[Session]) -> list[SyncRun]:
    with sessions() as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def test_a_scheduled_job_runs_the_pipeline_through_apscheduler(
    sandbox: Sandbox, sessions: sessionmaker[Session]
) -> None:
    scheduler = build_scheduler(sandbox_settings(sandbox), PROGRAMME, sessions, threading.Event())
    done: list[JobExecutionEvent] = []
    scheduler.add_listener(done.append, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        for job in scheduler.get_jobs():
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)
        scheduler.modify_job("nightly-full", next_run_time=datetime.now(UTC))
        deadline = time.monotonic() + 30
        while not done and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert [event.exception for event in done] == [None]
    assert [(run.kind, run.outcome) for run in runs(sessions)] == [("full", "complete")]


def test_a_stop_between_transactions_leaves_each_course_written_or_untouched(
    sandbox: Sandbox, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "COURSES_PER_TRANSACTION", 3)
    asked = iter([False, False])  # before the read, before the first 3 courses; then stop
    settings = sandbox_settings(sandbox)
    with Requester(settings.require_moodle()) as requester:
        report = pipeline(settings, PROGRAMME, requester, sessions,
                              should_stop=lambda: next(asked, True))  # fmt: skip
        stopped = {i for i, why in report.sync.failed_courses.items() if why == runner.STOPPED}
        written = enrolled_courses(sessions)
        assert (report.outcome, report.stopped, len(stopped), len(written)) == (
            "partial",
            True,
            4,
            3,
        )
        assert runs(sessions)[-1].outcome == "partial"
        assert outbox_rows(sessions) == 0, "nothing is planned after a stop"
        again = pipeline(settings, PROGRAMME, requester, sessions)
    assert again.outcome == "complete" and len(enrolled_courses(sessions)) == 7


def enrolled_courses(sessions: sessionmaker[Session]) -> set[int]:
    with sessions() as session:
        return set(session.scalars(select(Enrolment.course_id).distinct()))


def outbox_rows(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(OutboxMessage)).all())


# --- the command, in real processes ------------------------------------------------------


def worker_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    from tests.test_end_to_end import cli_env

    return cli_env(sandbox, tmp_path)


def test_once_runs_one_cycle_and_exits_with_its_code(sandbox: Sandbox, tmp_path: Path) -> None:
    from tests.test_cli import run_cli

    result = run_cli("worker", "--once", env=worker_env(sandbox, tmp_path))
    assert result.returncode == 0, result.stderr
    stored = runs(open_database(f"sqlite:///{tmp_path}/db.sqlite")[1])
    expected = once_job(Settings(), PROGRAMME, datetime.now(UTC))
    assert [(r.kind, r.outcome) for r in stored] == [
        ("full" if expected.full else "incremental", "complete")
    ]


@pytest.mark.parametrize("mode", [["--once"], []])
def test_sigterm_mid_run_exits_0_with_consistent_data(mode: list[str], tmp_path: Path) -> None:
    with start_sandbox(faults=FaultPlan(latency_ms=150)) as sandbox:
        env = worker_env(sandbox, tmp_path)
        sessions = open_database(f"sqlite:///{tmp_path}/db.sqlite")[1]
        if not mode:  # the long-running worker: a run missed a minute ago is caught up at once
            env["MOODLE_SYNC_WORKER__NIGHTLY_AT"] = (
                f"{datetime.now(LONDON) - timedelta(minutes=1):%H:%M}"
            )
            env["MOODLE_SYNC_WORKER__HOURLY_IN_SEND_WINDOW"] = "false"
        process = start_worker(mode, env, tmp_path)
        wait_for(lambda: bool(runs(sessions)), process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
    run = runs(sessions)[-1]
    assert run.outcome == "partial" and run.finished_at is not None
    failed = run.problems["failed_courses"]
    written = enrolled_courses(sessions)
    assert len(written) + len(failed) == 7 and set(failed.values()) == {runner.STOPPED}
    with sessions() as session:
        assert session.scalars(select(PipelineLock)).all() == [], "the lock was released"


def start_worker(mode: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")}
    with (tmp_path / "worker.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "moodle_sync", "worker", *mode],
                                env={**clean, **env}, cwd=REPO, stdout=log, stderr=log)  # fmt: skip


def wait_for(condition: Any, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert process.poll() is None, f"the worker exited early with {process.returncode}"
        assert time.monotonic() < deadline, "the worker never started a run"
        time.sleep(0.1)
