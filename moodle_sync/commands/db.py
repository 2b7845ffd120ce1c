"""`moodle-sync db`: the service's own database."""

from __future__ import annotations

import click

from moodle_sync.commands.base import Context, handle_errors, pass_context
from moodle_sync.store.db import create_db_engine, upgrade


@click.group()
def db() -> None:
    """Manage the service's database."""


@db.command("upgrade")
@pass_context
@handle_errors
def upgrade_command(ctx: Context) -> None:
    """Apply pending schema migrations (runs automatically on first use too)."""
    settings = ctx.settings()
    engine = create_db_engine(settings.database.url)
    before, after = upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"database {where} is up to date (revision {after})")
    else:
        click.echo(f"database {where} upgraded from {before or 'empty'} to revision {after}")
