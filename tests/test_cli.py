"""The command line: bad configuration exits 2 with one line per problem and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")}
    return subprocess.run(
        [sys.executable, "-m", "moodle_sync", *args],
        env={**clean, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ("colour = 1\n", {}, "error: colour: unknown setting"),
        ("[moodle]\nurl = 'https://m.example'\ntoken = 't'\nread_timeout = 'x'\n", {},
         "error: moodle.read_timeout: must be a valid number"),
        ("", {"MOODLE_SYNC_MOODLE__TOKEN": "t"}, "error: moodle.url: required but not set"),
        ("[moodle]\nurl = 'http://moodle.example.ac.uk'\ntoken = 't'\n", {},
         "uses plain http to a non-loopback host"),
        ("[moodle]\nurl = 'https://m.example'\ntoken_file = '/nonexistent/token'\n", {},
         "error: moodle.token_file: cannot read token file '/nonexistent/token'"),
    ],
)  # fmt: skip
def test_bad_settings_exit_2_with_one_line_per_problem(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(toml)
    result = run_cli("--config", str(config), "check", env=env)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())


def test_a_broken_programme_file_exits_2(tmp_path: Path) -> None:
    programme = tmp_path / "programme.toml"
    programme.write_text("[[modules]]\ncode = 'X'\n")
    env = {
        "MOODLE_SYNC_PROGRAMME_FILE": str(programme),
        "MOODLE_SYNC_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("[moodle]\nurl = 'https://m.example'\ntoken = 't'\n")
    result = run_cli("check", env=env)
    assert result.returncode == 2
    assert str(programme) in result.stderr and "Traceback" not in result.stderr


def test_unknown_option_is_a_usage_error_with_exit_2() -> None:
    assert run_cli("sync", "--no-such-option").returncode == 2


@pytest.mark.parametrize("command", [[], ["check"], ["sync"], ["db", "upgrade"], ["sandbox"],
                                     ["rules", "evaluate"]])  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


COMMANDS_WITH_RESULTS = [["check"], ["sync"], ["run"], ["status"], ["reconcile"],
                         ["report", "progression"], ["report", "deadlines"],
                         ["outbox", "list"], ["outbox", "show"], ["history"]]  # fmt: skip
COMMANDS_THAT_EVALUATE = [["run"], ["status"], ["reconcile"], ["worker"],
                          ["report", "progression"], ["report", "deadlines"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS_WITH_RESULTS, ids=" ".join)
def test_every_command_that_prints_a_result_offers_json(command: list[str]) -> None:
    assert "--json" in run_cli(*command, "--help").stdout


@pytest.mark.parametrize("command", COMMANDS_THAT_EVALUATE, ids=" ".join)
def test_every_command_that_evaluates_the_rules_takes_now_in_iso_8601(command: list[str]) -> None:
    shown = " ".join(run_cli(*command, "--help").stdout.split())
    assert "--now" in shown and "ISO-8601 with an offset" in shown


def test_rules_evaluate_needs_no_token_and_no_settings_file(tmp_path: Path) -> None:
    result = run_cli("rules", "evaluate", "--input", str(REPO / "config/examples/rules-input.json"),
                     "--programme", str(REPO / "config/programme.toml"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"participants"' in result.stdout


def test_db_upgrade_creates_and_then_reports_up_to_date(tmp_path: Path) -> None:
    env = {"MOODLE_SYNC_DATABASE__URL": f"sqlite:///{tmp_path}/db.sqlite",
           "MOODLE_SYNC_CONFIG": str(tmp_path / "none.toml")}  # fmt: skip
    (tmp_path / "none.toml").write_text("")
    first, second = run_cli("db", "upgrade", env=env), run_cli("db", "upgrade", env=env)
    assert first.returncode == 0 and "upgraded from empty" in first.stdout
    assert "alembic" not in first.stderr  # its context and plugins are noise at INFO
    assert second.returncode == 0 and "up to date" in second.stdout
