"""SIGKILL at every step of a push, then recover: each message delivered once or in doubt.

A real subprocess runs ``deliver`` against a sandbox served by this test process and is
killed by dispatch.py's test hook (``MOODLE_SYNC_TEST_CRASH_AT``) in the second of three
batches: before its call, during it (the sandbox holds the answer for 1.5 s), or after the
answer but before the outcome is committed. Recovery runs in fresh processes; at every stage
no key may reach Moodle twice, and at the end every key has reached it exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox
from moodle_sync.settings import MoodleSettings, PushSettings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage
from tests.conftest import REPO
from tests.push.conftest import T0, AddOutbox, deliver

KEYS = [f"crash-{n}" for n in range(7)]  # batches of 3: crash-0..2, crash-3..5, crash-6
BATCH_2 = KEYS[3:6]
SLOW_SEND = FaultRule(
    function="core_message_send_instant_messages", kind=FaultKind.LATENCY, delay_ms=1500
)
LONG_SETTLE, SHORT_SETTLE = 60.0, 0.5  # read timeouts, hence the in-doubt settle times


def run_worker(sandbox: Sandbox, database_url: str, read_timeout: float, **env: str) -> Any:
    """Run ``deliver`` in a fresh process; its report as JSON, or its return code if killed."""
    config = {"url": sandbox.url, "database_url": database_url, "read_timeout": read_timeout}
    done = subprocess.run(
        [sys.executable, "-m", "tests.push.test_crash", json.dumps(config)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return done.returncode
    return json.loads(done.stdout)


def _worker(config: dict[str, Any]) -> None:
    """The subprocess: one delivery of every due message, batches of 3."""
    settings = MoodleSettings(
        url=config["url"],
        token=SecretStr(INTEGRATION_TOKEN),
        read_timeout=config["read_timeout"],
        max_requests_per_second=0,
    )
    sessions = open_database(config["database_url"])[1]
    with Requester(settings) as requester:
        report = deliver(requester, sessions, PushSettings(batch_size=3), T0)
    resolution = report.resolution
    print(
        json.dumps(
            {
                "sent": report.sent,
                "in_doubt": report.in_doubt,
                "found_sent": resolution.found_sent if resolution else [],
                "still_in_doubt": resolution.still_in_doubt if resolution else [],
            }
        )
    )


def _states(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return {row.key: row.state for row in session.query(OutboxMessage)}


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("point", ["before_call", "during_call", "after_call"])
def test_a_push_killed_at_any_step_recovers_with_every_message_sent_exactly_once(
    point: str,
    sandbox: Sandbox,
    database_url: str,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
    received: Callable[[], Counter[str]],
) -> None:
    for n, key in enumerate(KEYS):
        add_outbox(key, 5 + n)
    if point == "during_call":
        sandbox.set_faults(FaultPlan(rules=[SLOW_SEND]))
    crash = {"MOODLE_SYNC_TEST_CRASH_AT": f"{point}:2"}

    assert run_worker(sandbox, database_url, LONG_SETTLE, **crash) == -signal.SIGKILL
    reached_moodle = point != "before_call"
    expected = KEYS[:6] if reached_moodle else KEYS[:3]
    assert _wait_for(lambda: sorted(received()) == expected), f"Moodle holds {received()}"
    sandbox.set_faults(None)
    assert max(received().values()) == 1
    states = _states(sessions)
    assert [states[k] for k in KEYS] == ["sent"] * 3 + ["sending"] * 3 + ["planned"]

    first = run_worker(sandbox, database_url, LONG_SETTLE)
    if reached_moodle:  # found by its marker: recorded as sent, not resent
        assert (first["found_sent"], first["in_doubt"]) == (BATCH_2, 0)
    else:  # absent, but too recent to prove it never arrived: reported, not resent
        assert (first["still_in_doubt"], first["in_doubt"]) == (BATCH_2, 3)
    assert max(received().values()) == 1

    time.sleep(SHORT_SETTLE + 0.1)
    run_worker(sandbox, database_url, SHORT_SETTLE)
    assert received() == Counter(dict.fromkeys(KEYS, 1))
    assert set(_states(sessions).values()) == {"sent"}
    with sessions() as session:
        ids = {row.key: row.moodle_message_id for row in session.query(OutboxMessage)}
    assert ids == {m.clientmsgid: m.id for m in sandbox.state.messages}


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
