"""`moodle-sync sandbox`: its tokens documented in --help, its clock set by --now."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

from moodle_sync.sandbox.server import (
    ADMIN_TOKEN,
    INTEGRATION_TOKEN,
    NO_CAPABILITY_TOKEN,
    NO_MESSAGING_TOKEN,
    PARTIAL_SERVICE_TOKEN,
)
from tests.test_cli import run_cli


def test_help_names_every_token_and_what_it_is_for() -> None:
    result = run_cli("sandbox", "--help")
    assert result.returncode == 0
    for token in (INTEGRATION_TOKEN, NO_CAPABILITY_TOKEN, PARTIAL_SERVICE_TOKEN,
                  NO_MESSAGING_TOKEN, ADMIN_TOKEN):  # fmt: skip
        assert token in result.stdout
    assert "--now" in result.stdout


def test_now_sets_the_sites_clock() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "moodle_sync", "sandbox", "--port", str(port),
               "--now", "2026-12-01T12:00+00:00"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        state = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/state") as answer:
                    state = json.load(answer)
                break
            except OSError:
                time.sleep(0.1)
        assert state is not None, "the sandbox did not start"
        started = datetime.fromisoformat("2026-12-01T12:00+00:00").timestamp()
        assert started <= state["now"] < started + 60
    finally:
        process.terminate()
        process.wait(timeout=10)
