"""One pipeline at a time: in one process, between real processes, and after a holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moodle_sync.errors import LockHeldError
from moodle_sync.ops.lock import current_holder, pipeline_lock
from moodle_sync.settings import Settings, WorkerSettings
from moodle_sync.store.db import create_db_engine, open_database
from moodle_sync.store.tables import PipelineLock, SyncRun
from tests.conftest import REPO

HOLDER_SCRIPT = """
import sys, time
from moodle_sync.ops.lock import pipeline_lock
from moodle_sync.settings import Settings, WorkerSettings
from moodle_sync.store.db import create_db_engine
worker = WorkerSettings().model_copy(update={"lock_lease_seconds": float(sys.argv[2])})
with pipeline_lock(create_db_engine(sys.argv[1]), Settings(worker=worker), "holder script"):
    print("held", flush=True)
    time.sleep(120)
"""


def settings(wait: float = 0, lease: float = 300) -> Settings:
    """Lease lengths under the settings' 30 s minimum keep these tests fast."""
    return Settings(worker=WorkerSettings(lock_wait_seconds=wait).model_copy(
        update={"lock_lease_seconds": lease}))  # fmt: skip


@pytest.fixture
def url(database_url: str) -> str:
    open_database(database_url)[0].dispose()
    return database_url


