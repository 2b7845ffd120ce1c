"""Start-up: how long `moodle-sync --version`, `--help` and a command's first Moodle call take
after the process starts, against `python -c pass` measured in the same run.

The first call is timed from spawning `moodle-sync check` (and `moodle-sync sync`) to the
moment a stand-in Moodle on loopback receives the request; it answers "invalid token" so the
command stops there. Each figure is the median of several runs.
Run: .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
REFUSED = json.dumps({"exception": "moodle_exception", "errorcode": "invalidtoken",
                      "message": "Invalid token - token not found"}).encode()  # fmt: skip


class FirstCall(BaseHTTPRequestHandler):
    arrived: float | None = None

    def do_POST(self) -> None:
        if FirstCall.arrived is None:
            FirstCall.arrived = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(REFUSED)))
        self.end_headers()
        self.wfile.write(REFUSED)

    def log_message(self, *args: Any) -> None:
        pass


def median_seconds(command: list[str], env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def first_call_seconds(args: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        FirstCall.arrived = None
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "moodle_sync", *args], env=env,
                       capture_output=True, check=False, cwd=ROOT)  # fmt: skip
        if FirstCall.arrived is None:
            raise SystemExit(f"moodle-sync {' '.join(args)} made no call")
        times.append(FirstCall.arrived - started)
    return round(statistics.median(times), 3)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FirstCall)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")} | {
            "MOODLE_SYNC_CONFIG": os.devnull,
            "MOODLE_SYNC_MOODLE__URL": f"http://127.0.0.1:{server.server_address[1]}",
            "MOODLE_SYNC_MOODLE__TOKEN": "bench-token-0000",
            "MOODLE_SYNC_DATABASE__URL": f"sqlite:///{folder}/store.db",
            "MOODLE_SYNC_PROGRAMME_FILE": str(ROOT / "config" / "programme.toml"),
        }
        subprocess.run([sys.executable, "-m", "moodle_sync", "db", "upgrade"], env=env,
                       capture_output=True, check=True, cwd=ROOT)  # fmt: skip
        baseline = median_seconds([sys.executable, "-c", "pass"])
        cli = [sys.executable, "-m", "moodle_sync"]
        figures = {
            "version": median_seconds([*cli, "--version"], env),
            "help": median_seconds([*cli, "--help"], env),
            "check_first_call": first_call_seconds(["check"], env),
            "sync_first_call": first_call_seconds(["sync"], env),
        }
    server.shutdown()
    limits = {"version": 0.3, "help": 0.3, "check_first_call": 0.6, "sync_first_call": 0.6}
    print(json.dumps({
        "name": "startup_version_help_first_call",
        "seconds": figures["version"],
        "baseline_name": "python_c_pass",
        "baseline_seconds": baseline,
        "ratio": round(figures["version"] / baseline, 1),
        "figures": figures,
        "ratios": {name: round(s / baseline, 1) for name, s in figures.items()},
        "targets": [
            {"target": f"{name.replace('_', ' ')} < {limit} s", "measured": figures[name],
             "met": figures[name] < limit}
            for name, limit in limits.items()
        ],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
