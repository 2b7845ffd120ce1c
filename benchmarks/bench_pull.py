"""The pull on a university-sized site: 200 courses, 10,000 enrolments, 1,000 assignments,
50,000 submissions, with 20 ms added to every sandbox answer.

Measured in one run, each sync in its own process, on both paths (the plugin's token, as the
admin guide sets a site up, and the core-only token), each into its own database, empty but for
the schema (`db upgrade`, as the admin guide installs the service; its CPU is reported as
`db_upgrade_cpu_seconds`): the first full sync, an incremental sync with no changes, and a
weekly `--full` sync. For each: wall time, web-service calls, peak memory, the CPU seconds of
the worker process (whole: start-up, imports and the pull), of the pull alone (`sync --json`'s
`cpu_seconds`: what a long-running `moodle-sync worker` pays per run) and, separately, of the
sandbox (on two cores the two share the machine, so wall time moves with it while the worker's
CPU is its own cost).
The baseline is a naive pull that makes one call per course for enrolments and
assignments and one call per assignment per stream, sequentially, with no database writes
(which flatters it). Prints one JSON object; the top-level runs are the plugin path's.
Run: .venv/bin/python benchmarks/bench_pull.py
Profile the worker: BENCH_PULL_PROFILE=folder (a cProfile file per sync; skips the baseline).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from moodle_sync.client import Requester
from moodle_sync.client.assignments import (
    get_assignments,
    get_grades,
    get_submissions,
    get_user_flags,
)
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.sandbox.generate import generate_site
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, PLUGIN_TOKEN
from moodle_sync.settings import MoodleSettings

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 20


def write_inputs(folder: Path) -> tuple[Path, Path, Path, list[int]]:
    site = generate_site()
    scenario = folder / "site.json"
    scenario.write_text(json.dumps(site.scenario))
    base = (ROOT / "config" / "programme.toml").read_text()
    base = re.sub(r'^moodle_course = "CETAD-[A-Z]+"\n', "", base, flags=re.M)
    modules = "".join(
        f'\n[modules.{idnumber.replace("-", "")}]\ntitle = "Bench {idnumber}"\ncredits = 20\n'
        f'level = 7\nkind = "taught"\nmoodle_course = "{idnumber}"\n'
        for idnumber in site.course_idnumbers
    )
    programme = folder / "programme.toml"
    programme.write_text(base + modules)
    faults = folder / "faults.json"
    faults.write_text(json.dumps({"latency_ms": LATENCY_MS}))
    return scenario, programme, faults, [course["id"] for course in site.scenario["courses"]]


def start_sandbox(
    faults: Path, scenario: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The sandbox in its own process (the default scenario unless one is given); its log goes
    to a file beside `faults` (a full pipe would stall it). bench_plugin.py uses it too."""
    log = faults.with_name("sandbox.log")
    command = [sys.executable, "-m", "moodle_sync.sandbox", "--port", "0", "--faults", str(faults)]
    if scenario is not None:
        command += ["--scenario", str(scenario)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stderr=sink)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        url = re.search(r"http://\S+", log.read_text())
        if url:
            return process, url.group(0).rstrip("/")
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the sandbox did not start: {log.read_text()[-500:]!r}")


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PATHS = {"plugin": PLUGIN_TOKEN, "core": INTEGRATION_TOKEN}


def worker_env(url: str, programme: Path, database: str, token: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")} | {
        "MOODLE_SYNC_CONFIG": os.devnull,
        "MOODLE_SYNC_MOODLE__URL": url,
        "MOODLE_SYNC_MOODLE__TOKEN": token,
        "MOODLE_SYNC_DATABASE__URL": database,
        "MOODLE_SYNC_PROGRAMME_FILE": str(programme),
    }


def run_worker(command: list[str], env: dict[str, str]) -> tuple[str, int, float]:
    """Run a worker command to its end: its output, wait status and CPU seconds (user plus
    system, from the kernel's accounting of the child)."""
    worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    stdout = worker.stdout.read() if worker.stdout else ""
    _pid, status, usage = os.wait4(worker.pid, 0)
    return stdout, status, usage.ru_utime + usage.ru_stime


def installed_database(url: str, programme: Path, database: str) -> float:
    """An empty database brought to the schema as the admin guide installs the service
    (`moodle-sync db upgrade`), so the first sync is timed as an installed site runs it; the
    upgrade's own worker CPU seconds are returned and reported beside it."""
    command = [sys.executable, "-m", "moodle_sync", "db", "upgrade"]
    _out, status, cpu = run_worker(command, worker_env(url, programme, database, PLUGIN_TOKEN))
    if status != 0:
        raise SystemExit(f"db upgrade failed for {database}")
    return round(cpu, 2)


def timed_sync(
    url: str,
    programme: Path,
    database: str,
    sandbox: int,
    *args: str,
    profile: str = "",
    token: str = PLUGIN_TOKEN,
) -> dict[str, Any]:
    env = worker_env(url, programme, database, token)
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    command = [sys.executable, *profiler, "-m", "moodle_sync", "sync", "--json", *args]
    sandbox_before = process_cpu(sandbox)
    started = time.perf_counter()
    stdout, _status, worker_cpu = run_worker(command, env)
    seconds = time.perf_counter() - started
    record = json.loads(stdout)
    if record["outcome"] != "complete":
        raise SystemExit(f"sync {args} was not complete: {record}")
    return {
        "seconds": round(seconds, 2),
        "worker_cpu_seconds": round(worker_cpu, 2),
        "pull_cpu_seconds": round(float(record["cpu_seconds"]), 2),
        "sandbox_cpu_seconds": round(process_cpu(sandbox) - sandbox_before, 2),
        "calls": int(record["requests"]["calls"]),
        "rows": {name: counts["read"] for name, counts in record["counts"].items()},
        "peak_mb": record["peak_memory_mb"],
    }


