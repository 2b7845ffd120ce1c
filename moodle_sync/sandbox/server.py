"""The sandbox Moodle as a real HTTP server on a loopback port.

`POST /webservice/rest/server.php` answers like Moodle 4.4; `GET /sandbox/state` shows what the
service pushed (messages, profile fields) and `GET /sandbox/health` is for readiness polling.
Nothing logged ever contains a token: only the method, the path and the function name.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from moodle_sync.sandbox.dispatch import Reply, handle_rest
from moodle_sync.sandbox.scenario import load_scenario
from moodle_sync.sandbox.state import SiteState

INTEGRATION_TOKEN = "sandbox-integration-token-0000"
NO_CAPABILITY_TOKEN = "sandbox-no-capability-token-0000"
PARTIAL_SERVICE_TOKEN = "sandbox-partial-service-token-0000"
NO_MESSAGING_TOKEN = "sandbox-no-messaging-token-0000"
ADMIN_TOKEN = "sandbox-admin-token-0000"
REST_PATH = "/webservice/rest/server.php"

# Called before every REST request; a later issue injects faults (latency, 5xx...) here.
FaultHook = Callable[[str, str], Reply | None]


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SiteState, verbose: bool = False) -> None:
        super().__init__(address, SandboxHandler)
        self.state = state
        self.verbose = verbose
        self.fault_hook: FaultHook | None = None


class SandboxHandler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms ACK stall

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/sandbox/health":
            self._send(Reply(200, "application/json", b'{"status":"ok"}'))
        elif url.path == "/sandbox/state":
            body = json.dumps(self.server.state.snapshot()).encode()
            self._send(Reply(200, "application/json", body))
        elif url.path == REST_PATH:
            self._rest(parse_qsl(url.query, keep_blank_values=True), [])
        else:
            self._send(Reply(404, "text/plain", b"Not found"))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
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

    def _rest(self, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> None:
        hook = self.server.fault_hook
        reply = hook(self.command, REST_PATH) if hook else None
        if reply is None:
            reply = handle_rest(self.server.state, query, form)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "private, must-revalidate, pre-check=0, post-check=0")
        self.send_header("Pragma", "no-cache")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(reply.body)
        if self.server.verbose:
            sys.stderr.write(
                f"{self.command} {urlsplit(self.path).path} {reply.function} {reply.status}\n"
            )

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default access log would print query strings, tokens included."""


class Sandbox:
    """A running sandbox server; stop it, or use it as a context manager."""

    def __init__(
        self, server: SandboxHTTPServer, thread: threading.Thread, scenario: Path | None
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

    def stop(self) -> None:
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


def _bind(port: int, scenario: Path | None, now: datetime | None, host: str) -> SandboxHTTPServer:
    state = load_scenario(scenario, now)
    server = SandboxHTTPServer((host, port), state)
    state.site.url = f"http://{host}:{server.server_address[1]}"
    return server


def start_sandbox(
    port: int = 0,
    scenario: Path | None = None,
    now: datetime | None = None,
    host: str = "127.0.0.1",
) -> Sandbox:
    """Serve in a background thread; port 0 picks a free port (see `Sandbox.url`)."""
    server = _bind(port, scenario, now, host)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-moodle", daemon=True)
    thread.start()
    return Sandbox(server, thread, scenario)


def serve_forever(port: int, scenario: Path | None = None, host: str = "127.0.0.1") -> None:
    """Blocking, for `moodle-sync sandbox`: logs method, path and function of each call."""
    server = _bind(port, scenario, None, host)
    server.verbose = True
    print(f"Sandbox Moodle at {server.state.site.url}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
