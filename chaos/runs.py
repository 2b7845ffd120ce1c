"""Runs of `moodle-sync run --now <t>`: real processes for the faulty side (so they can be
SIGKILLed mid-run), the same command in-process for the fault-free twin (no start-up cost).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from moodle_sync.cli import main as cli
from moodle_sync.client.registry import PathName
from moodle_sync.exit_codes import ExitCode
from moodle_sync.sandbox import INTEGRATION_TOKEN, PLUGIN_TOKEN

REPO = Path(__file__).resolve().parent.parent
READ_TIMEOUT = 2.0  # a hang costs this much per try; in-doubt batches settle after it
HANG_SECONDS = READ_TIMEOUT + 0.5
WATCHDOG = 10.0  # a run still going after this is killed (honouring Retry-After: 300)
# A fault-free run has no Retry-After to honour: only a loaded machine makes it slow, and
# cutting it would fail the schedule for the machine's sake.
CLEAN_WATCHDOG = 60.0
KILLED = -int(signal.SIGKILL)
TOKENS: dict[PathName, str] = {"core": INTEGRATION_TOKEN, "plugin": PLUGIN_TOKEN}


@dataclass(frozen=True)
class Outcome:
    code: int  # the exit code, or KILLED
    seconds: float
    pid: int
    watchdog: bool = False  # killed for running too long, not by the schedule
    timer: bool = False  # killed by the runner after its delay (else, if killed: at a call)


def write_config(directory: Path, sandbox_url: str, path: PathName) -> Path:
    """Settings for one side: its sandbox, the path's token (site info then shows the plugin's
    functions, or not), its own SQLite store, short timeouts."""
    config = directory / "moodle-sync.toml"
    config.write_text(
        f'programme_file = "{REPO / "config" / "programme.toml"}"\n'
        "[moodle]\n"
        f'url = "{sandbox_url}"\n'
        f'token = "{TOKENS[path]}"\n'
        f"read_timeout = {READ_TIMEOUT}\nconnect_timeout = 1.0\n"
        "max_attempts = 2\nretry_budget = 10\nmax_requests_per_second = 0\n"
        "[database]\n"
        f'url = "sqlite:///{directory / "store.db"}"\n'
        "[push]\n"
        f'templates_dir = "{REPO / "config" / "templates"}"\n',
        encoding="utf-8",
    )
    return config


def command(config: Path, now: datetime) -> list[str]:
    return ["--config", str(config), "--log-level", "WARNING", "run", "--now", now.isoformat()]


def run_process(
    config: Path, now: datetime, log: Path, kill_after: float | None, watchdog: float = WATCHDOG
) -> Outcome:
    """One run as its own process; SIGKILL it after `kill_after` seconds if still running
    (else after `watchdog`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")}
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ moodle-sync run --now {now.isoformat()} (kill after {kill_after})\n")
        out.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "moodle_sync", *command(config, now)],
            stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env, cwd=REPO,
        )  # fmt: skip
        limit = watchdog if kill_after is None else min(kill_after, watchdog)
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            out.write(f"[chaos] SIGKILL after {limit:.2f}s\n")
            release_lease(config.parent / "store.db", proc.pid)
            watchdog = kill_after is None
            return Outcome(KILLED, time.monotonic() - started, proc.pid, watchdog, not watchdog)
        if code == KILLED:  # by the sandbox, at a call (a kill fault)
            out.write("[chaos] SIGKILL by the sandbox at a call\n")
            release_lease(config.parent / "store.db", proc.pid)
    return Outcome(code, time.monotonic() - started, proc.pid)


def release_lease(store: Path, pid: int) -> None:
    """Free the SQLite pipeline lease a killed run still holds, as an operator who saw it die
    would; otherwise every run would exit 4 until `worker.lock_lease_seconds` ran out."""
    if not store.exists():
        return
    with contextlib.closing(sqlite3.connect(store, timeout=10)) as db, db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "pipeline_lock" in tables:  # absent when the run died before migrating
            db.execute("DELETE FROM pipeline_lock WHERE holder LIKE ?", (f"%, pid {pid})",))


def run_in_process(config: Path, now: datetime, log: Path) -> int:
    """The same command, run by this process (for the twin, which is never killed)."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            cli.main(command(config, now), prog_name="moodle-sync", standalone_mode=False)
            code = int(ExitCode.OK)
        except SystemExit as exc:
            code = int(exc.code or 0)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ moodle-sync run --now {now.isoformat()} (in-process)\n")
        out.write(output.getvalue() + f"[exit {code}]\n")
    return code
