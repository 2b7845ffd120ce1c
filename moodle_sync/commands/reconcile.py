"""`moodle-sync reconcile`: where Moodle and the service disagree, and, with --apply, the repair.

Without --apply nothing is written anywhere (the store, the outbox, Moodle). With it, under
the pipeline lock: profile values edited by hand in Moodle are forgotten (so the push sends
them again), then the same pipeline as every run, narrowed to the scope: the courses pulled
in full, one evaluation, the planner re-plans (cancelling stale reminders; nothing is sent,
the next scheduled run delivers), profile fields are pushed (only the one person's, with
--user); it is recorded as a `reconcile` run with what was done, and an audit entry names
the OS user.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime

import click

from moodle_sync.commands.base import (
    Context,
    emit_json,
    handle_errors,
    json_option,
    now_option,
    pass_context,
)
from moodle_sync.exit_codes import ExitCode
from moodle_sync.ops.lock import pipeline_lock
from moodle_sync.run import open_context
from moodle_sync.support.reconcile import Reconciliation, choose_scope, diff, plural
from moodle_sync.support.repair import Repair, repair


@click.command()
@click.option("--course", metavar="IDNUMBER", help="Only this mapped course (else all).")
@click.option("--user", metavar="ID|USERNAME|EMAIL", help="Only this person.")
@click.option("--apply", "repair_it", is_flag=True, help="Repair the differences found.")
@json_option()
@now_option("Compare and plan")
@pass_context
@handle_errors
def reconcile(
    ctx: Context,
    course: str | None,
    user: str | None,
    repair_it: bool,
    as_json: bool,
    now: datetime | None,
) -> None:
    """Compare live Moodle with the store and with what was pushed; repair with --apply."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    with open_context(settings, programme, now=now, kind="reconcile", full=True,
                      send=False) as run:  # fmt: skip
        scope = choose_scope(run.sessions, run.requester, programme, course, user)
        if not repair_it:
            source = run.moodle_path().source
            found = diff(run.sessions, run.requester, source, programme, settings.push, scope,
                         run.now)  # fmt: skip
            print_result(found, as_json, hint=True)
            sys.exit(ExitCode.PARTIAL if found.failed_courses else ExitCode.OK)
        actor = os_user()
        run.courses, run.only_user = scope.courses, scope.user_id
        with pipeline_lock(run.sessions, settings, f"reconcile --apply by {actor}"):
            done = repair(run, scope, actor)
    print_repair(done, as_json)
    sys.exit(ExitCode.OK if done.outcome == "complete" else ExitCode.PARTIAL)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def print_result(found: Reconciliation, as_json: bool, *, hint: bool = False) -> None:
    if as_json:
        emit_json(found.as_dict())
        return
    who = f", user {found.user_id}" if found.user_id is not None else ""
    count = plural(len(found.differences), "difference")
    click.echo(f"reconcile {', '.join(found.courses)}{who}: {count}")
    for difference in found.differences:
        click.echo(f"  {difference.line()}")
    for idnumber in found.missing_courses:
        click.echo(f"  missing course: no Moodle course has idnumber {idnumber!r}", err=True)
    for idnumber, reason in found.failed_courses.items():
        click.echo(f"  not compared {idnumber}: {reason}", err=True)
    if found.differences and hint:
        click.echo("nothing was changed; run again with --apply to repair")


def print_repair(done: Repair, as_json: bool) -> None:
    if as_json:
        emit_json({**done.summary(), "run_id": done.run_id, "outcome": done.outcome,
                   "before": done.before.as_dict(), "after": done.after.as_dict()})  # fmt: skip
        return
    print_result(done.before, as_json=False)
    s = done.summary()
    click.echo(
        f"repaired in sync run {done.run_id} (reconcile, {done.outcome}): forgot "
        f"{s['profile_values_forgotten']} hand-edited profile values, cancelled "
        f"{s['reminders_cancelled']} stale reminders, planned {s['reminders_planned']}, "
        f"pushed {s['profiles_pushed']} profiles; {s['remaining']} differences remain"
    )
    for difference in done.after.differences:
        click.echo(f"  still: {difference.line()}")
