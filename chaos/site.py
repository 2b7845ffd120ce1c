"""One sandbox Moodle for one side of a schedule, steered over its own HTTP control endpoints.

The sandbox runs in a thread of the runner's worker process, so `repair` can do what a site
administrator would after an outage: reissue the revoked token and restore the course access
the faults took away (the control endpoints have no operation for that).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import requests

from moodle_sync.sandbox import Sandbox, start_sandbox
from moodle_sync.sandbox.model import Token


class SandboxSite:
    def __init__(self, now: datetime, token: str) -> None:
        self.sandbox: Sandbox = start_sandbox(now=now)
        self.token = token  # the one the runs use: repaired after an outage
        self.sandbox.server.handle_error = _quiet  # type: ignore[method-assign]
        self.url = self.sandbox.url
        self.http = requests.Session()
        self._tokens: dict[str, Token] = copy.deepcopy(self.sandbox.state.tokens)
        self.fault_totals: dict[str, int] = {}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.http.post(f"{self.url}/sandbox/{path}", json=body, timeout=10)
        if reply.status_code != 200:
            raise RuntimeError(f"POST /sandbox/{path} {body!r}: {reply.status_code} {reply.text}")
        answer: dict[str, Any] = reply.json()
        return answer

    def state(self) -> dict[str, Any]:
        reply = self.http.get(f"{self.url}/sandbox/state", timeout=10)
        reply.raise_for_status()
        answer: dict[str, Any] = reply.json()
        return answer

    def set_clock(self, now: datetime) -> None:
        self.post("clock", {"now": int(now.timestamp())})

    def mutate(self, change: dict[str, Any]) -> None:
        self.post("mutate", dict(change))

    def set_faults(self, plan: dict[str, Any]) -> None:
        """Install a plan (an empty dict clears); the old plan's counts are kept first."""
        self._bank_counts()
        self.post("faults", plan)

    def repair(self) -> None:
        """Clear faults, reissue the runs' token and give back every course."""
        self.set_faults({})
        state = self.sandbox.state
        with state.lock:
            state.tokens[self.token] = copy.deepcopy(self._tokens[self.token])

    def stop(self) -> None:
        self._bank_counts()
        self.http.close()
        self.sandbox.stop()

    def _bank_counts(self) -> None:
        for kind, count in self.state().get("faults", {}).items():
            self.fault_totals[kind] = self.fault_totals.get(kind, 0) + count


def _quiet(request: Any, client_address: Any) -> None:
    """A killed run leaves broken pipes behind: expected here, so not printed."""
