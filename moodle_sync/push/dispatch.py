"""Drain the outbox into Moodle: each due message sent once, or reported in doubt.

For every batch: claim its rows as ``sending`` and commit, make one call, then commit each
row's outcome (``sent`` with Moodle's id, or ``failed`` with Moodle's reason). A crash between
the two commits leaves rows ``sending``; ``deliver`` settles those first (see indoubt.py), so
the pipeline does not need to; rows it cannot settle yet stay ``sending`` (never resent) while
the other due rows go out. A batch whose outcome is unknown stops the delivery: the site is
sick, and its rows are left for the next run's in-doubt check. An error that proves the call
was refused (maintenance, a revoked token) returns its batch to ``planned`` and is raised.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.messages import OutgoingMessage, send_instant_messages
from moodle_sync.client.models import MessageResult
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.client.site import get_site_info
from moodle_sync.errors import InDoubtError, MoodleError, SafetyValveError
from moodle_sync.push import outbox
from moodle_sync.push.indoubt import InDoubtReport, resolve_in_doubt
from moodle_sync.push.outbox import Delivered
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import OutboxMessage

__all__ = ["DeliveryReport", "SafetyValveError", "WouldSend", "deliver"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WouldSend:
    """One message a dry run would send, exactly as it would go out."""

    key: str
    recipient_id: int
    subject: str
    text: str


@dataclass
class DeliveryReport:
    due: int = 0
    sent: int = 0
    failed: int = 0
    in_doubt: int = 0  # rows left ``sending`` after this delivery, old or new
    skipped: int = 0  # opted-out recipients: cancelled, never sent
    dry_run: bool = False
    would_send: list[WouldSend] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # key -> Moodle's reason
    resolution: InDoubtReport | None = None


@dataclass
class _Prepared:
    """Due rows sorted by what happens to them, before anything is written."""

    sendable: list[tuple[OutboxMessage, OutgoingMessage]] = field(default_factory=list)
    opted_out: dict[int, str] = field(default_factory=dict)
    invalid: dict[int, str] = field(default_factory=dict)


def deliver(
    requester: Requester,
    sessions: sessionmaker[Session],
    push_settings: PushSettings,
    now: datetime,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    kind: str | None = None,
) -> DeliveryReport:
    """Calls: core_message_send_instant_messages, after settling in-doubt rows.

    ``limit`` replaces ``push_settings.max_messages_per_run`` for this run (an operator's
    deliberate override); above it nothing is sent and ``SafetyValveError`` is raised, in a
    dry run too, so the dry run says what the real run would do. ``kind`` delivers only rows
    of that kind (administrators' alerts, which must get through when the valve has tripped).
    """
    if now.tzinfo is None:
        raise ValueError(f"now={now!r} is naive: pass an aware datetime (UTC)")
    report = DeliveryReport(dry_run=dry_run)
    report.resolution = _settle_in_doubt(requester, sessions, now, dry_run)
    prepared = _prepare_due(sessions, push_settings, now, report, kind)
    maximum = push_settings.max_messages_per_run if limit is None else limit
    if len(prepared.sendable) > maximum:
        raise SafetyValveError(len(prepared.sendable), maximum)
    if dry_run:
        report.would_send = [_would_send(row, message) for row, message in prepared.sendable]
    else:
        _send_all(requester, sessions, push_settings, prepared, now, report)
    if report.resolution is not None:
        report.in_doubt += len(report.resolution.still_in_doubt)
    return report


def _settle_in_doubt(
    requester: Requester, sessions: sessionmaker[Session], now: datetime, dry_run: bool
) -> InDoubtReport | None:
    with sessions() as session:
        if outbox.counts_by_state(session)[outbox.SENDING] == 0:
            return None
    userid = get_site_info(requester).userid
    return resolve_in_doubt(requester, sessions, userid, now, dry_run=dry_run)


def _prepare_due(
    sessions: sessionmaker[Session],
    settings: PushSettings,
    now: datetime,
    report: DeliveryReport,
    kind: str | None = None,
) -> _Prepared:
    """Read the due rows and sort them: sendable, opted out, or impossible to send."""
    with sessions() as session:
        due = outbox.due_rows(session, now, kind)
    prepared = _Prepared()
    opted_out = set(settings.opt_out_users)
    for row in due:
        if row.recipient_id in opted_out:
            reason = f"user {row.recipient_id} is on the opt-out list (push.opt_out_users)"
            prepared.opted_out[row.id] = reason
            continue
        try:
            prepared.sendable.append((row, _message(row)))
        except (KeyError, TypeError, ValueError) as exc:
            prepared.invalid[row.id] = f"not sendable, fix the planner or template: {exc}"
            report.failures[row.key] = prepared.invalid[row.id]
    report.due = len(due)
    report.skipped = len(prepared.opted_out)
    report.failed = len(prepared.invalid)
    return prepared


def _message(row: OutboxMessage) -> OutgoingMessage:
    html = row.payload["html"]
    if not isinstance(html, str) or not html.strip():
        raise ValueError(f"payload 'html' of {row.key!r} is empty or not text: {html!r}")
    return OutgoingMessage(row.recipient_id, html, clientmsgid=row.key)


def _would_send(row: OutboxMessage, message: OutgoingMessage) -> WouldSend:
    return WouldSend(row.key, row.recipient_id, str(row.payload.get("subject", "")), message.text)


def _send_all(
    requester: Requester,
    sessions: sessionmaker[Session],
    settings: PushSettings,
    prepared: _Prepared,
    now: datetime,
    report: DeliveryReport,
) -> None:
    with sessions.begin() as session:
        outbox.cancel(session, prepared.opted_out, now)
        outbox.reject(session, prepared.invalid, now)
    for number, batch in enumerate(_batches(requester, settings, prepared.sendable), start=1):
        if not _send_batch(requester, sessions, batch, now, report, number):
            break  # the site is sick: leave the rest planned for the next run


def _batches(
    requester: Requester,
    settings: PushSettings,
    rows: Sequence[tuple[OutboxMessage, OutgoingMessage]],
) -> Iterator[list[tuple[OutboxMessage, OutgoingMessage]]]:
    """Batches of at most ``batch_size`` that each fit in exactly one request.

    One request per batch means an error other than "in doubt" proves the whole batch unsent.
    """
    moodle = requester.settings
    params = [message.as_param() for _row, message in rows]
    size = min(settings.batch_size, moodle.max_ids_per_call)
    start = 0
    for chunk in chunk_rows(
        params, "messages", fixed=None, budget=moodle.max_input_vars, max_rows=size
    ):
        yield list(rows[start : start + len(chunk)])
        start += len(chunk)


def _send_batch(
    requester: Requester,
    sessions: sessionmaker[Session],
    batch: list[tuple[OutboxMessage, OutgoingMessage]],
    now: datetime,
    report: DeliveryReport,
    number: int,
) -> bool:
    """Claim, send, record one batch; False when its outcome is unknown (stop delivering)."""
    with sessions.begin() as session:
        claimed = set(outbox.claim(session, [row.id for row, _ in batch], _wall_clock()))
    batch = [(row, message) for row, message in batch if row.id in claimed]
    if not batch:
        return True
    _test_crash_hook("before_call", number)
    _test_crash_hook("during_call", number)
    try:
        results = send_instant_messages(requester, [message for _, message in batch])
    except InDoubtError as exc:
        _record(sessions, batch, exc.completed, now, report)
        report.in_doubt += len(batch) - len(exc.completed)
        log.error("batch %d left in doubt (%d messages): %s", number, len(batch), exc)
        return False
    except MoodleError:
        _release(sessions, batch, now)  # one request, refused outright: nothing was sent
        raise
    _test_crash_hook("after_call", number)
    _record(sessions, batch, results, now, report)
    return True


def _record(
    sessions: sessionmaker[Session],
    batch: Sequence[tuple[OutboxMessage, OutgoingMessage]],
    results: Sequence[MessageResult],
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Commit each answered message's outcome; rows without an answer stay ``sending``."""
    delivered: list[Delivered] = []
    refused: dict[int, str] = {}
    for (row, _), result in zip(batch, results, strict=False):
        if result.clientmsgid not in (None, row.key):
            continue  # not the answer for this row: leave it in doubt rather than guess
        if result.ok and result.msgid is not None:
            delivered.append(Delivered(row.id, result.msgid, result.timecreated or now))
        else:
            refused[row.id] = result.errormessage or "Moodle refused the message, giving no reason"
            report.failures[row.key] = refused[row.id]
    with sessions.begin() as session:
        outbox.mark_sent(session, delivered, now)
        outbox.mark_failed(session, refused, now)
    report.sent += len(delivered)
    report.failed += len(refused)


def _release(
    sessions: sessionmaker[Session],
    batch: Sequence[tuple[OutboxMessage, OutgoingMessage]],
    now: datetime,
) -> None:
    with sessions.begin() as session:
        outbox.release(session, [row.id for row, _ in batch], now)


def _wall_clock() -> datetime:
    """When a batch really went out: compared with Moodle's own timestamps, never with --now."""
    return datetime.now(UTC)


# --- test hook -------------------------------------------------------------------------------
CRASH_ENV = "MOODLE_SYNC_TEST_CRASH_AT"  # "before_call", "during_call:2", "after_call" ...
CRASH_DELAY_ENV = "MOODLE_SYNC_TEST_CRASH_DELAY_MS"  # during_call: how long into the call


def _test_crash_hook(point: str, batch: int) -> None:
    """For the crash test only: SIGKILL this process at ``point`` of batch N (default 1).

    ``during_call`` arms a timer instead, so the kill lands while the request is in flight.
    Does nothing unless ``MOODLE_SYNC_TEST_CRASH_AT`` is set.
    """
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    name, _, number = wanted.partition(":")
    if name != point or int(number or 1) != batch:
        return
    if point == "during_call":
        delay = int(os.environ.get(CRASH_DELAY_ENV, "300")) / 1000
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
    else:
        os.kill(os.getpid(), signal.SIGKILL)
