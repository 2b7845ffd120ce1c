"""`moodle-sync status`: every section from a real store, Moodle's absence reported not fatal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from moodle_sync.client import Requester
from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, Settings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage, PipelineLock, SyncRun
from tests.conftest import REPO, pipeline
from tests.test_cli import run_cli

IN_DOUBT = "r-5-3-before_2d-20250101T1200Z"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def synchronised(sandbox: Sandbox, url: str) -> None:
    """One real pipeline run, a message left in doubt and a failed run with its reason."""
    settings = Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
        push={"templates_dir": REPO / "config" / "templates"},
    )
    programme = load_programme(REPO / "config" / "programme.toml")
    _, sessions = open_database(url)
    with Requester(settings.require_moodle()) as requester:
        pipeline(settings, programme, requester, sessions)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add(OutboxMessage(key=IN_DOUBT, kind="before_2d", recipient_id=5, payload={},
                                  state="sending", planned_at=now, updated_at=now,
                                  sending_started_at=now - timedelta(minutes=5)))  # fmt: skip
        problems = {"failed_courses": {"CETAD-MPC": "grades: warning nopermission on course 3"},
                    "missing_courses": ["CETAD-XYZ"], "error": None}  # fmt: skip
        session.add(SyncRun(kind="incremental", started_at=now, finished_at=now,
                            outcome="partial", counts={}, problems=problems))  # fmt: skip


def status_json(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run_cli("status", "--json", env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout) if result.stdout else {}


def env_for(tmp_path: Path, moodle_url: str, database_url: str) -> dict[str, str]:
    (tmp_path / "none.toml").write_text("")
    return {
        "MOODLE_SYNC_CONFIG": str(tmp_path / "none.toml"),
        "MOODLE_SYNC_MOODLE__URL": moodle_url,
        "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
        "MOODLE_SYNC_DATABASE__URL": database_url,
    }


def test_status_shows_runs_outbox_in_doubt_failures_database_and_moodle(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    synchronised(sandbox, database_url)
    code, found = status_json(env_for(tmp_path, sandbox.url, database_url))
    assert code == 0
    latest, pipeline = found["runs"][0], found["runs"][1]
    assert (latest["outcome"], pipeline["kind"], pipeline["outcome"]) == (
        "partial", "incremental", "complete")  # fmt: skip
    assert pipeline["read"] > 0 and pipeline["changed"] > 0
    assert found["outbox"]["by_state"]["sending"] == 1
    [doubt] = found["outbox"]["in_doubt"]
    assert (doubt["key"], doubt["recipient_id"]) == (IN_DOUBT, 5)
    assert found["failing"]["failed_courses"] == {
        "CETAD-MPC": "grades: warning nopermission on course 3"
    }
    assert found["failing"]["missing_courses"] == ["CETAD-XYZ"]
    assert found["database"]["dialect"] == database_url.split(":")[0].split("+")[0]
    assert found["database"]["revision"] == found["database"]["head"]
    assert found["moodle"]["reachable"] is True and found["moodle"]["release"]
    assert found["lock"] == {"held": False}
    assert [run["job"] for run in found["next_runs"]], found["next_runs"]


def test_an_unreachable_moodle_is_reported_and_the_rest_still_printed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    synchronised(sandbox, url)
    env = env_for(tmp_path, "http://127.0.0.1:9", url)  # the discard port: nothing listens
    result = run_cli("status", env=env)
    assert result.returncode == 0, result.stderr
    assert "moodle: unreachable (http://127.0.0.1:9)" in result.stdout
    assert "in doubt since" in result.stdout and IN_DOUBT in result.stdout
    assert "CETAD-MPC: grades: warning nopermission" in result.stdout
    assert "database: sqlite" in result.stdout


def test_a_lock_holder_is_named_with_since_when(sandbox: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    synchronised(sandbox, url)
    _, sessions = open_database(url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        lease = now + timedelta(minutes=5)
        holder = "moodle-sync run (host h, pid 42)"
        session.add(PipelineLock(name="pipeline", holder=holder, acquired_at=now, expires_at=lease))
    _, found = status_json(env_for(tmp_path, sandbox.url, url))
    assert found["lock"]["holder"] == "moodle-sync run (host h, pid 42)"


def test_an_unreadable_database_exits_1_saying_which(tmp_path: Path) -> None:
    env = env_for(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path}/empty.db")
    result = run_cli("status", env=env)
    assert result.returncode == 1
    assert "error: cannot read the database at sqlite:///" in result.stderr
    assert "Traceback" not in result.stderr
