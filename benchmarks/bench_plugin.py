"""The pull on the plugin path (local_cetadsync) against the core path, in the same run.

Each sync runs in its own process against a sandbox in its own process, with 20 ms added to
every answer, on a fresh database per path: the default CETAD scenario pulled in full, then
the generated 200-course site (first full sync, then an incremental sync with nothing
changed), then a scaling curve at CETAD-like density (50 enrolments, 5 assignments and 250
submissions per course; sizes from BENCH_PLUGIN_SCALES, default "50,200,1000"; the core
path only up to BENCH_PLUGIN_CORE_MAX courses, default 200). Prints one JSON object; the core
path is the baseline.
Run: .venv/bin/python benchmarks/bench_plugin.py
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

from bench_pull import start_sandbox  # the sibling script (benchmarks/ is on sys.path)

from moodle_sync.sandbox.generate import generate_site
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, PLUGIN_TOKEN

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 20
PATHS = {"core": INTEGRATION_TOKEN, "plugin": PLUGIN_TOKEN}


def generated(folder: Path, courses: int) -> tuple[Path, Path]:
    site = generate_site(courses, enrolments=50 * courses, assignments=5 * courses,
                         submissions=250 * courses)  # fmt: skip
    scenario = folder / f"site-{courses}.json"
    scenario.write_text(json.dumps(site.scenario))
    base = (ROOT / "config" / "programme.toml").read_text()
    base = re.sub(r'^moodle_course = "CETAD-[A-Z]+"\n', "", base, flags=re.M)
    modules = "".join(
        f'\n[modules.{idnumber.replace("-", "")}]\ntitle = "Bench {idnumber}"\ncredits = 20\n'
        f'level = 7\nkind = "taught"\nmoodle_course = "{idnumber}"\n'
        for idnumber in site.course_idnumbers
    )
    programme = folder / f"programme-{courses}.toml"
    programme.write_text(base + modules)
    return scenario, programme


def timed_sync(
    url: str, token: str, programme: Path, database: str, *args: str, ids: int = 200
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOODLE_SYNC_")} | {
        "MOODLE_SYNC_MOODLE__MAX_IDS_PER_CALL": str(ids),
        "MOODLE_SYNC_CONFIG": os.devnull,
        "MOODLE_SYNC_MOODLE__URL": url,
        "MOODLE_SYNC_MOODLE__TOKEN": token,
        "MOODLE_SYNC_DATABASE__URL": database,
        "MOODLE_SYNC_PROGRAMME_FILE": str(programme),
    }
    command = [sys.executable, "-m", "moodle_sync", "sync", "--json", *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    record = json.loads(done.stdout)
    if record["outcome"] != "complete":
        raise SystemExit(f"sync {args} on {token} was not complete: {record}")
    return {"seconds": round(seconds, 2), "calls": int(record["requests"]["calls"]),
            "peak_mb": record["peak_memory_mb"]}  # fmt: skip


def both_paths(
    folder: Path, scenario: Path | None, programme: Path, tag: str, paths: list[str]
) -> dict[str, Any]:
    """Per path, on one sandbox: the first full sync (courses looked up by idnumber), a
    no-change incremental sync, a `--full` sync of the courses now known, and (plugin path)
    the no-change sync again with `moodle.max_ids_per_call = 1000`."""
    faults = folder / "faults.json"
    faults.write_text(json.dumps({"latency_ms": LATENCY_MS}))
    sandbox, url = start_sandbox(faults, scenario)
    try:
        out: dict[str, Any] = {}
        for path in paths:
            token, database = PATHS[path], f"sqlite:///{folder}/{tag}-{path}.db"
            out[path] = {
                "full": timed_sync(url, token, programme, database),
                "unchanged": timed_sync(url, token, programme, database),
                "full_again": timed_sync(url, token, programme, database, "--full"),
            }
            if path == "plugin":
                out[path]["unchanged_1000_ids"] = timed_sync(url, token, programme, database,
                                                             ids=1000)  # fmt: skip
        return out
    finally:
        sandbox.terminate()
        sandbox.wait()


def main() -> None:
    scales = [int(s) for s in os.environ.get("BENCH_PLUGIN_SCALES", "50,200,1000").split(",")]
    core_max = int(os.environ.get("BENCH_PLUGIN_CORE_MAX", "200"))  # core at 1,000: ~30 min
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cetad = both_paths(folder, None, ROOT / "config" / "programme.toml", "cetad", list(PATHS))
        curve = {}
        for courses in sorted(set(scales) | {200}):
            scenario, programme = generated(folder, courses)
            paths = list(PATHS) if courses <= core_max else ["plugin"]
            curve[courses] = both_paths(folder, scenario, programme, f"site{courses}", paths)
    site200 = curve[200]
    plugin_unchanged = site200["plugin"]["unchanged"]
    report = {
        "name": "pull_plugin_path_200_courses_20ms",
        "seconds": site200["plugin"]["full"]["seconds"],
        "baseline_name": "core_path_same_site_same_run",
        "baseline_seconds": site200["core"]["full"]["seconds"],
        "ratio": round(site200["plugin"]["full"]["seconds"] / site200["core"]["full"]["seconds"],
                       3),
        "cetad": cetad,
        "scaling": {str(c): v for c, v in curve.items()},
        "targets": [
            {"target": "CETAD full pull (--full, courses known), plugin path, <= 8 calls",
             "measured": cetad["plugin"]["full_again"]["calls"],
             "met": cetad["plugin"]["full_again"]["calls"] <= 8},
            {"target": "200 courses, incremental no change, plugin path, <= 15 calls",
             "measured": plugin_unchanged["calls"], "met": plugin_unchanged["calls"] <= 15},
        ],
    }  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
