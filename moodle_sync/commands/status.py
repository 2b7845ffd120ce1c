"""`moodle-sync status`: what ran, what runs next, what waits, what is stuck, who holds the lock.

Read only: it opens the database without upgrading it and asks Moodle one question
(core_webservice_get_site_info, tried once). An unreachable Moodle is reported and the rest
still printed; only a database that cannot be read makes it exit 1.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from moodle_sync.client import Requester
from moodle_sync.client.site import get_site_info
from moodle_sync.commands.base import (
    Context,
    emit_json,
    handle_errors,
    json_option,
    now_option,
    pass_context,
)
from moodle_sync.errors import MoodleError, MoodleSyncError, ProgrammeError
from moodle_sync.exit_codes import ExitCode
from moodle_sync.ops import scheduler
from moodle_sync.ops.status import read_store
from moodle_sync.settings import Settings
from moodle_sync.store.db import create_db_engine

NO_ANSWER = frozenset({"connection", "timeout", "unreachable", "tls"})  # the requester's codes
REFUSED = frozenset({"invalidtoken", "accessexception"})  # the site answered: not this token


@click.command()
@json_option("the status")
@now_option("Work out the next runs")
@pass_context
@handle_errors
def status(ctx: Context, as_json: bool, now: datetime | None) -> None:
    """Last runs, next runs, outbox, failing courses, lock holder, database and Moodle."""
    settings = ctx.settings()
    now = now or datetime.now(UTC)
    engine = create_db_engine(settings.database.url)
    try:
        found = read_store(engine)
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        click.echo(f"error: cannot read the database at {where}: {exc.__class__.__name__}: "
                   f"{str(exc).splitlines()[0]}; check database.url, or run `moodle-sync db "
                   "upgrade` on a new database", err=True)  # fmt: skip
        sys.exit(ExitCode.FAILURE)
    finally:
        engine.dispose()
    found["next_runs"] = next_runs(ctx, settings, now)
    found["moodle"] = moodle_site(settings)
    if as_json:
        emit_json(found)
    else:
        print_status(found)


def next_runs(ctx: Context, settings: Settings, now: datetime) -> list[dict[str, Any]] | str:
    """The scheduled jobs' next times, or why they cannot be known (a broken programme)."""
    try:
        runs = scheduler.next_runs(settings, now, ctx.programme(settings))
    except (ProgrammeError, MoodleSyncError, ValueError) as exc:
        return f"unknown: {exc}"
    return [{"job": job.name, "full": job.full, "at": at.isoformat()} for job, at in runs]


def moodle_site(settings: Settings) -> dict[str, Any]:
    """Calls: core_webservice_get_site_info, once (no retries: status must not hang)."""
    if settings.moodle is None:
        return {"reachable": False, "error": "not configured: set moodle.url and moodle.token"}
    try:
        with Requester(settings.moodle.model_copy(update={"max_attempts": 1})) as requester:
            info = get_site_info(requester)
    except MoodleError as exc:
        answered = exc.errorcode not in NO_ANSWER
        return {"reachable": answered, "url": settings.moodle.url, "error": str(exc),
                "refused": answered and exc.errorcode in REFUSED}  # fmt: skip
    except MoodleSyncError as exc:
        return {"reachable": False, "url": settings.moodle.url, "error": str(exc)}
    return {"reachable": True, "url": info.siteurl, "sitename": info.sitename,
            "release": info.release, "version": info.version}  # fmt: skip


def print_status(found: dict[str, Any]) -> None:
    db, site, lock = found["database"], found["moodle"], found["lock"]
    behind = "" if db["revision"] == db["head"] else f" (behind {db['head']}: run db upgrade)"
    click.echo(f"database: {db['dialect']}, revision {db['revision']}{behind}")
    if "error" not in site:
        click.echo(f"moodle: {site['sitename']!r} at {site['url']}, release {site['release']}"
                   f" (version {site['version']})")  # fmt: skip
    elif site.get("refused"):
        click.echo(f"moodle: the site answered but refused the token ({site['url']}): "
                   f"{site['error']}")  # fmt: skip
    elif site["reachable"]:
        click.echo(f"moodle: the site answered with an error ({site['url']}): {site['error']}")
    else:
        click.echo(f"moodle: unreachable ({site.get('url', '-')}): {site['error']}")
    click.echo(f"lock: held by {lock['holder']} since {lock['since']}" if lock["held"]
               else "lock: free")  # fmt: skip
    print_runs(found)
    outbox = found["outbox"]
    states = ", ".join(f"{s} {n}" for s, n in sorted(outbox["by_state"].items())) or "empty"
    click.echo(f"outbox: {states}")
    for row in outbox["in_doubt"]:
        click.echo(f"  in doubt since {row['since']}: {row['key']} to user {row['recipient_id']}")
    print_failing(found["failing"])
    for course in found["rolled_over"]:
        click.echo(f"course rollover: {course['idnumber'] or course['name']} moved from course "
                   f"{course['course_id']} (kept as history, no longer synchronised) to course "
                   f"{course['replaced_by']} on {course['at']}")  # fmt: skip


def print_runs(found: dict[str, Any]) -> None:
    click.echo("last runs:" if found["runs"] else "last runs: none yet")
    for run in found["runs"]:
        sent = run["messages"].get("sent", 0)
        pushed = run["status_updates"].get("pushed", 0)
        click.echo(f"  run {run['id']} {run['kind']} {run['outcome']} at {run['started_at']}: "
                   f"read {run['read']}, changed {run['changed']}, messages sent {sent}, "
                   f"statuses pushed {pushed}")  # fmt: skip
    upcoming = found["next_runs"]
    if isinstance(upcoming, str):
        click.echo(f"next runs: {upcoming}")
        return
    click.echo("next runs:" if upcoming else "next runs: none scheduled")
    for run in upcoming:
        click.echo(f"  {run['job']} ({'full' if run['full'] else 'incremental'}) at {run['at']}")


def print_failing(failing: dict[str, Any]) -> None:
    if not failing:
        return
    problems = [f"{c}: {why}" for c, why in failing["failed_courses"].items()]
    problems += [f"{c}: no Moodle course has this idnumber" for c in failing["missing_courses"]]
    if problems:
        click.echo(f"failing courses (run {failing['run_id']}):")
    elif not failing["error"] and not failing.get("messages"):
        click.echo(f"failing courses (run {failing['run_id']}): none")
    for problem in problems:
        click.echo(f"  {problem}")
    if failing["error"]:
        click.echo(f"run {failing['run_id']} stopped: {failing['error']}")
    if failing.get("messages"):
        click.echo(f"run {failing['run_id']} messages: {failing['messages']}")
