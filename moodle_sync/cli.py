"""The `moodle-sync` command: global options here, sub-commands in `moodle_sync.commands`.

Every command exits with a code from `ExitCode`: 0 success, 1 failure, 2 bad configuration
or usage, 3 partial, 4 locked, 5 safety valve.
"""

from __future__ import annotations

from pathlib import Path

import click

from moodle_sync.commands import db, moodle, rules, sandbox
from moodle_sync.commands.base import Context


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
@click.version_option(package_name="moodle-sync")
@click.pass_context
def main(ctx: click.Context, config: Path | None, log_level: str | None) -> None:
    """Keep a work-based-learning programme on track inside Moodle."""
    ctx.obj = Context(config=config, log_level=log_level.upper() if log_level else None)


main.add_command(db.db)
main.add_command(moodle.check)
main.add_command(moodle.sync)
main.add_command(moodle.run)
main.add_command(rules.rules)
main.add_command(sandbox.sandbox)