@pytest.fixture
def holder(url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process that takes the lock (a 2 s SQLite lease) and keeps it until killed."""
    out = tmp_path / "holder.out"
    with out.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-c", HOLDER_SCRIPT, url, "2"], cwd=REPO,
                                   stdout=sink, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 20
    while b"held" not in out.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, "holder never took it"
        time.sleep(0.05)
    yield process
    process.kill()
    process.wait()


def test_a_second_runner_is_refused_naming_the_holder_and_since_when(url: str) -> None:
    engine = create_db_engine(url)
    with pipeline_lock(engine, settings(), "moodle-sync run"):
        second = pipeline_lock(engine, settings(), "moodle-sync sync")
        with pytest.raises(LockHeldError) as refused, second:
            pytest.fail("two runners held the lock at once")
        held = current_holder(engine)
    assert held is not None and "moodle-sync run (host " in held.holder
    assert f"pid {os.getpid()})" in str(refused.value) and " since 20" in str(refused.value)
    assert current_holder(engine) is None, "released at the end of the block"


def test_a_waiting_runner_proceeds_when_the_holder_finishes(url: str) -> None:
    engine, taken = create_db_engine(url), threading.Event()

    def hold_for_a_second() -> None:
        with pipeline_lock(engine, settings(), "first"):
            taken.set()
            time.sleep(1)

    first = threading.Thread(target=hold_for_a_second)
    first.start()
    taken.wait(10)
    started = time.monotonic()
    with pipeline_lock(engine, settings(wait=10), "second"):
        waited = time.monotonic() - started
        assert current_holder(engine).holder.startswith("second")  # type: ignore[union-attr]
    first.join()
    assert 0.5 < waited < 5


def test_the_heartbeat_keeps_a_live_holders_sqlite_lease(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/db.sqlite")
    open_database(f"sqlite:///{tmp_path}/db.sqlite")
    with pipeline_lock(engine, settings(lease=0.6), "long run") as lease:
        time.sleep(1.5)  # more than twice the lease: only renewal keeps it
        with (
            pytest.raises(LockHeldError, match="long run"),
            pipeline_lock(engine, settings(), "intruder"),
        ):
            pytest.fail("the intruder took a live lease")
        assert not lease.lost


def test_an_expired_sqlite_lease_is_taken_over_and_its_holder_told(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/db.sqlite")
    open_database(f"sqlite:///{tmp_path}/db.sqlite")
    stalled = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
    with pipeline_lock(engine, settings(lease=0.6), "stalled", clock=lambda: stalled) as old:
        later = stalled + timedelta(minutes=5)
        with pipeline_lock(engine, settings(), "next run", clock=lambda: later):
            deadline = time.monotonic() + 5
            while not old.lost and time.monotonic() < deadline:
                time.sleep(0.05)
            assert old.lost, "the stalled holder's heartbeat must notice the takeover"
            held = current_holder(engine, clock=lambda: later)
            assert held is not None and held.holder.startswith("next run")
    with engine.connect() as connection:
        assert connection.execute(select(PipelineLock)).all() == []


def test_a_runner_in_another_process_exits_4_naming_the_holder(
    url: str, holder: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    """`sync` asks the site who it is first (benchmarks/bench_startup), then meets the lock."""
    from moodle_sync.sandbox.server import INTEGRATION_TOKEN, start_sandbox
    from tests.test_cli import run_cli

    (tmp_path / "none.toml").write_text("")
    with start_sandbox() as sandbox:
        env = {"MOODLE_SYNC_CONFIG": str(tmp_path / "none.toml"), "MOODLE_SYNC_DATABASE__URL": url,
               "MOODLE_SYNC_MOODLE__URL": sandbox.url,
               "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
               "MOODLE_SYNC_PROGRAMME_FILE": str(REPO / "config" / "programme.toml")}  # fmt: skip
        result = run_cli("sync", env=env)
    assert result.returncode == 4, result.stderr
    assert "locked by holder script (host " in result.stderr
    assert f"pid {holder.pid}) since " in result.stderr and "Traceback" not in result.stderr


def test_a_sigkilled_holders_lock_is_freed_and_the_next_run_proceeds(
    url: str, holder: subprocess.Popen[bytes]
) -> None:
    """PostgreSQL frees it with the connection; a dead local holder's SQLite lease goes too."""
    engine = create_db_engine(url)
    assert current_holder(engine) is not None
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert current_holder(engine) is None
    started = time.monotonic()
    with pipeline_lock(engine, settings(wait=5), "next run"):
        assert current_holder(engine).holder.startswith("next run")  # type: ignore[union-attr]
    assert time.monotonic() - started < 1, "taken at once, not after the lease"


def test_a_lease_from_another_machine_is_kept_until_it_expires(tmp_path: Path) -> None:
    """A holder elsewhere cannot be seen to die: only its lease running out frees the lock."""
    engine, now = create_db_engine(f"sqlite:///{tmp_path}/db.sqlite"), datetime.now(UTC)
    open_database(f"sqlite:///{tmp_path}/db.sqlite")
    row = PipelineLock(name="pipeline", holder="moodle-sync run (host elsewhere, pid 1)",
                       acquired_at=now, expires_at=now + timedelta(seconds=1))  # fmt: skip
    with sessionmaker(engine).begin() as session:
        session.add(row)
    with (
        pytest.raises(LockHeldError, match="host elsewhere"),
        pipeline_lock(engine, settings(), "too early"),
    ):
        pytest.fail("a live lease was taken")
    started = time.monotonic()
    with pipeline_lock(engine, settings(wait=5), "next run"):
        waited = time.monotonic() - started
    assert 0.2 < waited < 3


def test_two_runs_started_together_take_turns_when_one_may_wait(url: str, tmp_path: Path) -> None:
    from moodle_sync.sandbox.faults import FaultPlan
    from moodle_sync.sandbox.server import start_sandbox
    from tests.test_end_to_end import cli_env

    with start_sandbox(faults=FaultPlan(latency_ms=50)) as sandbox:
        env = {**os.environ, **cli_env(sandbox, tmp_path), "MOODLE_SYNC_DATABASE__URL": url,
               "MOODLE_SYNC_WORKER__LOCK_WAIT_SECONDS": "60"}  # fmt: skip
        racers = [subprocess.Popen([sys.executable, "-m", "moodle_sync", "sync"], env=env,
                                   cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(2)]  # fmt: skip
        assert [racer.wait(timeout=60) for racer in racers] == [0, 0]
    with open_database(url)[1]() as session:
        first, second = session.scalars(select(SyncRun).order_by(SyncRun.started_at)).all()
    assert first.finished_at is not None and first.finished_at <= second.started_at
