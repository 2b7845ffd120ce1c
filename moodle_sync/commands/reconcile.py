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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.commands.base import (
    Context,
    emit_json,
    handle_errors,
    json_option,
    now_option,
    pass_context,
)
from moodle_sync.exit_codes import ExitCode
from moodle_sync.ops.ledger import annotate_run
from moodle_sync.ops.lock import pipeline_lock
from moodle_sync.rules.policy import Programme
from moodle_sync.run import RunContext, open_context, run_pipeline
from moodle_sync.store.tables import AuditEntry, ProfileValue
from moodle_sync.support.reconcile import (
    Difference,
    Reconciliation,
    choose_courses,
    diff,
    plural,
    resolve_user,
)


@dataclass
class Repair:
    """What --apply did: the differences before, the actions, and what is left after."""

    before: Reconciliation
    after: Reconciliation
    run_id: int
    outcome: str
    forgotten: int
    planned: int
    cancelled: int
    pushed: int
    profile_failures: dict[int, str]

    def summary(self) -> dict[str, Any]:
        areas = Counter(d.area for d in self.before.differences)
        return {
            "courses": self.before.courses,
            "user_id": self.before.user_id,
            "differences": dict(sorted(areas.items())),
            "profile_values_forgotten": self.forgotten,
            "reminders_planned": self.planned,
            "reminders_cancelled": self.cancelled,
            "profiles_pushed": self.pushed,
            "profiles_failed": {str(k): v for k, v in self.profile_failures.items()},
            "remaining": len(self.after.differences),
        }


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


def choose_scope(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    course: str | None,
    user: str | None,
) -> Reconciliation:
    courses = choose_courses(list(programme.mapped_courses()), course)
    with sessions() as session:
        user_id = resolve_user(session, requester, user) if user else None
    return Reconciliation(courses, user_id)


def repair(ctx: RunContext, scope: Reconciliation, actor: str) -> Repair:
    """Re-pull the scope in full, re-plan and re-push from one evaluation (nothing is sent:
    the next scheduled run delivers); record a `reconcile` run and an audit entry."""
    push, source = ctx.settings.push, ctx.moodle_path().source
    before = diff(ctx.sessions, ctx.requester, source, ctx.programme, push, scope, ctx.now)
    forgotten = forget_hand_edits(ctx.sessions, before.differences)
    done = run_pipeline(ctx)
    after = diff(ctx.sessions, ctx.requester, source, ctx.programme, push, scope, ctx.now)
    profiles = done.profiles
    failed = done.sync.outcome != "complete" or profiles.failed or profiles.in_doubt
    repaired = Repair(before, after, done.sync.run_id, "partial" if failed else "complete",
                      forgotten, done.plan.planned, done.plan.cancelled, profiles.pushed,
                      profiles.failed)  # fmt: skip
    record(ctx.sessions, repaired, actor, ctx.clock())
    return repaired


def forget_hand_edits(sessions: sessionmaker[Session], found: list[Difference]) -> int:
    """Drop the last-pushed value of fields edited in Moodle, so the push sends ours again."""
    edits = [d for d in found if d.area == "profile" and d.side == "moodle"]
    with sessions.begin() as session:
        for d in edits:
            mine = (ProfileValue.user_id == d.user_id) & (ProfileValue.field == d.field_name)
            session.execute(delete(ProfileValue).where(mine))
    return len(edits)


def record(sessions: sessionmaker[Session], done: Repair, actor: str, now: datetime) -> None:
    """The reconcile run keeps its summary; the audit log says who asked for it."""
    summary = done.summary()
    annotate_run(sessions, done.run_id, reconcile=summary)
    with sessions.begin() as session:
        target = ",".join(done.before.courses)
        if done.before.user_id is not None:
            target += f" user {done.before.user_id}"
        detail = {"run_id": done.run_id, **summary}
        entry = AuditEntry(at=now, actor=actor, action="reconcile",
                           target=target[:200], detail=detail)  # fmt: skip
        session.add(entry)


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
