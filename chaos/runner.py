"""`python -m chaos [--runs N] [--seed S]`: N seeded schedules on each path, two at a time.

Each schedule (see schedule_run.py) is a simulated fortnight of `moodle-sync run` against a
faulty sandbox Moodle, with SIGKILLs, checked against a fault-free twin: identical stored
data, every message delivered exactly once (or reported in doubt), no stale status, a sound
database. Every seed runs on the core path and on local_cetadsync's, with the same faults and
kills. The table and `reports/chaos.json` give the totals per path; a failure names its seed
and path.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

from chaos.schedule_run import ScheduleResult, run_schedule
from chaos.verify import Messages
from moodle_sync.client.registry import PATHS, PathName

REPO = Path(__file__).resolve().parent.parent


@dataclass
class PathReport:
    """One path's schedules, added up."""

    schedules: int = 0
    failed_seeds: list[int] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    kills: int = 0  # scheduled SIGKILLs: by the runner after a delay, or by the sandbox
    call_kills: int = 0  # of those, by the sandbox at a call (send or settle)
    watchdog_kills: int = 0
    runs: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ChaosReport:
    paths: dict[str, PathReport] = field(default_factory=dict)
    seconds: float = 0.0
    cpus: int = 0
    command: str = ""

    @property
    def passed(self) -> bool:
        return not any(path.failed_seeds for path in self.paths.values())

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [failure for path in self.paths.values() for failure in path.failures]


def summarise(results: list[ScheduleResult], seconds: float, command: str) -> ChaosReport:
    report = ChaosReport(seconds=round(seconds, 1), cpus=os.cpu_count() or 0, command=command)
    for path in PATHS:
        mine = [r for r in results if r.path == path]
        if mine:
            report.paths[path] = _add_up(mine)
    return report


def _add_up(results: list[ScheduleResult]) -> PathReport:
    faults: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    report = PathReport(len(results))
    for r in results:
        faults.update(r.faults)
        codes.update(r.exit_codes)
        messages.update(asdict(r.messages))
        report.kills += r.kills
        report.call_kills += r.call_kills
        report.watchdog_kills += r.watchdog_kills
        report.runs += r.runs
        if r.problems:
            report.failed_seeds.append(r.seed)
            report.failures.append({"seed": r.seed, "path": r.path, "problems": r.problems,
                                    "log": r.log})  # fmt: skip
    report.faults = dict(sorted(faults.items()))
    report.exit_codes = dict(sorted(codes.items()))
    report.messages = {f.name: messages[f.name] for f in fields(Messages)}
    return report


def table(report: ChaosReport) -> str:
    """One column per path, the same rows in each."""
    paths = list(report.paths.values())
    kinds = sorted({kind for path in paths for kind in path.faults})
    names = [f.name for f in fields(Messages)]
    rows = [
        ("", list(report.paths)),
        ("schedules run", [str(p.schedules) for p in paths]),
        ("schedules failed", [str(len(p.failed_seeds)) for p in paths]),
        ("faulty-side runs", [str(p.runs) for p in paths]),
        *((f"runs exiting {code}", [str(p.exit_codes.get(code, 0)) for p in paths])
          for code in sorted({c for p in paths for c in p.exit_codes})),
        ("kills (scheduled SIGKILL)", [str(p.kills) for p in paths]),
        ("  of which at a call (sandbox)", [str(p.call_kills) for p in paths]),
        ("kills (watchdog, run past 10 s)", [str(p.watchdog_kills) for p in paths]),
        *((f"faults: {kind}", [str(p.faults.get(kind, 0)) for p in paths]) for kind in kinds),
        *((f"messages {name}", [str(p.messages[name]) for p in paths]) for name in names),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  " + "  ".join(f"{v:>8}" for v in values) for name, values in rows]
    return "\n".join([*lines, f"wall time {report.seconds:.0f} s on {report.cpus} CPUs"])


def run_chaos(
    seeds: list[int], workdir: Path, jobs: int = 2, paths: tuple[PathName, ...] = PATHS
) -> list[ScheduleResult]:
    """Run every seed on every path, `jobs` schedules at a time, each in its own process."""
    workdir.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    pairs = [(seed, path) for seed in seeds for path in paths]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        run = partial(run_schedule, workdir=workdir)
        return list(pool.map(run, [seed for seed, _ in pairs], [path for _, path in pairs]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="seeds 1..N, each on every path")
    parser.add_argument("--seed", type=int, help="run only this seed (reproduces a failure)")
    parser.add_argument("--path", choices=PATHS, help="run only this path (default: both)")
    parser.add_argument("--jobs", type=int, default=2, help="schedules in parallel")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "chaos.json")
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "chaos")
    args = parser.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else list(range(1, args.runs + 1))
    paths = (args.path,) if args.path else PATHS
    command = f"CHAOS_SEED={args.seed}" if args.seed is not None else f"CHAOS_RUNS={args.runs}"
    command += f" CHAOS_PATH={args.path} make chaos" if args.path else " make chaos"
    started = time.monotonic()
    results = run_chaos(seeds, args.workdir, args.jobs, paths)
    report = summarise(results, time.monotonic() - started, command)
    print(table(report))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    print(f"report: {args.report}")
    for failure in report.failures:
        print(f"\nFAILED seed {failure['seed']} on the {failure['path']} path: rerun with "
              f"CHAOS_SEED={failure['seed']} CHAOS_PATH={failure['path']} make chaos; runs "
              f"logged in {failure['log']}", file=sys.stderr)  # fmt: skip
        for problem in failure["problems"]:
            print(f"  - {problem}", file=sys.stderr)
    sys.exit(0 if report.passed else 1)
