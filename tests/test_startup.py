"""Start-up: `--help` and `--version` import none of the heavy libraries, and every command
still resolves (the CLI imports its commands only when they run)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from moodle_sync.cli import COMMANDS, main
from tests.conftest import REPO

HEAVY = ("sqlalchemy", "pydantic", "requests", "alembic", "jinja2", "apscheduler")


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(option: str) -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "moodle_sync", option],
                          capture_output=True, text=True, cwd=REPO, check=True)  # fmt: skip
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_every_listed_command_resolves_and_is_named_as_listed() -> None:
    context = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None and command.name in (name, f"{name}_command"), name


def test_the_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "moodle_sync", "--help"],
                          capture_output=True, text=True, cwd=REPO, check=True)  # fmt: skip
    assert all(f"  {name} " in done.stdout for name in COMMANDS)
