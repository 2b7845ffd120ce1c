"""The sandbox Moodle as a real HTTP server on a loopback port.

`POST /webservice/rest/server.php` answers like Moodle 4.4; `GET /sandbox/state` shows what the
service pushed (messages, profile fields) and the faults injected, `GET /sandbox/health` is for
readiness polling, and `POST /sandbox/faults|clock|mutate` let another process steer the site
(see control.py). Nothing logged ever contains a token: only the method, path and function name.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from moodle_sync.sandbox import control
from moodle_sync.sandbox.dispatch import Drop, Interceptor, Reply, RestCall, handle_rest
from moodle_sync.sandbox.faults import FaultInjector, FaultPlan
from moodle_sync.sandbox.scenario import ScenarioSource, load_scenario
from moodle_sync.sandbox.state import SiteState

INTEGRATION_TOKEN = "sandbox-integration-token-0000"
NO_CAPABILITY_TOKEN = "sandbox-no-capability-token-0000"
PARTIAL_SERVICE_TOKEN = "sandbox-partial-service-token-0000"
NO_MESSAGING_TOKEN = "sandbox-no-messaging-token-0000"
ADMIN_TOKEN = "sandbox-admin-token-0000"
# The role the recordings were made with (it had course:update, so answers carry idnumbers):
# the fidelity test replays them with it. The integration token has exactly the admin guide's.
RECORDED_ROLE_TOKEN = "sandbox-recorded-role-token-0000"
# the same user on the service with local_cetadsync's functions (and without its capabilities)
PLUGIN_TOKEN = "sandbox-plugin-token-0000"
PLUGIN_NO_CAPABILITY_TOKEN = "sandbox-plugin-no-capability-token-0000"
REST_PATH = "/webservice/rest/server.php"

# Consulted on every REST request: a FaultInjector (any Interceptor) decides the whole exchange;
# a plain callable (method, path) may return a Reply to send instead of Moodle's answer.
FaultHook = Interceptor | Callable[[str, str], Reply | None]


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SiteState, verbose: bool = False) -> None:
        super().__init__(address, SandboxHandler)
        self.state = state
        self.verbose = verbose
        self.fault_hook: FaultHook | None = None

    def set_faults(self, plan: FaultPlan | None) -> FaultInjector | None:
        """Install a fresh injector for `plan` (None: no faults), waking any request it holds."""
        if isinstance(self.fault_hook, FaultInjector):
            self.fault_hook.release()
        self.fault_hook = FaultInjector(plan) if plan is not None else None
        return self.fault_hook

    def fault_counts(self) -> dict[str, int]:
        hook = self.fault_hook
        return dict(hook.counts) if isinstance(hook, FaultInjector) else {}


class SandboxHandler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms ACK stall

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/sandbox/health":
            self._send(Reply(200, "application/json", b'{"status":"ok"}'))
        elif url.path == "/sandbox/state":
            state = self.server.state.snapshot() | {"faults": self.server.fault_counts()}
            self._send(Reply(200, "application/json", json.dumps(state).encode()))
        elif url.path == REST_PATH:
            self._rest(parse_qsl(url.query, keep_blank_values=True), [])
        else:
            self._send(Reply(404, "text/plain", b"Not found"))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/sandbox/"):
            self._send(self._control(url.path, raw))
            return
        if url.path != REST_PATH:
            self._send(Reply(404, "text/plain", b"Not found"))
            return
        form_type = self.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        # Like PHP, only a form body is read; a raw JSON body is ignored.
        form = (
            parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True) if form_type else []
        )
        self._rest(parse_qsl(url.query, keep_blank_values=True), form)

    def _control(self, path: str, raw: bytes) -> Reply:
        server = self.server
        try:
            if path == "/sandbox/faults":
                plan = control.read_plan(raw)
                server.set_faults(plan if plan.latency_ms or plan.rules else None)
                return control.answer({"faults": plan.model_dump(mode="json")})
            if path == "/sandbox/clock":
                return control.set_clock(server.state, raw)
            if path == "/sandbox/mutate":
                return control.mutate(server.state, raw)
        except control.ControlError as exc:
            return control.refuse(exc)
        return Reply(404, "text/plain", b"Not found")

    def _rest(self, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> None:
        state, hook = self.server.state, self.server.fault_hook

        def proceed() -> Reply:
            return handle_rest(state, query, form)

        if isinstance(hook, Interceptor):
            ends = (self.client_address[0], self.client_address[1]), _address(self.server)
            call = RestCall(state, self.command, query, form, *ends)
            outcome = hook.intercept(call, proceed)
        else:
            outcome = (hook(self.command, REST_PATH) if hook else None) or proceed()
        if isinstance(outcome, Drop):
            self._drop()
        else:
            self._send(outcome)

    def _drop(self) -> None:
        """Close without a byte of answer; linger 0 makes the close a reset (RST)."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if self.server.verbose:
            sys.stderr.write(f"{self.command} {urlsplit(self.path).path} dropped\n")

    def _send(self, reply: Reply) -> None:
        # Logged before answering, so the line exists by the time the caller has its answer.
        if self.server.verbose:
            sys.stderr.write(
                f"{self.command} {urlsplit(self.path).path} {reply.function} {reply.status}\n"
            )
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "private, must-revalidate, pre-check=0, post-check=0")
        self.send_header("Pragma", "no-cache")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default access log would print query strings, tokens included."""


def _address(server: SandboxHTTPServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return (host if isinstance(host, str) else host.decode(), port)


class Sandbox:
    """A running sandbox server; stop it, or use it as a context manager."""

    def __init__(
        self, server: SandboxHTTPServer, thread: threading.Thread, scenario: ScenarioSource
    ) -> None:
        self._server = server
        self._thread = thread
        self._scenario = scenario
        self.url = server.state.site.url
        self.state = server.state

    @property
    def server(self) -> SandboxHTTPServer:
        return self._server

    def reset(self, now: datetime | None = None) -> SiteState:
        """Reload the scenario (at `now`, default the original now) into a fresh live state."""
        when = now or datetime.fromtimestamp(self.state.now, UTC)
        state = load_scenario(self._scenario, when)
        state.site.url = self.url
        self._server.state = self.state = state
        return state

    def set_faults(self, plan: FaultPlan | None) -> FaultInjector | None:
        """Inject `plan`'s faults from the next request on (None removes them); see faults.py."""
        return self._server.set_faults(plan)

    @property
    def faults(self) -> FaultInjector | None:
        hook = self._server.fault_hook
        return hook if isinstance(hook, FaultInjector) else None

    def set_clock(self, now: datetime | int) -> None:
        """Move the site's clock; what the service writes from now on is stamped from there."""
        self.state.set_clock(int(now.timestamp()) if isinstance(now, datetime) else now)

    def stop(self) -> None:
        self._server.set_faults(None)  # wakes hanging requests so their threads end
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _bind(
    port: int, scenario: ScenarioSource, now: datetime | None, host: str
) -> SandboxHTTPServer:
    state = load_scenario(scenario, now)
    server = SandboxHTTPServer((host, port), state)
    state.site.url = f"http://{host}:{server.server_address[1]}"
    return server


