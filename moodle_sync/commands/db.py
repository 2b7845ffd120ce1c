"""`moodle-sync db`: the service's own database."""

from __future__ import annotations

import datetime as dt
import getpass

import click

from moodle_sync.commands.base import Context, emit_json, handle_errors, pass_context
from moodle_sync.ops.retention import purge
from moodle_sync.store.db import create_db_engine, open_database, upgrade


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


@db.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    help="Days since a person's last enrolment ended (default: retention.personal_data_days).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_context
@handle_errors
def purge_command(ctx: Context, days: int | None, dry_run: bool, as_json: bool) -> None:
    """Remove the personal data of people who left every programme course (docs/retention.md)."""
    settings = ctx.settings()
    days = days or settings.retention.personal_data_days
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    _engine, sessions = open_database(settings.database.url)
    report = purge(sessions, cutoff, getpass.getuser(), dry_run=dry_run)
    if as_json:
        emit_json(report.as_dict())
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} the personal data of {report.people} people whose enrolments all "
        f"ended before {cutoff:%Y-%m-%d} ({days} days)"
    )
    for course, counts in report.by_course.items():
        click.echo(f"  {course}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
