"""The logging safety net scrubs secrets from every record, whatever logged it."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from moodle_sync.cli import main
from moodle_sync.logs import REDACTED, configure_logging, set_run_id
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, start_sandbox
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage
from tests.conftest import REPO
from tests.test_cli import run_cli
from tests.test_reports import cli_env


def test_a_secret_in_a_log_record_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", ["s3cr3t-token"])
    logging.getLogger("anything").debug("POST %s", "https://m.example/?wstoken=s3cr3t-token")
    err = capsys.readouterr().err
    assert "s3cr3t-token" not in err
    assert f"wstoken={REDACTED}" in err


def test_a_secret_added_later_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    secret_filter = configure_logging("INFO")
    secret_filter.add("late-key")
    logging.getLogger("anything").info("key late-key")
    assert "late-key" not in capsys.readouterr().err


# --- the credentials redacted by pattern, the JSON format and the run id ------------------


@pytest.mark.parametrize(
    ("message", "leak"),
    [
        ("GET https://m.example/pluginfile.php?wstoken=abc123def&file=x", "abc123def"),
        ("body wstoken=tok-XYZ moodlewsrestformat=json", "tok-XYZ"),
        ('site info {"userprivateaccesskey": "k3yk3yk3y", "siteid": 1}', "k3yk3yk3y"),
        ("form userprivateaccesskey=pk999&x=1", "pk999"),
    ],
)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_credentials_nobody_registered_are_redacted_by_pattern(
    capsys: pytest.CaptureFixture[str], message: str, leak: str, log_format: str
) -> None:
    configure_logging("DEBUG", [], log_format)
    logging.getLogger("anything").debug(message)
    err = capsys.readouterr().err
    assert leak not in err and REDACTED in err


def test_a_secret_inside_a_traceback_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", ["s3cr3t-token"])
    try:
        raise RuntimeError("failed POST with token s3cr3t-token")
    except RuntimeError:
        logging.getLogger("anything").exception("call failed")
    err = capsys.readouterr().err
    assert "s3cr3t-token" not in err and "RuntimeError" in err


def test_json_lines_carry_the_run_id_even_from_the_clients_threads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", [], "json")
    set_run_id(41)
    logging.getLogger("moodle_sync.here").info("one")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(logging.getLogger("moodle_sync.pool").info, "two").result()
    set_run_id(None)
    logging.getLogger("moodle_sync.after").warning("three\nlines")
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["message"], e["run_id"]) for e in events] == [
        ("one", 41),
        ("two", 41),
        ("three\nlines", None),
    ]
    assert {"time", "level", "logger"} <= set(events[0])


def test_text_lines_name_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [])
    set_run_id(7)
    logging.getLogger("moodle_sync.x").info("hello")
    set_run_id(None)
    logging.getLogger("moodle_sync.x").info("outside a run")
    err = capsys.readouterr().err
    assert "[run 7]: hello" in err
    assert "moodle_sync.x: outside a run" in err and "[run None]" not in err


def test_apscheduler_says_nothing_at_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [])
    logging.getLogger("apscheduler.scheduler").info('Added job "incremental"')
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    err = capsys.readouterr().err
    assert "Added job" not in err and "was missed" in err


# --- every command, at DEBUG, against the sandbox: no credential in any output --------------

KEY = "{key}"  # replaced by an outbox key once `run` has planned some
COMMANDS: dict[str, list[str]] = {
    "db upgrade": ["db", "upgrade"],
    "check": ["check"],
    "sync": ["sync", "--full"],
    "run": ["run"],
    "rules evaluate": ["rules", "evaluate", "--input",
                       str(REPO / "config" / "examples" / "rules-input.json")],
    "worker": ["worker", "--once"],
    "reconcile": ["reconcile"],
    "status": ["status"],
    "report progression": ["report", "progression", "--format", "html"],
    "report deadlines": ["report", "deadlines"],
    "outbox list": ["outbox", "list"],
    "outbox show": ["outbox", "show", KEY],
    "outbox resolve": ["outbox", "resolve", KEY, "--not-delivered"],
    "outbox cancel": ["outbox", "cancel", KEY],
    "outbox resend": ["outbox", "resend", KEY],
    "history": ["history", "--user", "5"],
    "db purge": ["db", "purge", "--dry-run"],
}  # fmt: skip
NOT_RUN = {"sandbox": "serves the sandbox until stopped; it is the Moodle these commands call"}


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    context = click.Context(group)
    for name in group.list_commands(context):  # the CLI's group imports its commands lazily
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            names += leaf_commands(command, f"{path} ")
        else:
            names.append(path)
    return names


def test_the_table_covers_every_command() -> None:
    missing = set(leaf_commands(main)) - set(COMMANDS) - set(NOT_RUN)
    assert not missing, f"add {sorted(missing)} to COMMANDS (or NOT_RUN with a reason)"


def test_no_command_logs_a_credential_at_debug(tmp_path: Path) -> None:
    with start_sandbox() as sandbox:
        env = cli_env(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", sandbox.url)
        private_key = hashlib.md5(f"private:{INTEGRATION_TOKEN}".encode()).hexdigest()
        present = set(leaf_commands(main))
        outputs: dict[str, str] = {}
        for name, args in COMMANDS.items():
            if name not in present:
                continue  # an optional command not in this build
            args = [a.replace(KEY, first_key(tmp_path)) for a in args]
            for log_format in ("text", "json") if name in ("check", "run") else ("text",):
                done = run_cli("--log-level", "DEBUG", "--log-format", log_format, *args, env=env)
                outputs[f"{name} ({log_format})"] = done.stdout + done.stderr
    for name, output in outputs.items():
        assert INTEGRATION_TOKEN not in output, name
        assert private_key not in output, name
        assert not re.search(r"wstoken=(?!\[REDACTED\])", output), name
    assert "DEBUG" in outputs["sync (text)"], "the commands did log at debug level"
    assert '"level": "DEBUG"' in outputs["run (json)"]


def first_key(tmp_path: Path) -> str:
    _engine, sessions = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    with sessions() as session:
        return session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id)).first() or "-"