def naive_baseline(url: str, course_ids: list[int]) -> dict[str, Any]:
    settings = MoodleSettings(url=url, token=SecretStr(INTEGRATION_TOKEN),
                              max_concurrent_requests=1, max_requests_per_second=0)  # fmt: skip
    started = time.perf_counter()
    with Requester(settings) as req:
        for course_id in course_ids:
            get_enrolled_users(req, course_id)
            for assignment in get_assignments(req, [course_id]).data:
                get_submissions(req, [assignment.id])
                get_user_flags(req, [assignment.id])
                get_grades(req, [assignment.id])
        calls = req.stats.calls
    return {"seconds": round(time.perf_counter() - started, 2), "calls": calls}


def targets(runs: dict[str, dict[str, Any]], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 4's targets and issue 15's CPU targets, each with what was measured. Calls and CPU
    are judged on the plugin path, the one the admin guide sets up: on the core path a pull
    also asks mod_assign_get_participant for every open (assignment, student) pair (issue 11),
    about 12,000 calls a run on this site, a cost only the plugin's bulk read removes; its
    figures are reported beside these, not judged against them."""
    first, unchanged, weekly = (runs["plugin"][k] for k in ("first", "unchanged", "weekly"))
    peak = max(run["peak_mb"] for path in runs.values() for run in path.values())

    def row(target: str, measured: float, met: bool) -> dict[str, Any]:
        return {"target": target, "measured": measured, "met": met}

    return [
        row("full sync (first run) < 20 s", first["seconds"], first["seconds"] < 20),
        row("full sync (first run) <= 300 calls", first["calls"], first["calls"] <= 300),
        row("weekly full sync <= 300 calls", weekly["calls"], weekly["calls"] <= 300),
        row("incremental, no changes, <= 220 calls", unchanged["calls"], unchanged["calls"] <= 220),
        row("incremental, no changes, < 3 s", unchanged["seconds"], unchanged["seconds"] < 3),
        row("peak memory < 250 MB (both paths)", peak, peak < 250),
        row("pull CPU, full sync (first run) < 3 s", first["pull_cpu_seconds"],
            first["pull_cpu_seconds"] < 3),
        row("pull CPU, incremental with no changes < 1 s", unchanged["pull_cpu_seconds"],
            unchanged["pull_cpu_seconds"] < 1),
        row("worker process CPU, full sync (first run) < 3 s", first["worker_cpu_seconds"],
            first["worker_cpu_seconds"] < 3),
        row("worker process CPU, incremental with no changes < 1 s",
            unchanged["worker_cpu_seconds"], unchanged["worker_cpu_seconds"] < 1),
        row("full sync >= 10x faster than the baseline",
            round(base["seconds"] / first["seconds"], 1), base["seconds"] >= 10 * first["seconds"]),
    ]  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        scenario, programme, faults, course_ids = write_inputs(Path(folder))
        sandbox, url = start_sandbox(faults, scenario)
        profiles = os.environ.get("BENCH_PULL_PROFILE", "")
        if profiles:
            Path(profiles).mkdir(parents=True, exist_ok=True)

        def profile(name: str) -> str:
            return str(Path(profiles) / f"{name}.prof") if profiles else ""

        runs: dict[str, dict[str, Any]] = {}
        try:
            for path, token in PATHS.items():
                database, pid = f"sqlite:///{folder}/{path}.db", sandbox.pid
                upgrade_cpu = installed_database(url, programme, database)
                runs[path] = {
                    "first": timed_sync(url, programme, database, pid, token=token,
                                        profile=profile(f"{path}-first")),
                    "unchanged": timed_sync(url, programme, database, pid, token=token,
                                            profile=profile(f"{path}-unchanged")),
                    "weekly": timed_sync(url, programme, database, pid, "--full", token=token,
                                         profile=profile(f"{path}-weekly")),
                }  # fmt: skip
                runs[path]["first"]["db_upgrade_cpu_seconds"] = upgrade_cpu
            if profiles:
                print(json.dumps(runs))
                return
            baseline = naive_baseline(url, course_ids)
        finally:
            sandbox.terminate()
            sandbox.wait()
    first = runs["plugin"]["first"]
    core = runs["core"]
    report = {
        "name": "pull_full_sync_200_courses_50k_submissions_20ms",
        "seconds": first["seconds"],
        "baseline_name": "naive_one_call_per_assignment_per_stream_sequential",
        "baseline_seconds": baseline["seconds"],
        "ratio": round(first["seconds"] / baseline["seconds"], 3),
        "speedup": round(baseline["seconds"] / first["seconds"], 1),
        "full_sync": first,
        "incremental_no_changes": runs["plugin"]["unchanged"],
        "weekly_full_sync": runs["plugin"]["weekly"],
        "core_path": {"full_sync": core["first"], "incremental_no_changes": core["unchanged"],
                      "weekly_full_sync": core["weekly"]},
        "baseline": baseline,
        "targets": targets(runs, baseline),
    }  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
