"""The commands end to end against the sandbox Moodle, and the token's secrecy throughout."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from moodle_sync.client import Requester
from moodle_sync.pull.runner import run_sync
from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox.server import (
    INTEGRATION_TOKEN,
    NO_MESSAGING_TOKEN,
    PARTIAL_SERVICE_TOKEN,
    PLUGIN_TOKEN,
    Sandbox,
    start_sandbox,
)
from moodle_sync.settings import MoodleSettings
from moodle_sync.store.db import open_database
from tests.conftest import REPO
from tests.test_cli import run_cli


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def cli_env(sandbox: Sandbox, tmp_path: Path, token: str = INTEGRATION_TOKEN) -> dict[str, str]:
    config = tmp_path / "settings.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/db.sqlite"\n')
    return {
        "MOODLE_SYNC_CONFIG": str(config),
        "MOODLE_SYNC_MOODLE__URL": sandbox.url,
        "MOODLE_SYNC_MOODLE__TOKEN": token,
        "MOODLE_SYNC_PROGRAMME_FILE": str(REPO / "config" / "programme.toml"),
    }


def test_check_passes_against_a_complete_service(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("check", env=cli_env(sandbox, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "all 7 mapped courses found" in result.stdout
    assert "path: core" in result.stdout and "local_cetadsync would add" in result.stdout


def test_check_says_the_plugin_path_is_in_use(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("check", env=cli_env(sandbox, tmp_path, PLUGIN_TOKEN))
    assert result.returncode == 0, result.stderr
    assert "path: plugin" in result.stdout
    assert "reads proved on" in result.stdout and "cannot be checked" not in result.stdout


def test_check_on_the_plugin_path_names_a_field_a_student_can_edit(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.state.field_rules["cetad_progression"] = (False, 3)
    result = run_cli("check", env=cli_env(sandbox, tmp_path, PLUGIN_TOKEN))
    assert result.returncode == 1
    assert "profile field 'cetad_progression' is not locked" in result.stderr
    assert "1 problems" in result.stderr


def test_check_on_the_core_path_says_the_lock_must_be_checked_by_hand(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = run_cli("check", "--json", env=cli_env(sandbox, tmp_path))
    [note] = json.loads(result.stdout)["notes"]
    assert "cannot be checked without local_cetadsync" in note and "Locked: Yes" in note


def test_check_json_lists_every_problem_for_a_machine(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("check", "--json", env=cli_env(sandbox, tmp_path, PARTIAL_SERVICE_TOKEN))
    found = json.loads(result.stdout)
    assert result.returncode == 1 and found["ok"] is False
    assert any("mod_assign_get_user_flags" in p for p in found["problems"])
    assert len(found["courses"]) == 7


def test_check_names_each_function_the_service_lacks(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("check", env=cli_env(sandbox, tmp_path, PARTIAL_SERVICE_TOKEN))
    assert result.returncode == 1
    assert "missing function: mod_assign_get_user_flags" in result.stderr
    assert "missing function: core_message_send_instant_messages" in result.stderr


def test_check_fails_when_moodle_says_students_cannot_be_messaged_and_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = run_cli("check", env=cli_env(sandbox, tmp_path, NO_MESSAGING_TOKEN))
    assert result.returncode == 1
    assert "may not message student" in result.stderr
    assert "moodle/site:readallmessages" in result.stderr
    assert sandbox.state.messages == []


def test_check_lists_every_refused_read_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    token = sandbox.state.tokens[INTEGRATION_TOKEN]
    sandbox.state.tokens[INTEGRATION_TOKEN] = replace(
        token, capabilities=token.capabilities - {"mod/assign:viewgrades", "mod/assign:grade"}
    )
    result = run_cli("check", env=cli_env(sandbox, tmp_path))
    assert result.returncode == 1
    named = {line.split(" ")[0] for line in result.stderr.splitlines() if "the role needs" in line}
    assert named >= {"mod_assign_get_grades", "mod_assign_get_user_flags"}, result.stderr
    assert "mod/assign:grade" in result.stderr


def test_a_run_whose_every_message_is_refused_fails_and_status_says_why(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path, NO_MESSAGING_TOKEN)
    london = ZoneInfo("Europe/London")
    ten = datetime.combine(datetime.now(london).date(), time(10), london)
    result = run_cli("run", "--now", ten.isoformat(timespec="minutes"), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "run failed: all " in result.stderr and "readallmessages" in result.stderr
    status = run_cli("status", env=env)
    assert " failed at " in status.stdout
    assert "messages: all " in status.stdout and "likely cause" in status.stdout


def test_history_keeps_every_status_a_student_has_had_with_its_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path)
    london = ZoneInfo("Europe/London")
    ten = datetime.combine(datetime.now(london).date(), time(10), london)
    assert run_cli("run", "--now", ten.isoformat(timespec="minutes"), env=env).returncode == 0
    priya = 7  # at risk: three pieces of work overdue
    for assignment in sandbox.state.assignments.values():
        sandbox.state.submit(assignment.id, priya)
    later = ten.replace(hour=11).isoformat(timespec="minutes")
    assert run_cli("run", "--now", later, env=env).returncode == 0
    events = json.loads(run_cli("history", "--user", str(priya), "--json", env=env).stdout)
    statuses = [e["detail"] for e in events if e["what"] == "profile cetad_progression"]
    assert len(statuses) == 2 and statuses[0].startswith("At risk"), statuses
    assert not statuses[1].startswith("At risk")
    assert "Priya Sharma" in run_cli("history", "--user", str(priya), env=env).stdout


def test_sync_json_prints_the_run_record(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("sync", "--json", env=cli_env(sandbox, tmp_path))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["outcome"] == "complete"
    assert record["counts"]["courses"]["read"] == 7


def test_sync_with_a_refused_token_says_so_before_opening_the_database(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = run_cli("sync", env=cli_env(sandbox, tmp_path, "not-a-token"))
    assert result.returncode == 1, result.stderr
    assert "error: " in result.stderr and "token" in result.stderr.lower()
    assert "Traceback" not in result.stderr and "not-a-token" not in result.stderr
    assert not (tmp_path / "db.sqlite").exists()  # told before the store was made


def test_an_unknown_course_makes_sync_partial_with_exit_3(sandbox: Sandbox, tmp_path: Path) -> None:
    programme = (REPO / "config" / "programme.toml").read_text()
    changed = tmp_path / "programme.toml"
    changed.write_text(programme.replace('"CETAD-ULM"', '"CETAD-NOWHERE"'))
    env = cli_env(sandbox, tmp_path) | {"MOODLE_SYNC_PROGRAMME_FILE": str(changed)}
    result = run_cli("sync", env=env)
    assert result.returncode == 3
    assert "'CETAD-NOWHERE'" in result.stderr
    assert run_cli("check", env=env).returncode == 1


def test_the_token_appears_nowhere_in_output_logs_or_the_database(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = cli_env(sandbox, tmp_path)
    outputs = [run_cli("--log-level", "DEBUG", *args, env=env) for args in
               (["check"], ["sync"], ["sync", "--json"], ["db", "upgrade"])]  # fmt: skip
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert INTEGRATION_TOKEN not in result.stdout + result.stderr
    assert "DEBUG" in outputs[1].stderr, "debug logging was on, so there was something to leak"
    caplog.set_level(logging.DEBUG)
    settings = MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN))
    _, sessions = open_database(f"sqlite:///{tmp_path}/db.sqlite")
    with Requester(settings) as requester:
        run_sync(requester, sessions, load_programme(REPO / "config/programme.toml"))
    assert caplog.records and INTEGRATION_TOKEN not in caplog.text
    for written in tmp_path.rglob("*"):
        if written.is_file():
            assert INTEGRATION_TOKEN.encode() not in written.read_bytes(), written


def test_nothing_animates_when_output_is_not_a_terminal(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("sync", env=cli_env(sandbox, tmp_path))
    assert result.returncode == 0
    assert "reading enrolments" not in result.stderr and "\r" not in result.stderr
