"""`moodle-sync check` and `moodle-sync sync`: the commands that talk to Moodle."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from moodle_sync.client import Requester
from moodle_sync.client.registry import missing_functions
from moodle_sync.client.site import get_site_info
from moodle_sync.commands.base import (
    Context,
    emit_json,
    handle_errors,
    json_option,
    now_option,
    pass_context,
)
from moodle_sync.exit_codes import ExitCode, for_outcome

if TYPE_CHECKING:
    from moodle_sync.pull.runner import SyncReport
    from moodle_sync.run import PipelineReport

# The store, the pull and the push are imported inside the commands that use them, after the
# first call, so that `check` and `sync` reach Moodle without loading SQLAlchemy and the
# pipeline first (benchmarks/bench_startup).


@click.command()
@json_option("what was checked and every problem")
@pass_context
@handle_errors
def check(ctx: Context, as_json: bool) -> None:
    """Validate settings and programme, and that the token's service has every function.

    Exits 0 only when the site answers, every function the path in use needs is available to
    the token, every course the programme maps exists in Moodle, both profile fields exist
    (plugin path: as local_cetadsync describes them, locked and not shown to everyone; core
    path: proved by writing, reading back and clearing the integration user's own values),
    every read of the path succeeds on the first mapped course with students' names visible,
    and (core path) Moodle says the integration user may message a student (asked, not tried:
    nothing is sent). Every problem is listed, not only the first.
    """
    settings = ctx.settings()
    programme = ctx.programme(settings)
    say = (lambda _line: None) if as_json else click.echo
    say(f"settings: ok; programme: {programme.name} ({len(programme.modules)} modules)")
    problems: list[str] = []
    with Requester(settings.require_moodle()) as requester:
        info = get_site_info(requester)
        from moodle_sync.paths import from_site_info  # after the first call
        from moodle_sync.pull.runner import load_state
        from moodle_sync.pull.scope import resolve_scope
        from moodle_sync.store.db import open_database

        say(
            f"moodle: {info.sitename!r} at {info.siteurl}, release {info.release}, "
            f"signed in as {info.username} (user id {info.userid})"
        )
        moodle = from_site_info(requester, info)
        path = moodle.site
        say(path.describe())
        problems += [
            f"missing function: {spec.name} ({spec.purpose}); add it to the external service "
            "of this token (Site administration > Server > Web services > External services "
            "> Functions)"
            for spec in missing_functions(info.functions, path.name)
        ]
        _engine, sessions = open_database(settings.database.url)
        known = load_state(sessions)[0]
        scope = resolve_scope(moodle.source, programme.mapped_courses(), known)
        problems += [f"missing course: no Moodle course has idnumber {i!r}" for i in scope.missing]
        fields = [settings.push.progression_field, settings.push.credits_field]
        field_problems, notes = moodle.writer.field_problems(info.userid, info.functions, fields)
        problems += field_problems
        for note in notes:
            say(note)
        access = None
        if scope.courses:
            access = moodle.source.probe(scope.courses[0], info.userid, set(info.functions))
            problems += access.problems
    rollovers = [rollover.describe() for rollover in scope.rolled_over]
    if as_json:
        emit_json({"ok": not problems, "site": info.siteurl, "release": info.release,
                   "user": info.username, "path": path.name,
                   "courses": [c.idnumber for c in scope.courses],
                   "rollovers": rollovers, "problems": problems, "notes": notes,
                   "messaging": access.messaging if access else None})  # fmt: skip
        sys.exit(ExitCode.FAILURE if problems else ExitCode.OK)
    for rollover in rollovers:
        click.echo(f"course rollover: {rollover} (from the next run)")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"check: {len(problems)} problems", err=True)
        sys.exit(ExitCode.FAILURE)
    proved = "reads and messaging" if access and access.messaging == "proved" else "reads"
    probed = f"; {proved} proved on {access.course}" if access else ""
    click.echo(
        f"all {len(scope.courses)} mapped courses found; every function available; "
        f"profile fields {', '.join(fields)} exist{probed}"
    )


@click.command()
@click.option("--full", is_flag=True, help="Ignore bookmarks and re-read everything.")
@json_option("the run record")
@pass_context
@handle_errors
def sync(ctx: Context, full: bool, as_json: bool) -> None:
    """Pull the programme's courses, enrolments, assignments, submissions, extensions and
    grades from Moodle into the database (a progress bar per stage on a terminal)."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    with Requester(settings.require_moodle()) as requester:
        # the site first: a wrong address or a refused token is told before the database
        # (and SQLAlchemy) is opened, and the path is known before the lock is taken
        info = get_site_info(requester)
        from moodle_sync.commands.progress import terminal_progress
        from moodle_sync.ops.lock import pipeline_lock
        from moodle_sync.paths import from_site_info
        from moodle_sync.pull.runner import run_sync
        from moodle_sync.store.db import open_database

        _engine, sessions = open_database(settings.database.url)
        lock = pipeline_lock(sessions, settings, "moodle-sync sync")
        with lock, terminal_progress(wanted=not as_json) as progress:
            window = timedelta(seconds=settings.sync.safety_window_seconds)
            report = run_sync(requester, sessions, programme, full=full, safety_window=window,
                              progress=progress,
                              source=from_site_info(requester, info).source)  # fmt: skip
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
    for rollover in report.rolled_over:
        click.echo(f"  course rollover: {rollover.describe()}")
    own = report.own_dates
    click.echo(
        f"  own dates: asked {own.asked}, overrides {own.overrides}, "
        f"not in course {own.not_participant}, unconfirmed {len(own.unconfirmed)}"
    )


@click.command()
@click.option("--full", is_flag=True, help="Ignore bookmarks and re-read everything first.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be sent; change nothing in Moodle or the outbox.",
)
@json_option("the run record")
@now_option("Decide what is due")
@pass_context
@handle_errors
def run(ctx: Context, full: bool, dry_run: bool, as_json: bool, now: datetime | None) -> None:
    """Pull, then plan and send reminders and digests, then push progression statuses."""
    from moodle_sync.commands.progress import terminal_progress
    from moodle_sync.ops.lock import pipeline_lock
    from moodle_sync.run import open_context, run_pipeline

    settings = ctx.settings()
    programme = ctx.programme(settings)
    bars = terminal_progress(wanted=not as_json)
    with (
        open_context(settings, programme, now=now, full=full, dry_run=dry_run) as run,
        bars as progress,
    ):
        run.progress = progress
        with pipeline_lock(run.sessions, settings, "moodle-sync run"):
            report = run_pipeline(run)
    if as_json:
        emit_json(report.as_dict())
    else:
        print_pipeline(report)
    sys.exit(for_outcome(report.outcome))


def print_pipeline(report: PipelineReport) -> None:
    print_summary(report.sync)
    plan, delivery, profiles = report.plan, report.delivery, report.profiles
    verb = "would send" if report.dry_run else "sent"
    click.echo(f"  messages planned: {plan.planned} new, {plan.held} held until Moodle confirms "
               f"students' own dates, {plan.cancelled} cancelled")  # fmt: skip
    stopped = (
        f", not tried after a batch in doubt {delivery.not_tried}" if delivery.not_tried else ""
    )
    click.echo(
        f"  messages due {delivery.due}: {verb} {delivery.sent}, failed {delivery.failed}, "
        f"cancelled when sending {delivery.skipped}, waiting for the send window "
        f"{delivery.waiting}{stopped}, in doubt {delivery.in_doubt - delivery.earlier_in_doubt}"
        + (
            f" (and {delivery.earlier_in_doubt} from earlier runs)"
            if delivery.earlier_in_doubt
            else ""
        )
    )
    for message in delivery.would_send:
        click.echo(f"    to user {message.recipient_id}: {message.subject} [{message.key}]")
    for key, reason in delivery.failures.items():
        click.echo(f"    failed {key}: {reason}", err=True)
    if delivery.all_refused:
        click.echo(f"  run failed: {delivery.all_refused}", err=True)
    click.echo(
        f"  profile fields: {len(profiles.updates)} participants to update, "
        f"{profiles.pushed} pushed, {profiles.unchanged} unchanged, {len(profiles.failed)} failed"
    )
