"""`moodle-sync reconcile`: where Moodle and the service disagree, and, with --apply, the repair.

Without --apply nothing is written anywhere (the store, the outbox, Moodle). With it, under
the pipeline lock: profile values edited by hand in Moodle are forgotten (so the push sends
them again), the scope is pulled in full, the planner re-plans (cancelling stale reminders),
profile fields are pushed, and the pull's sync run becomes a `reconcile` run recording what
was done, with an audit entry naming the OS user.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.commands.base import Context, emit_json, handle_errors, pass_context
from moodle_sync.exit_codes import ExitCode
from moodle_sync.lock import pipeline_lock
from moodle_sync.pull.runner import run_sync
from moodle_sync.push.planner import plan
from moodle_sync.push.profile import push_profiles
from moodle_sync.reconcile import (
    Difference,
    Reconciliation,
    choose_courses,
    diff,
    plural,
    resolve_user,
)
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import Settings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import AuditEntry, ProfileValue, SyncRun


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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_context
@handle_errors
def reconcile(
    ctx: Context, course: str | None, user: str | None, repair_it: bool, as_json: bool
) -> None:
    """Compare live Moodle with the store and with what was pushed; repair with --apply."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    engine, sessions = open_database(settings.database.url)
    now = datetime.now(UTC)
    with Requester(settings.require_moodle()) as requester:
        scope = choose_scope(sessions, requester, programme, course, user)
        if not repair_it:
            found = diff(sessions, requester, programme, settings.push, scope, now)
            print_result(found, as_json, hint=True)
            sys.exit(ExitCode.PARTIAL if found.failed_courses else ExitCode.OK)
        actor = os_user()
        with pipeline_lock(engine, settings, f"reconcile --apply by {actor}"):
            done = repair(settings, programme, requester, sessions, scope, now, actor)
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


def repair(
    settings: Settings,
    programme: Programme,
    requester: Requester,
    sessions: sessionmaker[Session],
    scope: Reconciliation,
    now: datetime,
    actor: str,
) -> Repair:
    """Re-pull in full, re-plan, re-push; record a `reconcile` run and an audit entry."""
    push = settings.push
    before = diff(sessions, requester, programme, push, scope, now)
    forgotten = forget_hand_edits(sessions, before.differences)
    window = timedelta(seconds=settings.sync.safety_window_seconds)
    pulled = run_sync(requester, sessions, scope.courses, full=True, safety_window=window)
    run_id, site = pulled.run_id, requester.settings.url
    planned = plan(sessions, programme, push, now, run_id, site_url=site)
    profiles = push_profiles(sessions, requester, programme, push, now, run_id)
    after = diff(sessions, requester, programme, push, scope, now)
    failed = pulled.outcome != "complete" or profiles.failed or profiles.in_doubt
    done = Repair(before, after, run_id, "partial" if failed else "complete", forgotten,
                  planned.planned, planned.cancelled, profiles.pushed, profiles.failed)  # fmt: skip
    record(sessions, done, actor)
    return done


def forget_hand_edits(sessions: sessionmaker[Session], found: list[Difference]) -> int:
    """Drop the last-pushed value of fields edited in Moodle, so the push sends ours again."""
    edits = [d for d in found if d.area == "profile" and d.side == "moodle"]
    with sessions.begin() as session:
        for d in edits:
            mine = (ProfileValue.user_id == d.user_id) & (ProfileValue.field == d.field_name)
            session.execute(delete(ProfileValue).where(mine))
    return len(edits)


def record(sessions: sessionmaker[Session], done: Repair, actor: str) -> None:
    """The pull's run becomes the reconcile run; the audit log says who asked for it."""
    summary = done.summary()
    with sessions.begin() as session:
        run = session.get_one(SyncRun, done.run_id)
        run.kind, run.outcome = "reconcile", done.outcome
        messages = {"planned": done.planned, "cancelled": done.cancelled}
        updates = {"pushed": done.pushed, "failed": len(done.profile_failures)}
        run.counts = {**run.counts, "messages": messages, "status_updates": updates,
                      "reconcile": summary}  # fmt: skip
        target = ",".join(done.before.courses)
        if done.before.user_id is not None:
            target += f" user {done.before.user_id}"
        detail = {"run_id": done.run_id, **summary}
        entry = AuditEntry(at=datetime.now(UTC), actor=actor, action="reconcile",
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
