"""`moodle-sync check` and `moodle-sync sync`: the commands that talk to Moodle."""

from __future__ import annotations

import sys

import click

from moodle_sync.client import Requester
from moodle_sync.client.registry import missing_functions
from moodle_sync.client.site import get_site_info
from moodle_sync.commands.base import Context, emit_json, handle_errors, pass_context
from moodle_sync.exit_codes import ExitCode
from moodle_sync.pull.runner import SyncReport, run_sync
from moodle_sync.pull.scope import resolve_scope
from moodle_sync.store.db import open_database


@click.command()
@pass_context
@handle_errors
def check(ctx: Context) -> None:
    """Validate settings and programme, and that the token's service has every function.

    Exits 0 only when the site answers, every function the service needs is available to
    the token and every course the programme maps exists in Moodle.
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
        missing = missing_functions(info.functions)
        for spec in missing:
            click.echo(
                f"missing function: {spec.name} ({spec.purpose}); add it to the external "
                "service of this token (Site administration > Server > Web services > "
                "External services > Functions)",
                err=True,
            )
        scope = resolve_scope(requester, programme.mapped_courses())
    for idnumber in scope.missing:
        click.echo(f"missing course: no Moodle course has idnumber {idnumber!r}", err=True)
    if missing or scope.missing:
        sys.exit(ExitCode.FAILURE)
    click.echo(f"all {len(scope.courses)} mapped courses found; every function available")


@click.command()
@click.option("--full", is_flag=True, help="Ignore bookmarks and re-read everything.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@pass_context
@handle_errors
def sync(ctx: Context, full: bool, as_json: bool) -> None:
    """Pull the programme's courses and enrolments from Moodle into the database."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    _engine, sessions = open_database(settings.database.url)
    with Requester(settings.require_moodle()) as requester:
        report = run_sync(requester, sessions, programme.mapped_courses(), full=full)
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
