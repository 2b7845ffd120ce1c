"""Settle rows left ``sending`` exactly, by key, through local_cetadsync_get_delivered.

The plugin records each idempotency key (our outbox key) before it sends, so its answer is
exact: ``sent`` -> ``sent`` with Moodle's notification id; ``unknown`` (never seen: nothing
was sent) -> ``planned`` again, checked once more at claim time like any planned row;
``pending`` (reserved, outcome not recorded) -> stays ``sending``, reported in doubt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.cetadsync import get_delivered
from moodle_sync.client.requester import Requester
from moodle_sync.push import outbox
from moodle_sync.push.indoubt import InDoubtReport
from moodle_sync.push.outbox import Delivered

__all__ = ["settle_by_key"]


def settle_by_key(
    requester: Requester, sessions: sessionmaker[Session], now: datetime
) -> InDoubtReport:
    """Calls: local_cetadsync_get_delivered, once for every row in doubt (chunked)."""
    with sessions() as session:
        rows = outbox.in_doubt_rows(session)
    report = InDoubtReport(checked=len(rows), covered=True)
    if not rows:
        return report
    answers = {a.idempotencykey: a for a in get_delivered(requester, [r.key for r in rows])}
    sent, unknown = [], []
    for row in rows:
        answer = answers.get(row.key)
        if answer is not None and answer.status == "sent":
            sent.append(Delivered(row.id, answer.messageid, now))
            report.found_sent.append(row.key)
        elif answer is not None and answer.status == "unknown":
            unknown.append(row.id)
            report.returned_to_planned.append(row.key)
        else:
            report.still_in_doubt.append(row.key)
    with sessions.begin() as session:
        outbox.mark_sent(session, sent, now)
        outbox.requeue(session, unknown, now)
    return report
