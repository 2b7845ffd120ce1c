"""Drain the outbox into Moodle: each due message sent once, or reported in doubt.

Rows left ``sending`` by an earlier run are settled first (the writer's `settle`). Then, batch by
batch: claim the batch's rows as ``sending`` and commit (`outbox.claim` decides there and then
whether each may go: the send window open, its reason still true), make one call, then commit
each row's outcome (``sent`` with Moodle's id, or ``failed`` with Moodle's reason). A crash
between the two commits leaves rows ``sending`` for the next run's in-doubt check. A batch
whose outcome is unknown stops the delivery (the site is sick); an error that proves the call
was refused (maintenance, a revoked token) returns its batch to ``planned`` and is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.messages import OutgoingMessage, refusal_hint
from moodle_sync.client.models import MessageResult
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.errors import InDoubtError, MoodleError, SafetyValveError
from moodle_sync.push import outbox
from moodle_sync.push.outbox import Delivered, SendWindow, Verdict
from moodle_sync.push.writer import InDoubtReport, MoodleWrites
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import OutboxMessage

__all__ = ["DeliveryReport", "WouldSend", "deliver"]

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
PROVIDERS = {"tutor_digest": "tutordigest", "alert": "adminalert"}  # else studentreminder


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
    sent: int = 0  # in a dry run: would be sent
    failed: int = 0
    in_doubt: int = 0  # rows left ``sending`` after this delivery, old or new
    skipped: int = 0  # cancelled at the moment of sending: their reason had gone
    waiting: int = 0  # due, but the send window is closed: sent at its next opening
    not_tried: int = 0  # due, left planned because a batch in doubt stopped the delivery
    earlier_in_doubt: int = 0  # rows an earlier run left in doubt that are still so
    dry_run: bool = False
    would_send: list[WouldSend] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # key -> Moodle's reason
    skip_reasons: dict[str, str] = field(default_factory=dict)  # key -> why it was cancelled
    resolution: InDoubtReport | None = None

    @property
    def all_refused(self) -> str | None:
        """When Moodle refused every message it was asked to deliver: what it said, and the
        likely cause (a run that reached nobody is not a success)."""
        if self.dry_run or self.sent or not self.failures:
            return None
        reason = next(iter(self.failures.values()))
        return (f"all {len(self.failures)} messages were refused; Moodle said: {reason!r}; "
                f"likely cause: {refusal_hint(reason)}")  # fmt: skip


@dataclass
class Delivery:
    """One delivery's collaborators: where rows live, how Moodle is written (and rows in
    doubt settled: the path's writer), which clock."""

    requester: Requester  # its settings size the batches
    sessions: sessionmaker[Session]
    writes: MoodleWrites
    settings: PushSettings
    clock: Clock
    window: SendWindow
    verdict: Verdict
    dry_run: bool = False


def deliver(d: Delivery, *, limit: int | None = None, kind: str | None = None) -> DeliveryReport:
    """Settle rows in doubt, then send every due row that may go, in batches.

    ``limit`` replaces ``push.max_messages_per_run`` for this run (an operator's deliberate
    override); above it nothing is sent and ``SafetyValveError`` is raised, in a dry run too,
    since it goes the same way. ``kind`` delivers only rows of that kind (administrators'
    alerts, which must get through when the valve has tripped).
    """
    report = DeliveryReport(dry_run=d.dry_run)
    report.resolution = _settle_in_doubt(d)
    with d.sessions() as session:
        due = outbox.due_rows(session, d.clock(), kind)
    report.due = len(due)
    sendable, invalid = _prepare(due, report)
    with d.sessions.begin() as session:
        outbox.reject(session, invalid, d.clock())
    going = [(row, message) for row, message in sendable if d.verdict(row) is None]
    if not d.window.is_open(d.clock()):
        report.waiting = len(sendable)  # each is checked again when the window opens
    else:
        maximum = d.settings.max_messages_per_run if limit is None else limit
        if len(going) > maximum:
            raise SafetyValveError(len(going), maximum)
        _send_all(d, sendable, report)
    if report.resolution is not None:
        report.earlier_in_doubt = len(report.resolution.still_in_doubt)
        report.in_doubt += report.earlier_in_doubt
    return report


def _settle_in_doubt(d: Delivery) -> InDoubtReport | None:
    with d.sessions() as session:
        if outbox.counts_by_state(session)[outbox.State.SENDING] == 0:
            return None
    return d.writes.settle(d.sessions, d.clock())


def _prepare(
    due: Sequence[OutboxMessage], report: DeliveryReport
) -> tuple[list[tuple[OutboxMessage, OutgoingMessage]], dict[int, str]]:
    """Due rows with their messages, and the rows that can never be sent (with why)."""
    sendable, invalid = [], {}
    for row in due:
        try:
            sendable.append((row, _message(row)))
        except (KeyError, TypeError, ValueError) as exc:
            invalid[row.id] = f"not sendable, fix the planner or template: {exc}"
            report.failures[row.key] = invalid[row.id]
    report.failed += len(invalid)
    return sendable, invalid


