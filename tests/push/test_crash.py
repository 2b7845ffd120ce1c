"""SIGKILL at every step of a push, then recover: each message delivered once or in doubt.

A real subprocess runs ``deliver`` against a sandbox served by this test process, on the core
path (core_message_send_instant_messages, settled from Moodle's list of sent messages) and on
the plugin's (local_cetadsync_send_notifications, settled by key). The sandbox kills it from
outside, as a crash would (its kill faults, see sandbox/faults.py), at the second of three
batches' call: before the call runs, during it (the send still completes), or after it ran
but before the answer. Recovery runs in fresh processes; at every stage no key may reach
Moodle twice, and at the end every key has reached it exactly once.
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

from moodle_sync import paths
from moodle_sync.client import Requester
from moodle_sync.push import dispatch, outbox
from moodle_sync.push.dispatch import Delivery
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, PLUGIN_TOKEN, Sandbox
from moodle_sync.settings import MoodleSettings, PushSettings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage
from tests.conftest import REPO
from tests.push.conftest import _REF, T0, WINDOW, AddOutbox

KEYS = [f"crash-{n}" for n in range(7)]  # batches of 3: crash-0..2, crash-3..5, crash-6
BATCH_2 = KEYS[3:6]
SEND = {
    "core": "core_message_send_instant_messages",
    "plugin": "local_cetadsync_send_notifications",
}
TOKEN = {"core": INTEGRATION_TOKEN, "plugin": PLUGIN_TOKEN}
KILL = {"before_call": FaultKind.KILL_BEFORE, "during_call": FaultKind.KILL_DURING,
        "after_call": FaultKind.KILL_AFTER}  # fmt: skip
LONG_SETTLE, SHORT_SETTLE = 60.0, 0.5  # read timeouts, hence the in-doubt settle times


def run_worker(sandbox: Sandbox, database_url: str, path: str, read_timeout: float) -> Any:
    """Run ``deliver`` in a fresh process; its report as JSON, or its return code if killed."""
    config = {"url": sandbox.url, "database_url": database_url, "read_timeout": read_timeout,
              "path": path}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.push.test_crash", json.dumps(config)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return done.returncode
    return json.loads(done.stdout)


def _worker(config: dict[str, Any]) -> None:
    """The subprocess: one delivery of every due message on the path, batches of 3."""
    settings = MoodleSettings(
        url=config["url"],
        token=SecretStr(TOKEN[config["path"]]),
        read_timeout=config["read_timeout"],
        max_requests_per_second=0,
    )
    sessions = open_database(config["database_url"])[1]
    with Requester(settings) as requester:
        path = paths.detect(requester)  # the token's service decides, as in a run
        assert path.site.name == config["path"], path.site.describe()
        d = Delivery(requester, sessions, path.writer, PushSettings(batch_size=3), lambda: T0,
                     WINDOW, outbox.still_true)  # fmt: skip
        report = dispatch.deliver(d)
    resolution = report.resolution
    print(json.dumps({
        "sent": report.sent,
        "in_doubt": report.in_doubt,
        "found_sent": resolution.found_sent if resolution else [],
        "still_in_doubt": resolution.still_in_doubt if resolution else [],
        "returned_to_planned": resolution.returned_to_planned if resolution else [],
    }))  # fmt: skip


def delivered(sandbox: Sandbox) -> Counter[str]:
    """Every delivery the sandbox holds, messages and notifications, by its ``Ref:`` key."""
    state = sandbox.state.snapshot()
    texts = [m["text"] for m in state["messages"]]
    texts += [n["fullmessage"] for n in state["notifications"]]
    return Counter(key for text in texts for key in _REF.findall(text))


def moodle_ids(sandbox: Sandbox) -> dict[str, int]:
    """Each key's message id in Moodle: the message's, or the plugin's notification's."""
    ids = {m.clientmsgid: m.id for m in sandbox.state.messages if m.clientmsgid}
    return ids | {key: row["messageid"] for key, row in sandbox.state.plugin_sent.items()}


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


@pytest.mark.parametrize("path", ["core", "plugin"])
@pytest.mark.parametrize("point", ["before_call", "during_call", "after_call"])
def test_a_push_killed_at_any_step_recovers_with_every_message_sent_exactly_once(
    point: str,
    path: str,
    sandbox: Sandbox,
    database_url: str,
    sessions: sessionmaker[Session],
    add_outbox: AddOutbox,
) -> None:
    for n, key in enumerate(KEYS):
        add_outbox(key, 5 + n)
    kill = FaultRule(function=SEND[path], kind=KILL[point], after_calls=1, times=1)
    sandbox.set_faults(FaultPlan(rules=[kill]))

    assert run_worker(sandbox, database_url, path, LONG_SETTLE) == -signal.SIGKILL
    reached_moodle = point != "before_call"
    expected = KEYS[:6] if reached_moodle else KEYS[:3]
    assert _wait_for(lambda: sorted(delivered(sandbox)) == expected), delivered(sandbox)
    sandbox.set_faults(None)
    states = _states(sessions)
    assert [states[k] for k in KEYS] == ["sent"] * 3 + ["sending"] * 3 + ["planned"]

    first = run_worker(sandbox, database_url, path, LONG_SETTLE)
    if reached_moodle:  # found (by its marker, or by its key): recorded as sent, not resent
        assert (first["found_sent"], first["in_doubt"]) == (BATCH_2, 0)
    elif path == "plugin":  # the plugin never saw the keys: nothing was sent, so sent now
        assert (first["returned_to_planned"], first["in_doubt"]) == (BATCH_2, 0)
    else:  # absent, but too recent to prove it never arrived: reported, not resent
        assert (first["still_in_doubt"], first["in_doubt"]) == (BATCH_2, 3)
    assert max(delivered(sandbox).values()) == 1

    time.sleep(SHORT_SETTLE + 0.1)
    run_worker(sandbox, database_url, path, SHORT_SETTLE)
    assert delivered(sandbox) == Counter(dict.fromkeys(KEYS, 1))
    assert set(_states(sessions).values()) == {"sent"}
    with sessions() as session:
        ids = {row.key: row.moodle_message_id for row in session.query(OutboxMessage)}
    assert ids == moodle_ids(sandbox)


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