def start_sandbox(
    port: int = 0,
    scenario: Path | Mapping[str, Any] | None = None,
    now: datetime | None = None,
    host: str = "127.0.0.1",
    faults: FaultPlan | None = None,
) -> Sandbox:
    """Serve in a background thread; port 0 picks a free port (see `Sandbox.url`).

    `scenario` is a file or an already parsed scenario (see generate.py); `faults` a plan.
    """
    server = _bind(port, scenario, now, host)
    server.set_faults(faults)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-moodle", daemon=True)
    thread.start()
    return Sandbox(server, thread, scenario)


def serve_forever(
    port: int,
    scenario: Path | None = None,
    host: str = "127.0.0.1",
    faults: FaultPlan | Path | None = None,
    now: datetime | None = None,
) -> None:
    """Blocking, for `moodle-sync sandbox`: logs method, path and function of each call.

    `faults` is a plan or a JSON file holding one (`python -m moodle_sync.sandbox --faults`);
    `now` the site's time at start (default: the current time).
    """
    server = _bind(port, scenario, now, host)
    if isinstance(faults, Path):
        faults = FaultPlan.model_validate_json(faults.read_text(encoding="utf-8"))
    server.set_faults(faults)
    server.verbose = True
    print(f"Sandbox Moodle at {server.state.site.url}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
