"""A sync killed at any moment leaves a consistent database, and the next run converges."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox.faults import FaultPlan
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, start_sandbox
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import SyncRun
from tests.conftest import REPO
from tests.pull.mirror import differences, moodle_view, store_view


def sync_process(url: str, database: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")}
    env |= {
        "MOODLE_SYNC_CONFIG": os.devnull,
        "MOODLE_SYNC_MOODLE__URL": url,
        "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
        "MOODLE_SYNC_DATABASE__URL": database,
        "MOODLE_SYNC_PROGRAMME_FILE": str(REPO / "config" / "programme.toml"),
    }
    command = [sys.executable, "-m", "moodle_sync", "sync"]
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def latest_run(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.max(SyncRun.id))) or 0


def running_since(
    sessions: sessionmaker[Session], process: subprocess.Popen[bytes], after: int
) -> bool:
    """Wait until the process has recorded its own run (False if it ended first)."""
    while process.poll() is None:
        if latest_run(sessions) > after:
            return True
        time.sleep(0.02)
    return False


def test_sigkill_mid_sync_then_a_clean_run_converges(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/store.db"
    _, sessions = open_database(database)
    timing = f"sqlite:///{tmp_path}/timing.db"
    _, timing_sessions = open_database(timing)  # migrated first, like `database`
    chance = random.Random(4)
    programme = load_programme(REPO / "config" / "programme.toml")
    with start_sandbox(faults=FaultPlan(latency_ms=150)) as sandbox:
        process = sync_process(sandbox.url, timing)
        assert running_since(timing_sessions, process, 0)
        started = time.monotonic()
        assert process.wait(timeout=120) == 0
        duration = time.monotonic() - started  # of the run itself, from its record on
        killed_mid_run = 0
        for _ in range(4):
            before = latest_run(sessions)
            process = sync_process(sandbox.url, database)
            if running_since(sessions, process, before):  # kill inside the run, not in imports
                time.sleep(chance.uniform(0.05, 0.9) * duration)
            process.send_signal(signal.SIGKILL)
            process.wait()
            with sessions() as session:
                mine = select(SyncRun.id).where(SyncRun.id > before, SyncRun.outcome == "running")
                killed_mid_run += session.scalar(mine.limit(1)) is not None
            sandbox.state.submit(5 + len(sandbox.state.submissions) % 3, 5)
        assert sync_process(sandbox.url, database).wait(timeout=120) == 0
        scope = {c.id for c in sandbox.state.courses.values()
                 if c.idnumber in programme.mapped_courses()}  # fmt: skip
        assert differences(moodle_view(sandbox.state, scope), store_view(sessions)) == {}
    assert killed_mid_run, "no kill landed while a run was in progress; lengthen the run"
    with sessions() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
