"""`make demo`: the main job end to end against the bundled sandbox Moodle.

Starts the sandbox on a free loopback port, runs `moodle-sync check` and `moodle-sync sync`
against it with the embedded SQLite database (config/demo.toml), prints what they print,
stops the sandbox, and exits non-zero if any step failed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from moodle_sync.sandbox.server import INTEGRATION_TOKEN

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "moodle_sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"demo: the sandbox exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/sandbox/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"demo: the sandbox did not answer at {url} within {seconds:.0f} s")


def run_step(title: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n== {title}: moodle-sync {' '.join(args)}", flush=True)
    return subprocess.call([*CLI, *args], env=env, cwd=ROOT)


def main() -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (ROOT / "var").mkdir(exist_ok=True)
    sandbox_log = (ROOT / "var" / "demo-sandbox.log").open("w")
    sandbox = subprocess.Popen([*CLI, "sandbox", "--port", str(port)], cwd=ROOT, stderr=sandbox_log)
    try:
        wait_until_up(url, sandbox)
        env = {
            **os.environ,
            "MOODLE_SYNC_CONFIG": str(ROOT / "config" / "demo.toml"),
            "MOODLE_SYNC_MOODLE__URL": url,
            "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
        }
        for title, args in (("check", ["check"]), ("sync", ["sync"])):
            code = run_step(title, args, env)
            if code != 0:
                print(f"demo: {title} failed with exit code {code}", file=sys.stderr)
                return code
        print("\ndemo: done; the data is in var/demo.db, the sandbox's log in var/demo-sandbox.log")
        return 0
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        sandbox_log.close()


if __name__ == "__main__":
    sys.exit(main())