def _message(row: OutboxMessage) -> OutgoingMessage:
    html = row.payload["html"]
    if not isinstance(html, str) or not html.strip():
        raise ValueError(f"payload 'html' of {row.key!r} is empty or not text: {html!r}")
    return OutgoingMessage(row.recipient_id, html, clientmsgid=row.key,
                           subject=str(row.payload.get("subject") or ""),
                           plain=str(row.payload.get("text") or ""),
                           provider=PROVIDERS.get(row.kind, "studentreminder"))  # fmt: skip


def _send_all(
    d: Delivery, rows: Sequence[tuple[OutboxMessage, OutgoingMessage]], report: DeliveryReport
) -> None:
    tried = 0
    for number, batch in enumerate(_batches(d, rows), start=1):
        tried += len(batch)
        if not _send_batch(d, batch, report, number):
            report.not_tried = len(rows) - tried  # the site is sick: the rest stay planned
            break


def _batches(
    d: Delivery, rows: Sequence[tuple[OutboxMessage, OutgoingMessage]]
) -> Iterator[list[tuple[OutboxMessage, OutgoingMessage]]]:
    """Batches of at most ``batch_size`` that each fit in exactly one request.

    One request per batch means an error other than "in doubt" proves the whole batch unsent.
    """
    moodle = d.requester.settings
    params = [message.as_param() for _row, message in rows]
    size = min(d.settings.batch_size, moodle.max_ids_per_call)
    start = 0
    for chunk in chunk_rows(
        params, "messages", fixed=None, budget=moodle.max_input_vars, max_rows=size
    ):
        yield list(rows[start : start + len(chunk)])
        start += len(chunk)


def _send_batch(
    d: Delivery,
    batch: list[tuple[OutboxMessage, OutgoingMessage]],
    report: DeliveryReport,
    number: int,
) -> bool:
    """Claim, send, record one batch; False when its outcome is unknown (stop delivering)."""
    with d.sessions.begin() as session:
        claim = outbox.claim(session, [row for row, _ in batch], d.clock(), window=d.window,
                             verdict=d.verdict, started_at=_wall_clock())  # fmt: skip
    report.skipped += len(claim.cancelled) + len(claim.moved)
    report.waiting += len(claim.waiting)
    moved = set(claim.moved)
    for row, _ in batch:
        if row.id in claim.cancelled:
            report.skip_reasons[row.key] = claim.cancelled[row.id]
        elif row.id in moved:
            report.skip_reasons[row.key] = "no longer planned when its turn came (moved elsewhere)"
    claimed = set(claim.claimed)
    batch = [(row, message) for row, message in batch if row.id in claimed]
    if not batch:
        return not claim.waiting
    try:
        results = d.writes.send_messages([message for _, message in batch])
    except InDoubtError as exc:
        _record(d, batch, exc.completed, report)
        report.in_doubt += len(batch) - len(exc.completed)
        log.error("batch %d left in doubt (%d messages): %s", number, len(batch), exc)
        return False
    except MoodleError:
        with d.sessions.begin() as session:  # one request, refused outright: nothing was sent
            outbox.requeue(session, [row.id for row, _ in batch], d.clock())
        raise
    _record(d, batch, results, report)
    return True


def _record(
    d: Delivery,
    batch: Sequence[tuple[OutboxMessage, OutgoingMessage]],
    results: Sequence[MessageResult],
    report: DeliveryReport,
) -> None:
    """Commit each answered message's outcome; rows without an answer stay ``sending``."""
    delivered: list[Delivered] = []
    refused: dict[int, str] = {}
    now = d.clock()
    for (row, message), result in zip(batch, results, strict=False):
        if result.clientmsgid not in (None, row.key) or result.pending:
            continue  # not this row's answer, or its outcome unknown: in doubt, never guessed
        if result.ok and result.msgid is not None:
            delivered.append(Delivered(row.id, result.msgid, now))
            if d.dry_run:
                subject = str(row.payload.get("subject", ""))
                report.would_send.append(
                    WouldSend(row.key, row.recipient_id, subject, message.text)
                )
        else:
            refused[row.id] = result.errormessage or "Moodle refused the message, giving no reason"
            report.failures[row.key] = refused[row.id]
    with d.sessions.begin() as session:
        outbox.mark_sent(session, delivered, now)
        outbox.mark_failed(session, refused, now)
    report.sent += len(delivered)
    report.failed += len(refused)
    answered = min(len(batch), len(results))
    report.in_doubt += answered - len(delivered) - len(refused)  # answers for other rows


def _wall_clock() -> datetime:
    """When a batch really went out: compared with Moodle's own timestamps (with a margin)
    when settling a batch in doubt, so it is the wall clock, never --now."""
    return datetime.now(UTC)
