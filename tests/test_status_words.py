"""`moodle-sync status` says what it means: a refused token is not an unreachable site, and a
run that stopped says why without an empty "failing courses:" line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from moodle_sync.sandbox.server import Sandbox, start_sandbox
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import SyncRun
from tests.test_cli import run_cli
from tests.test_status import env_for

STOPPED = "core_course_get_courses_by_field: cannot connect to 'http://127.0.0.1:9'"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def a_stopped_run(url: str) -> None:
    _, sessions = open_database(url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        problems = {"failed_courses": {}, "missing_courses": [], "error": STOPPED}
        session.add(SyncRun(kind="incremental", started_at=now, finished_at=now,
                            outcome="failed", counts={}, problems=problems))  # fmt: skip


def test_a_refused_token_is_not_called_unreachable(sandbox: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    a_stopped_run(url)
    env = env_for(tmp_path, sandbox.url, url) | {"MOODLE_SYNC_MOODLE__TOKEN": "not-a-token"}
    result = run_cli("status", env=env)
    assert result.returncode == 0, result.stderr
    assert "moodle: the site answered but refused the token" in result.stdout
    assert "unreachable" not in result.stdout


def test_a_stopped_run_says_why_and_prints_no_empty_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    a_stopped_run(url)
    result = run_cli("status", env=env_for(tmp_path, "http://127.0.0.1:9", url))
    assert "moodle: unreachable (http://127.0.0.1:9)" in result.stdout
    assert f"run 1 stopped: {STOPPED}" in result.stdout
    assert "failing courses" not in result.stdout
    assert not any(line.endswith(": ") for line in result.stdout.splitlines())


def test_a_refused_connection_is_one_line_naming_the_address(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path}/store.db")
    result = run_cli("sync", env=env)
    assert result.returncode == 1
    assert "retry" not in result.stderr, result.stderr  # no minute of retries, no repeats
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "cannot connect to 'http://127.0.0.1:9' ([Errno 111] Connection refused)" in lines[0]
    assert "check moodle.url" in lines[0] and "read_timeout" not in lines[0]
