"""Time delivering 5,000 planned messages through the sandbox with 20 ms added per answer.

Target (issue 6): at most 60 calls and under 10 s. The baseline, measured in the same run
against a fresh copy of the same sandbox, sends the same messages in the same batches of 100
straight through ``send_instant_messages``, with no outbox: the ratio is the price of the
exactly-once bookkeeping (claim committed before each call, outcomes committed after). A
sample sent one message per call, extrapolated, shows what batching saves. The requester keeps
its default politeness (20 requests a second), as in production. Prints one JSON object.
Run: .venv/bin/python benchmarks/bench_push.py [--messages N] [--latency-ms N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy import insert

from moodle_sync.client import Requester
from moodle_sync.client.messages import OutgoingMessage, send_instant_messages
from moodle_sync.push import outbox
from moodle_sync.push.core_writer import CoreWrites
from moodle_sync.push.dispatch import Delivery, deliver
from moodle_sync.rules.policy import Reminders
from moodle_sync.sandbox.faults import FaultPlan
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, PushSettings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage

LONDON = ZoneInfo("Europe/London")
NOW = datetime.combine(datetime.now(LONDON).date(), clock_time(12), LONDON).astimezone(UTC)
WINDOW = outbox.SendWindow(Reminders(), LONDON)  # noon: inside the default send window
RECIPIENTS = list(range(5, 20))  # the scenario's students and tutors
BATCH = 100
SAMPLE = 20


def outgoing(count: int) -> list[OutgoingMessage]:
    """The messages, each ending with its key's marker as the planner writes them."""
    messages = []
    for n in range(count):
        key = f"bench-{n:05d}"
        body = f"Reminder {n}: MPC Assignment 1 is due on Friday 5 December 2025, 12:00 (GMT)."
        html = f"<p>{body}</p><p>Ref: {key}</p>"
        messages.append(OutgoingMessage(RECIPIENTS[n % len(RECIPIENTS)], html, key))
    return messages


def planned_rows(messages: list[OutgoingMessage]) -> list[dict[str, object]]:
    return [
        {
            "key": m.clientmsgid,
            "kind": "reminder",
            "recipient_id": m.touserid,
            "payload": {"subject": "Reminder", "text": m.text, "html": m.text},
            "state": "planned",
            "planned_at": NOW,
            "send_after": NOW,
            "updated_at": NOW,
        }
        for m in messages
    ]


def requester(sb: Sandbox) -> Requester:
    return Requester(MoodleSettings(url=sb.url, token=SecretStr(INTEGRATION_TOKEN)))


def delivered_once(sb: Sandbox, count: int) -> bool:
    keys = Counter(m.clientmsgid for m in sb.state.messages)
    return len(keys) == count and set(keys.values()) == {1}


def time_outbox(sb: Sandbox, rows: list[dict[str, object]], workdir: Path) -> tuple[float, int]:
    sessions = open_database(f"sqlite:///{workdir / 'bench.db'}")[1]
    with sessions.begin() as session:
        session.execute(insert(OutboxMessage), rows)
    settings = PushSettings(batch_size=BATCH, max_messages_per_run=len(rows))
    with requester(sb) as req:
        start = time.perf_counter()
        d = Delivery(req, sessions, CoreWrites(req), settings, lambda: NOW, WINDOW,
                     outbox.still_true)  # fmt: skip
        report = deliver(d)
        seconds = time.perf_counter() - start
    if report.sent != len(rows) or not delivered_once(sb, len(rows)):
        raise SystemExit(f"outbox run sent {report.sent} of {len(rows)}, or some twice")
    return seconds, req.stats.calls


def time_direct(sb: Sandbox, messages: list[OutgoingMessage]) -> float:
    with requester(sb) as req:
        start = time.perf_counter()
        for first in range(0, len(messages), BATCH):
            send_instant_messages(req, messages[first : first + BATCH])
        seconds = time.perf_counter() - start
    if not delivered_once(sb, len(messages)):
        raise SystemExit("the baseline did not deliver every message exactly once")
    return seconds


def time_one_per_call(sb: Sandbox, messages: list[OutgoingMessage]) -> float:
    with requester(sb) as req:
        start = time.perf_counter()
        for message in messages:
            send_instant_messages(req, [message])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    messages = outgoing(args.messages)
    rows = planned_rows(messages)
    with start_sandbox(faults=FaultPlan(latency_ms=args.latency_ms)) as sb:
        with tempfile.TemporaryDirectory() as workdir:
            seconds, calls = time_outbox(sb, rows, Path(workdir))
        sb.reset()
        baseline = time_direct(sb, messages)
        sb.reset()
        sample = time_one_per_call(sb, messages[:SAMPLE])
    report = {
        "name": f"push_{args.messages}_messages_outbox_sandbox_{args.latency_ms}ms",
        "seconds": round(seconds, 3),
        "baseline_name": "same_batches_direct_send_no_outbox",
        "baseline_seconds": round(baseline, 3),
        "ratio": round(seconds / baseline, 2),
        "calls": calls,
        "targets": [
            {"target": "calls <= 60", "measured": calls, "met": calls <= 60},
            {"target": "seconds < 10", "measured": round(seconds, 2), "met": seconds < 10},
        ],
        "one_per_call_extrapolated_seconds": round(sample / SAMPLE * args.messages, 1),
        "latency_ms": args.latency_ms,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
