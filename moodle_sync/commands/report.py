"""`moodle-sync report`: what programme leaders read, computed from the stored data.

The reports read the database only: run `moodle-sync sync` (or `run`) first for fresh data.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict
from pathlib import Path

import click

from moodle_sync.commands.base import (
    Context,
    emit_json,
    handle_errors,
    json_option,
    now_option,
    pass_context,
)
from moodle_sync.rules.policy import Programme
from moodle_sync.store.db import open_database
from moodle_sync.support.reports import (
    DeadlineEntry,
    deadlines,
    last_synchronised,
    local_iso,
    local_text,
    progression_rows,
    write_csv,
)
from moodle_sync.support.reports_html import render_html


@click.group()
def report() -> None:
    """Reports for programme leaders."""


@report.command("progression")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "html"]),
    default="csv",
    show_default=True,
    help="CSV for spreadsheets; HTML with a chart, for reading.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of standard output.",
)
@now_option("Evaluate the rules")
@json_option("the rows (instead of --format)")
@pass_context
@handle_errors
def progression(
    ctx: Context, fmt: str, output: Path | None, now: dt.datetime | None, as_json: bool
) -> None:
    """One row per participant: credits by module, total, award, status and next deadline."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    now = now or dt.datetime.now(dt.UTC)
    _engine, sessions = open_database(settings.database.url)
    with sessions() as session:
        rows = progression_rows(session, programme, now, settings.push.interrupted_users)
        synced = last_synchronised(session)
    if as_json:
        text = json.dumps([asdict(row) for row in rows], indent=2, sort_keys=True, default=str)
    elif fmt == "html":
        text = render_html(rows, programme, now, synced)
    else:
        buffer = io.StringIO()
        write_csv(rows, programme, buffer)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote the progression of {len(rows)} participants to {output}", err=True)


@report.command("deadlines")
@click.option(
    "--days",
    type=click.IntRange(1, 90),
    default=14,
    show_default=True,
    help="How far ahead to look.",
)
@now_option("Look ahead")
@json_option("the entries")
@pass_context
@handle_errors
def deadlines_command(ctx: Context, days: int, now: dt.datetime | None, as_json: bool) -> None:
    """The coming fortnight's deadlines per course, with who has submitted."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    now = now or dt.datetime.now(dt.UTC)
    _engine, sessions = open_database(settings.database.url)
    with sessions() as session:
        entries = deadlines(
            session, programme, now, settings.push.interrupted_users, dt.timedelta(days=days)
        )
    if as_json:
        emit_json([entry_json(entry, programme) for entry in entries])
        return
    if not entries:
        click.echo(f"no deadlines in the {days} days from {local_text(now, programme)}")
    course = None
    for e in entries:
        if e.course != course:
            course = e.course
            click.echo(course)
        click.echo(
            f"  {local_text(e.deadline, programme)}  {e.assignment}: "
            f"{len(e.submitted)} submitted, {len(e.outstanding)} not yet"
        )
        if e.submitted:
            click.echo(f"    submitted: {', '.join(sorted(p.name for p in e.submitted))}")
        for person, due in sorted(e.outstanding):
            click.echo(f"    not yet: {person.name} (due {local_text(due, programme)})")


def entry_json(entry: DeadlineEntry, programme: Programme) -> dict[str, object]:
    """Times in ISO-8601 with the programme zone's offset; people with their Moodle user id."""
    return {
        "course": entry.course,
        "assignment": entry.assignment,
        "deadline": local_iso(entry.deadline, programme),
        "timezone": str(programme.timezone),
        "submitted": [{"user_id": p.user_id, "name": p.name} for p in sorted(entry.submitted)],
        "outstanding": [
            {"user_id": p.user_id, "name": p.name, "due": local_iso(due, programme)}
            for p, due in sorted(entry.outstanding)
        ],
    }
