"""`moodle-sync outbox` and `moodle-sync history`: support staff's tools for the outbox.

Each change is an operator's move through `push.outbox` (the one owner of outbox rows): a
conditional UPDATE on the state the row must be in (the planner or a delivery may be moving
it at the same moment), written to the audit log with the operating-system user who ran it,
in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.commands.base import Context, emit_json, handle_errors, json_option, pass_context
from moodle_sync.push import outbox as rows
from moodle_sync.push.outbox import State
from moodle_sync.store.db import open_database
from moodle_sync.store.people import find_user, name_of, names
from moodle_sync.store.tables import OutboxMessage, User
from moodle_sync.support.history import operator_actions, person_events


def change(
    session: Session, key: str, allowed: tuple[State, ...], action: str, to: State, **values: Any
) -> OutboxMessage:
    """An operator's move of one row, audited with the OS user who made it."""
    now = dt.datetime.now(dt.UTC)
    return rows.operator_move(session, key, allowed, to, actor=getpass.getuser(),
                                action=action, now=now, **values)  # fmt: skip


@click.group()
def outbox() -> None:
    """Inspect and settle the messages waiting to go to Moodle."""


def _sessions(ctx: Context) -> sessionmaker[Session]:
    return open_database(ctx.settings().database.url)[1]


def describe(row: OutboxMessage) -> dict[str, Any]:
    payload = row.payload or {}
    return {
        "key": row.key,
        "kind": row.kind,
        "recipient_id": row.recipient_id,
        "state": row.state,
        "planned_at": row.planned_at,
        "send_after": row.send_after,
        "sent_at": row.sent_at,
        "updated_at": row.updated_at,
        "attempts": row.attempts,
        "moodle_message_id": row.moodle_message_id,
        "error": row.error,
        "subject": payload.get("subject"),
    }


@outbox.command("list")
@click.option(
    "--state", type=click.Choice([str(s) for s in State]), help="Only rows in this state."
)
@click.option("--user", "who", help="Only rows for this user (id, username or email).")
@json_option("the rows")
@pass_context
@handle_errors
def list_command(ctx: Context, state: str | None, who: str | None, as_json: bool) -> None:
    """The outbox's rows, oldest first."""
    with _sessions(ctx)() as session:
        recipient = find_user(session, who).id if who else None
        found = rows.listed(session, State(state) if state else None, recipient)
        people = names(session, {row.recipient_id for row in found})
        listing = [describe(row) | {"recipient": people[row.recipient_id]} for row in found]
    if as_json:
        emit_json(listing)
        return
    for r in listing:
        click.echo(f"{r['state']:<9} {r['key']}  to {r['recipient']}: {r['subject'] or ''}")
    click.echo(f"{len(listing)} rows", err=True)


@outbox.command("show")
@click.argument("key")
@json_option("the row")
@pass_context
@handle_errors
def show(ctx: Context, key: str, as_json: bool) -> None:
    """One row: its state, times, error, the message as its reader sees it, and what was
    done to it by hand."""
    with _sessions(ctx)() as session:
        row = rows.find(session, key)
        recipient = name_of(session.get(User, row.recipient_id), row.recipient_id)
        actions = operator_actions(session, row)
    found = {**describe(row), "recipient": recipient,
             "text": (row.payload or {}).get("text"), "audit": actions}  # fmt: skip
    if as_json:
        emit_json(found)
        return
    click.echo(f"{key}: {found['state']} {found['kind']} to {recipient}")
    for label, name in (("planned", "planned_at"), ("due", "send_after"), ("sent", "sent_at")):
        if found[name] is not None:
            click.echo(f"  {label}: {found[name]:%Y-%m-%d %H:%M %Z}")
    if found["error"]:
        click.echo(f"  why: {found['error']}")
    click.echo(f"\nSubject: {found['subject'] or '-'}\n")
    click.echo(found["text"] or "(no text)")
    for action in actions:
        click.echo(f"\n{action['at']:%Y-%m-%d %H:%M} {action['action']} by {action['actor']}")


@outbox.command("resolve")
@click.argument("key")
@click.option(
    "--delivered/--not-delivered",
    default=None,
    help="What you found in Moodle: the message arrived, or it did not.",
)
@pass_context
@handle_errors
def resolve(ctx: Context, key: str, delivered: bool | None) -> None:
    """Settle an in-doubt (`sending`) row after checking Moodle by hand.

    --delivered marks it sent; --not-delivered returns it to planned, so the next run sends it.
    """
    if delivered is None:
        raise click.UsageError("say what Moodle shows: --delivered or --not-delivered")
    with _sessions(ctx).begin() as session:
        if delivered:
            now = dt.datetime.now(dt.UTC)
            change(session, key, (State.SENDING,), "resolve", State.SENT, sent_at=now, error=None)
        else:
            change(session, key, (State.SENDING,), "resolve", State.PLANNED)
    click.echo(f"{key}: {'sent' if delivered else 'planned again'}")


@outbox.command("cancel")
@click.argument("key")
@pass_context
@handle_errors
def cancel(ctx: Context, key: str) -> None:
    """Cancel a planned row so that it is never sent."""
    with _sessions(ctx).begin() as session:
        change(
            session,
            key,
            (State.PLANNED,),
            "cancel",
            State.CANCELLED,
            error=f"cancelled by hand by {getpass.getuser()}",
        )
    click.echo(f"{key}: cancelled")


@outbox.command("resend")
@click.argument("key", required=False)
@click.option("--state", type=click.Choice(["failed", "cancelled"]),
              help="Every row in this state instead of one KEY.")  # fmt: skip
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M%z"]),
              help="With --state: only rows changed at or after this time (ISO-8601).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List the rows that would be planned again.")
@pass_context
@handle_errors
def resend(
    ctx: Context, key: str | None, state: str | None, since: dt.datetime | None, dry_run: bool
) -> None:
    """Return a failed or cancelled row (KEY), or every row of --state, to planned, so the
    next run sends it.

    It is checked like any planned row at the moment it would be sent: if its reason no
    longer holds (work since submitted, deadline moved) it is cancelled with that reason
    instead; a failed row fails again if Moodle's refusal still stands. It goes only inside
    the send window. Check `outbox show KEY` first.
    """
    if (key is None) == (state is None):
        raise click.UsageError("give one KEY, or --state failed|cancelled (not both)")
    with _sessions(ctx).begin() as session:
        keys = [key] if key else rows.keys_in(session, State(str(state)), since)
        if not dry_run:
            for one in keys:
                change(session, one, (State.FAILED, State.CANCELLED), "resend", State.PLANNED,
                       error=None)  # fmt: skip
    for one in keys:
        click.echo(f"{one}: {'would be planned again' if dry_run else 'planned again'}")
    click.echo(f"{len(keys)} rows{' (dry run: nothing changed)' if dry_run else ''}; "
               "the next run sends them", err=True)  # fmt: skip


@click.command()
@click.option("--user", "who", required=True, help="Moodle user id, username or email.")
@json_option("the events")
@pass_context
@handle_errors
def history(ctx: Context, who: str, as_json: bool) -> None:
    """Every message and status change for one person, oldest first."""
    with _sessions(ctx)() as session:
        user = find_user(session, who)
        events = person_events(session, user.id)
    if as_json:
        emit_json(events)
        return
    click.echo(f"history of {name_of(user, user.id)}")
    for e in events:
        click.echo(f"{e['at']:%Y-%m-%d %H:%M} {e['what']:<16} {e['detail']}")
