"""The `moodle-sync` command: global options here, sub-commands in `moodle_sync.commands`.

Every command exits with a code from `ExitCode`: 0 success, 1 failure, 2 bad configuration
or usage, 3 partial, 4 locked, 5 safety valve.
"""

from __future__ import annotations

from pathlib import Path

import click

from moodle_sync.commands import db, moodle, rules, sandbox
from moodle_sync.commands.base import Context
from moodle_sync.commands.outbox import history, outbox
from moodle_sync.commands.reconcile import reconcile
from moodle_sync.commands.report import report
from moodle_sync.commands.status import status
from moodle_sync.commands.worker import worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.version_option(package_name="moodle-sync")
@click.pass_context
def main(
    ctx: click.Context, config: Path | None, log_level: str | None, log_format: str | None
) -> None:
    """Keep a work-based-learning programme on track inside Moodle."""
    level = log_level.upper() if log_level else None
    ctx.obj = Context(config=config, log_level=level, log_format=log_format)


main.add_command(db.db)
main.add_command(moodle.check)
main.add_command(moodle.sync)
main.add_command(moodle.run)
main.add_command(rules.rules)
main.add_command(sandbox.sandbox)
main.add_command(worker)
main.add_command(report)
main.add_command(reconcile)
main.add_command(status)
main.add_command(outbox)
main.add_command(history)
