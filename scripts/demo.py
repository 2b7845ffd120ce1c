"""`make demo`: the whole loop end to end against the bundled sandbox Moodle.

Starts from nothing each time (a fresh var/demo.db) and the sandbox on a free loopback port,
its clock set to 12:00 Europe/London today, so its deadlines fall at 12:00 like real ones and
the output is the same at any hour. Then, with the embedded SQLite database
(config/demo.toml): `moodle-sync check`; `moodle-sync run --now <12:00 Europe/London today>`
(pull, plan, send, push statuses); what the sandbox received (messages in full, as the
student reads them, and profile fields, read back through its side channel); and a second run
that sends nothing new. Exits non-zero if any step failed. When a live Moodle 4.5.6 site is
built (`make live-site`, var/live/4.5.6/site.json), it ends with the addresses of the plugin's
pages there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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


def noon_today() -> str:
    """12:00 Europe/London today, to the minute: the demo's 'now' for the site and the runs."""
    london = ZoneInfo("Europe/London")
    noon = datetime.combine(datetime.now(london).date(), clock_time(12), london)
    return noon.isoformat(timespec="minutes")


def fresh_database() -> None:
    """The demo starts clean: yesterday's data would not match today's sandbox."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (ROOT / "var" / f"demo.db{suffix}").unlink(missing_ok=True)


def show_received(url: str, examples: int = 3) -> dict[str, Any]:
    """What the service pushed, as the sandbox Moodle stored it: a few messages in full."""
    with urllib.request.urlopen(url + "/sandbox/state", timeout=5) as answer:
        state: dict[str, Any] = json.load(answer)
    messages = state["messages"]
    print(f"\n== the sandbox received {len(messages)} messages")
    for message in messages[:examples]:
        print(f"-- to user {message['useridto']}:\n{message.get('fullmessage', '')}")
    fields = {uid: f for uid, f in state["profile_fields"].items() if f}
    if not examples:
        return state
    print(f"\n== profile fields set for {len(fields)} users, for example:")
    for uid, values in list(fields.items())[:5]:
        print(f"   user {uid}: {values}")
    return state


def show_live_pages(state_file: Path = ROOT / "var" / "live" / "4.5.6" / "site.json") -> None:
    """Where the plugin's pages (issue 14) are on the live site, if one is built. Only the
    address and course ids are read: site.json also holds tokens, never printed."""
    if not state_file.exists():
        return
    state = json.loads(state_file.read_text())
    url = state["url"]
    courses = sorted(int(i) for i in state.get("ids", {}).get("courses", {}).values() if int(i) > 1)
    course = courses[0] if courses else 2
    print("\n== inside Moodle: the plugin's pages on the live site (var/live, `make live-site`)")
    for title, path in (("course progression (tutor)", f"/local/cetadsync/course.php?id={course}"),
                        ("my students", "/local/cetadsync/mystudents.php"),
                        ("my progress (student)", "/local/cetadsync/myprogress.php"),
                        ("dashboard with the block", "/my/")):  # fmt: skip
        print(f"   {title + ':':30} {url}{path}")
    print("   log in as admin (password: ADMIN_PASSWORD in tests/live/site.py)")
    dirroot = Path(state.get("dirroot", ""))
    if not (dirroot / "local" / "cetadsync").is_dir():
        print(f"   the plugin is not installed there now (the live tests install it for their\n"
              f"   session only): copy local_cetadsync/ to {dirroot}/local/cetadsync and\n"
              f"   block_cetadsync/ to {dirroot}/blocks/cetadsync, then run\n"
              f"   admin/cli/upgrade.php there")  # fmt: skip


def run_step(title: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n== {title}: moodle-sync {' '.join(args)}", flush=True)
    return subprocess.call([*CLI, *args], env=env, cwd=ROOT)


def main() -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (ROOT / "var").mkdir(exist_ok=True)
    fresh_database()
    now = noon_today()
    sandbox_log = (ROOT / "var" / "demo-sandbox.log").open("w")
    command = [*CLI, "sandbox", "--port", str(port), "--now", now]
    sandbox = subprocess.Popen(command, cwd=ROOT, stderr=sandbox_log)
    try:
        wait_until_up(url, sandbox)
        env = {
            **os.environ,
            "MOODLE_SYNC_CONFIG": str(ROOT / "config" / "demo.toml"),
            "MOODLE_SYNC_MOODLE__URL": url,
            "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
        }
        steps = (("check", ["check"]), ("run", ["run", "--now", now]))
        for title, args in steps:
            code = run_step(title, args, env)
            if code != 0:
                print(f"demo: {title} failed with exit code {code}", file=sys.stderr)
                return code
        sent = len(show_received(url)["messages"])
        code = run_step("the same run again: nothing new", ["run", "--now", now], env)
        again = len(show_received(url, examples=0)["messages"])
        if code != 0 or again != sent:
            print(f"demo: the second run exited {code} and sent {again - sent}", file=sys.stderr)
            return code or 1
        show_live_pages()
        print("\ndemo: done; the data is in var/demo.db, the sandbox's log in var/demo-sandbox.log")
        return 0
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        sandbox_log.close()


if __name__ == "__main__":
    sys.exit(main())
