"""`python -m chaos [--runs N] [--seed S]`: N seeded schedules, two at a time, one report.

Each schedule (see schedule_run.py) is a simulated fortnight of `moodle-sync run` against a
faulty sandbox Moodle, with SIGKILLs, checked against a fault-free twin: identical stored
data, every message delivered exactly once (or reported in doubt), no stale status, a sound
database. The table and `reports/chaos.json` give the totals; a failure names its seed.
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

REPO = Path(__file__).resolve().parent.parent


@dataclass
class ChaosReport:
    schedules: int = 0
    failed_seeds: list[int] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    watchdog_kills: int = 0
    runs: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpus: int = 0
    command: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failed_seeds


def summarise(results: list[ScheduleResult], seconds: float, command: str) -> ChaosReport:
    faults: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    report = ChaosReport(len(results), seconds=round(seconds, 1), cpus=os.cpu_count() or 0,
                         command=command)  # fmt: skip
    for r in results:
        faults.update(r.faults)
        codes.update(r.exit_codes)
        messages.update(asdict(r.messages))
        report.kills += r.kills
        report.watchdog_kills += r.watchdog_kills
        report.runs += r.runs
        if r.problems:
            report.failed_seeds.append(r.seed)
            report.failures.append({"seed": r.seed, "problems": r.problems, "log": r.log})
    report.faults = dict(sorted(faults.items()))
    report.exit_codes = dict(sorted(codes.items()))
    report.messages = {f.name: messages[f.name] for f in fields(Messages)}
    return report


def table(report: ChaosReport) -> str:
    rows = [
        ("schedules run", str(report.schedules)),
        ("schedules failed", str(len(report.failed_seeds))),
        ("faulty-side runs", f"{report.runs} (exit codes {report.exit_codes})"),
        ("kills (scheduled SIGKILL)", str(report.kills)),
        ("kills (watchdog, run past 10 s)", str(report.watchdog_kills)),
        *((f"faults: {kind}", str(n)) for kind, n in report.faults.items()),
        *((f"messages {name}", str(n)) for name, n in report.messages.items()),
        ("wall time", f"{report.seconds:.0f} s on {report.cpus} CPUs"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def run_chaos(seeds: list[int], workdir: Path, jobs: int = 2) -> list[ScheduleResult]:
    """Run the schedules `jobs` at a time, each in its own worker process."""
    workdir.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return list(pool.map(partial(run_schedule, workdir=workdir), seeds))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="schedules to run (seeds 1..N)")
    parser.add_argument("--seed", type=int, help="run only this seed (reproduces a failure)")
    parser.add_argument("--jobs", type=int, default=2, help="schedules in parallel")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "chaos.json")
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "chaos")
    args = parser.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else list(range(1, args.runs + 1))
    command = f"CHAOS_SEED={args.seed} make chaos" if args.seed is not None else (
        f"CHAOS_RUNS={args.runs} make chaos")  # fmt: skip
    started = time.monotonic()
    report = summarise(run_chaos(seeds, args.workdir, args.jobs), time.monotonic() - started,
                       command)  # fmt: skip
    print(table(report))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    print(f"report: {args.report}")
    for failure in report.failures:
        print(f"\nFAILED seed {failure['seed']}: rerun with CHAOS_SEED={failure['seed']} "
              f"make chaos; runs logged in {failure['log']}", file=sys.stderr)  # fmt: skip
        for problem in failure["problems"]:
            print(f"  - {problem}", file=sys.stderr)
    sys.exit(0 if report.passed else 1)
