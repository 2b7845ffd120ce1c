"""The `moodle-sync` command: global options here, sub-commands in `moodle_sync.commands`.

Every command exits with a code from `ExitCode`: 0 success, 1 failure, 2 bad configuration
or usage, 3 partial, 4 locked, 5 safety valve.

Sub-commands are imported only when they run: `--help` and `--version` import click and
nothing else of weight, and a command imports only what it needs (SQLAlchemy, pydantic and
requests cost over a second together), so start-up stays well under a second.
"""

from __future__ import annotations

import atexit
import gc
import importlib
from pathlib import Path

import click

from moodle_sync import __version__

# name -> (module:attribute, the one-line help shown by `moodle-sync --help`)
COMMANDS = {
    "check": ("moodle:check", "Validate settings, programme and the Moodle site."),
    "db": ("db:db", "Manage the service's database."),
    "history": ("outbox:history", "Every message and status change for one person."),
    "outbox": ("outbox:outbox", "Inspect and settle the messages waiting to go to Moodle."),
    "reconcile": ("reconcile:reconcile", "Compare live Moodle with the store; repair."),
    "report": ("report:report", "Reports for programme leaders."),
    "rules": ("rules:rules", "Evaluate the programme's rules."),
    "run": ("moodle:run", "Pull, plan and send reminders, push statuses: one run."),
    "sandbox": ("sandbox:sandbox", "Run the bundled sandbox Moodle."),
    "status": ("status:status", "Last and next runs, outbox, failures, lock, Moodle."),
    "sync": ("moodle:sync", "Pull the programme's data from Moodle into the database."),
    "worker": ("worker:worker", "Run the pipeline on the [worker] schedule until stopped."),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use, listed from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command: click.Command = getattr(
            importlib.import_module(f"moodle_sync.commands.{module}"), attribute
        )
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, short) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Settings file (else $MOODLE_SYNC_CONFIG, else config/moodle-sync.toml).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Override the log_level setting.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Override the log_format setting: text lines, or one JSON object per line.",
)
@click.version_option(__version__, prog_name="moodle-sync")
@click.pass_context
def main(
    ctx: click.Context, config: Path | None, log_level: str | None, log_format: str | None
) -> None:
    """Keep a work-based-learning programme on track inside Moodle."""
    from moodle_sync.commands.base import Context

    skip_the_last_collection()
    level = log_level.upper() if log_level else None
    ctx.obj = Context(config=config, log_level=level, log_format=log_format)


def skip_the_last_collection() -> None:
    """When the command ends, so does the process: move every object out of the cycle
    collector's reach first, so the interpreter's exit does not walk them all once more
    (about 0.15 s of every command's CPU). Exit never promised to finalise objects in
    cycles; logging and the standard streams flush as before."""
    atexit.unregister(gc.freeze)  # once, however often main() runs in one process (tests)
    atexit.register(gc.freeze)
