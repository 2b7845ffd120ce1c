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


CYCLE_AT_EXIT = """
class Cycle:
    def __del__(self):
        print("collected at exit")

cycle = Cycle(); cycle.me = cycle; del cycle
"""


@pytest.mark.parametrize("skipped", [False, True])
def test_a_command_skips_the_collection_at_exit(skipped: bool) -> None:
    """The exit's last collection walks every object (~0.15 s of a command's CPU): a command
    skips it. A garbage cycle made just before exit is finalised only by that collection, so
    it shows whether it ran."""
    skip = "from moodle_sync.cli import skip_the_last_collection; skip_the_last_collection()\n"
    done = subprocess.run([sys.executable, "-c", (skip if skipped else "") + CYCLE_AT_EXIT],
                          capture_output=True, text=True, cwd=REPO, check=True)  # fmt: skip
    assert ("collected at exit" in done.stdout) is not skipped


def test_the_command_line_skips_it() -> None:
    command = "from moodle_sync.cli import main; main(['rules', '--help'], standalone_mode=False)\n"
    done = subprocess.run([sys.executable, "-c", command + CYCLE_AT_EXIT], capture_output=True,
                          text=True, cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Evaluate" in done.stdout and "collected at exit" not in done.stdout
