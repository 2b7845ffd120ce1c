"""`moodle-sync check` and `moodle-sync sync`: the commands that talk to Moodle."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from moodle_sync.client import Requester
from moodle_sync.client.registry import missing_functions
from moodle_sync.client.site import get_site_info
from moodle_sync.commands.base import Context, emit_json, handle_errors, pass_context
from moodle_sync.exit_codes import ExitCode

if TYPE_CHECKING:
    from moodle_sync.pipeline import PipelineReport
    from moodle_sync.pull.runner import SyncReport

# The store, the pull and the push are imported inside the commands that use them, so that
# `check` reaches Moodle without loading SQLAlchemy and the pipeline (benchmarks/bench_startup).


@click.command()
@pass_context
@handle_errors
def check(ctx: Context) -> None:
    """Validate settings and programme, and that the token's service has every function.

    Exits 0 only when the site answers, every function the service needs is available to
    the token, every course the programme maps exists in Moodle and both profile fields
    exist (proved by writing, reading back and clearing the integration user's own values).
    """
    settings = ctx.settings()
    programme = ctx.programme(settings)
    click.echo(f"settings: ok; programme: {programme.name} ({len(programme.modules)} modules)")
    with Requester(settings.require_moodle()) as requester:
        info = get_site_info(requester)
        click.echo(
            f"moodle: {info.sitename!r} at {info.siteurl}, release {info.release}, "
            f"signed in as {info.username} (user id {info.userid})"
        )
        from moodle_sync.pull.scope import resolve_scope  # after the first call: see above
        from moodle_sync.push.profile import missing_field_problem, prove_profile_fields

        missing = missing_functions(info.functions)
        for spec in missing:
            click.echo(
                f"missing function: {spec.name} ({spec.purpose}); add it to the external "
                "service of this token (Site administration > Server > Web services > "
                "External services > Functions)",
                err=True,
            )
        scope = resolve_scope(requester, programme.mapped_courses())
        fields = [settings.push.progression_field, settings.push.credits_field]
        absent = prove_profile_fields(requester, info.userid, fields)
    for idnumber in scope.missing:
        click.echo(f"missing course: no Moodle course has idnumber {idnumber!r}", err=True)
    for name in absent:
        click.echo(f"missing profile field: {missing_field_problem(name)}", err=True)
    if missing or scope.missing or absent:
        sys.exit(ExitCode.FAILURE)
    click.echo(
        f"all {len(scope.courses)} mapped courses found; every function available; "
        f"profile fields {', '.join(fields)} exist"
    )


@click.command()
@click.option("--full", is_flag=True, help="Ignore bookmarks and re-read everything.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@pass_context
@handle_errors
def sync(ctx: Context, full: bool, as_json: bool) -> None:
    """Pull the programme's courses, enrolments, assignments, submissions, extensions and
    grades from Moodle into the database (a progress bar per stage on a terminal)."""
    from moodle_sync.commands.progress import terminal_progress
    from moodle_sync.lock import pipeline_lock
    from moodle_sync.pull.runner import run_sync
    from moodle_sync.store.db import open_database

    settings = ctx.settings()
    programme = ctx.programme(settings)
    _engine, sessions = open_database(settings.database.url)
    lock = pipeline_lock(sessions, settings, "moodle-sync sync")
    bars = terminal_progress(wanted=not as_json)
    with lock, Requester(settings.require_moodle()) as requester, bars as progress:
        window = timedelta(seconds=settings.sync.safety_window_seconds)
        courses = programme.mapped_courses()
        report = run_sync(requester, sessions, courses, full=full, safety_window=window,
                          progress=progress)  # fmt: skip
    if as_json:
        emit_json(report.as_dict())
    else:
        print_summary(report)
    if report.outcome != "complete":
        sys.exit(ExitCode.PARTIAL)


def print_summary(report: SyncReport) -> None:
    click.echo(f"sync run {report.run_id} ({report.kind}): {report.outcome}")
    for name, counts in report.counts.items():
        figures = ", ".join(f"{key} {value}" for key, value in counts.as_dict().items())
        click.echo(f"  {name}: {figures}")
    for idnumber in report.missing_courses:
        click.echo(f"  missing course: no Moodle course has idnumber {idnumber!r}", err=True)
    for idnumber, reason in report.failed_courses.items():
        click.echo(f"  failed course {idnumber}: {reason}", err=True)


@click.command()
@click.option("--full", is_flag=True, help="Ignore bookmarks and re-read everything first.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be sent; change nothing in Moodle or the outbox.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    help="Decide what is due as if it were this time (ISO-8601 with offset); default: now.",
)
@pass_context
@handle_errors
def run(ctx: Context, full: bool, dry_run: bool, as_json: bool, now: datetime | None) -> None:
    """Pull, then plan and send reminders and digests, then push progression statuses."""
    from moodle_sync.commands.progress import terminal_progress
    from moodle_sync.lock import pipeline_lock
    from moodle_sync.pipeline import run_pipeline
    from moodle_sync.store.db import open_database

    settings = ctx.settings()
    programme = ctx.programme(settings)
    _engine, sessions = open_database(settings.database.url)
    lock = pipeline_lock(sessions, settings, "moodle-sync run")
    bars = terminal_progress(wanted=not as_json)
    with lock, Requester(settings.require_moodle()) as requester, bars as progress:
        report = run_pipeline(settings, programme, requester, sessions, full=full,
                              dry_run=dry_run, now=now, progress=progress)  # fmt: skip
    if as_json:
        emit_json(report.as_dict())
    else:
        print_pipeline(report)
    if report.outcome != "complete":
        sys.exit(ExitCode.PARTIAL)


def print_pipeline(report: PipelineReport) -> None:
    print_summary(report.sync)
    plan, delivery, profiles = report.plan, report.delivery, report.profiles
    verb = "would send" if report.dry_run else "sent"
    cancelled = plan.cancelled + report.confirm.cancelled
    click.echo(
        f"  reminders: planned {plan.planned}, cancelled {cancelled}, "
        f"due {delivery.due}, {verb} {delivery.sent or len(delivery.would_send)}, "
        f"failed {delivery.failed}, in doubt {delivery.in_doubt}"
    )
    for message in delivery.would_send:
        click.echo(f"    to user {message.recipient_id}: {message.subject} [{message.key}]")
    for key, reason in delivery.failures.items():
        click.echo(f"    failed {key}: {reason}", err=True)
    click.echo(
        f"  profile fields: {len(profiles.updates)} participants to update, "
        f"{profiles.pushed} pushed, {profiles.unchanged} unchanged, {len(profiles.failed)} failed"
    )
