"""Alerts: a failed or partial run tells the programme's administrators, once a day per problem.

An alert is an outbox row like any message, keyed `a-<admin>-<fingerprint>-<yyyymmdd>`: the
fingerprint names the problem (which courses failed, a fatal error's class and code, messages
in doubt), not the run, so the outbox's unique key lets the same problem through once a day
however often the worker runs, and a new problem through at once. `raise_alarm` delivers it
at once when the send window is open; otherwise the next run in the window sends it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.errors import MoodleError, MoodleSyncError
from moodle_sync.push import outbox
from moodle_sync.push.dispatch import Delivery, deliver
from moodle_sync.push.render import marker
from moodle_sync.settings import Settings

if TYPE_CHECKING:
    from moodle_sync.run import PipelineReport, RunContext

ALERT_KIND = "alert"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """What went wrong, in words, with the next step for each part."""

    outcome: str
    run_id: int | None
    lines: tuple[str, ...]  # what happened
    actions: tuple[str, ...]  # what to do
    signature: tuple[str, ...]  # what makes it "the same problem"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.signature).encode()).hexdigest()[:12]


def problem_of(report: PipelineReport | BaseException) -> Problem | None:
    """The problem a run reported, or None when it completed."""
    if isinstance(report, BaseException):
        return _failure(report)
    if report.outcome == "complete":
        return None
    lines: list[str] = []
    actions: list[str] = []
    sig: list[str] = [report.outcome]
    sync = report.sync
    for idnumber, reason in sorted(sync.failed_courses.items()):
        lines.append(f"Course {idnumber} was not read: {reason}")
        sig.append(f"failed:{idnumber}")
    for idnumber in sorted(sync.missing_courses):
        lines.append(f"No Moodle course has idnumber {idnumber!r}")
        sig.append(f"missing:{idnumber}")
    if sync.failed_courses or sync.missing_courses:
        actions.append(
            "Run `moodle-sync check` and `moodle-sync status`; fix the course mapping "
            "or the token's access. The next run reads these courses again."
        )
    if report.delivery.all_refused:
        lines.append(f"No message reached anyone: {report.delivery.all_refused}")
        actions.append("Run `moodle-sync check`: it asks Moodle whether students can be "
                       "messaged and names what the role lacks.")  # fmt: skip
        sig.append("all_refused")
    if report.delivery.in_doubt:
        lines.append(f"{report.delivery.in_doubt} messages are in doubt (sent, outcome unknown)")
        actions.append(
            "Check them in Moodle, then `moodle-sync outbox list --state sending` and "
            "`moodle-sync outbox resolve KEY --delivered|--not-delivered`."
        )
        sig.append("in_doubt")
    return Problem(report.outcome, sync.run_id, tuple(lines), tuple(actions), tuple(sig))


def _failure(exc: BaseException) -> Problem:
    code = exc.errorcode if isinstance(exc, MoodleError) else None
    return Problem(
        "failed",
        None,
        (f"The run stopped: {exc}",),
        (
            "An administrator must act: run `moodle-sync check`, fix what it names, then "
            "`moodle-sync run`.",
        ),
        ("failed", type(exc).__name__, code or ""),
    )


def alert_key(admin: int, problem: Problem, now: dt.datetime) -> str:
    return f"a-{admin}-{problem.fingerprint}-{now.astimezone(dt.UTC):%Y%m%d}"


def render(problem: Problem, now: dt.datetime, key: str) -> dict[str, str]:
    """The payload delivery sends: subject, plain text and the HTML Moodle shows, each ending
    with the `Ref:` marker that lets an alert in doubt be settled like any message."""
    run = f"run {problem.run_id}" if problem.run_id is not None else "a run"
    subject = f"moodle-sync: {run} {problem.outcome} at {now:%Y-%m-%d %H:%M} UTC"
    text = "\n".join(
        [subject, "", *problem.lines, "", "What to do:", *problem.actions, "", marker(key)]
    )
    items = "".join(f"<li>{escape(line)}</li>" for line in problem.lines)
    todo = "".join(f"<li>{escape(action)}</li>" for action in problem.actions)
    html = (
        f"<p><strong>{escape(subject)}</strong></p><ul>{items}</ul>"
        f"<p>What to do:</p><ul>{todo}</ul><p>{escape(marker(key))}</p>"
    )
    return {"subject": subject, "text": text, "html": html}


def plan_alerts(
    sessions: sessionmaker[Session],
    settings: Settings,
    report: PipelineReport | BaseException,
    now: dt.datetime,
) -> int:
    """Queue one alert per administrator for a failed or partial run; return how many are new.

    A dry run alerts nobody. The same problem on the same (UTC) day is already keyed.
    """
    if not isinstance(report, BaseException) and report.dry_run:
        return 0
    problem = problem_of(report)
    admins = settings.alerts.admin_users
    if problem is None or not admins:
        return 0
    keys = {admin: alert_key(admin, problem, now) for admin in admins}
    rows = [
        _row(key, admin, render(problem, now, key), problem, now) for admin, key in keys.items()
    ]
    with sessions.begin() as session:
        known = outbox.known_keys(session, [str(row["key"]) for row in rows])
        new = [row for row in rows if row["key"] not in known]
        outbox.enqueue(session, new, now)
    return len(new)


def _row(
    key: str, admin: int, payload: dict[str, str], problem: Problem, now: dt.datetime
) -> dict[str, object]:
    return {
        "key": key,
        "kind": ALERT_KIND,
        "recipient_id": admin,
        "payload": payload,
        "state": outbox.State.PLANNED,
        "send_after": now,
        "run_id": problem.run_id,
        "assignment_id": None,
        "deadline_at": None,
    }


def raise_alarm(ctx: RunContext, report: PipelineReport | BaseException) -> int:
    """Plan the run's alerts and deliver them now rather than at the next run (which may be a
    day away), if the send window is open: at 02:00 they wait for its opening like any message.
    A delivery that fails leaves them planned. Never raises: the run's own outcome is what the
    caller reports."""
    planned = plan_alerts(ctx.sessions, ctx.settings, report, ctx.clock())
    if planned:
        delivery = Delivery(ctx.requester, ctx.sessions, ctx.writer(), ctx.settings.push,
                            ctx.clock, ctx.window, outbox.still_true)  # fmt: skip
        try:
            deliver(delivery, kind=ALERT_KIND)
        except MoodleSyncError as exc:
            log.warning("%d alerts planned but not delivered now: %s", planned, exc)
    return planned
