"""`make bench`: run every benchmark and gather their figures into one report.

Each `benchmarks/bench_*.py` prints one JSON object with at least `name`, `seconds`,
`baseline_name`, `baseline_seconds` and `ratio` (the baseline is measured in the same run,
so the ratio means something on any machine), or `name` and `skipped` (why it could not run
here, e.g. bench_pages.py without a live Moodle site). This writes `reports/bench.json` and
`reports/bench.md` with the machine's CPU count and the command that reproduces each figure.
`run_all.py NAME...` (or `make bench BENCH=NAME`) measures only those and keeps the others.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
# Everything after this line of reports/bench.md is written by hand (what changed, figures
# before and after) and kept when the tables above it are measured again.
NOTES_MARK = "<!-- notes: kept by make bench -->"


def run_benchmark(script: Path) -> dict[str, Any]:
    command = [sys.executable, str(script.relative_to(ROOT))]
    print(f"running {script.name} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{script.name} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["command"] = f".venv/bin/python {script.relative_to(ROOT)}"
    return figures


def separately(report: dict[str, Any]) -> list[str]:
    """A line for each benchmark measured on its own (`run_all.py NAME`), not with the rest."""
    apart = [row for row in report["benchmarks"]
             if row.get("measured_at", report["measured_at"]) != report["measured_at"]]  # fmt: skip
    return ["", *(f"`{row['name']}` was measured on its own, {row['measured_at']} "
                  f"(`run_all.py {Path(row['command'].split()[-1]).stem}`)."
                  for row in apart)] if apart else []  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {report['measured_at']} on {report['cpu_count']} CPUs "
        f"({report['platform']}, Python {report['python']}). Each figure is set against a "
        "baseline measured in the same run; read the ratio, not the seconds.",
        *separately(report),
        "",
        "| benchmark | seconds | baseline | baseline seconds | ratio | command |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["benchmarks"]:
        if "skipped" in row:
            why = f"skipped: {row['skipped']}"
            lines.append(f"| {row['name']} | {why} | | | | `{row['command']}` |")
            continue
        lines.append(
            f"| {row['name']} | {row['seconds']} | {row['baseline_name']} | "
            f"{row['baseline_seconds']} | {row['ratio']} | `{row['command']}` |"
        )
    lines += ["", "## Targets from the issues, met or not", "",
              "| benchmark | target | measured | met |", "|---|---|---|---|"]  # fmt: skip
    for row in report["benchmarks"]:
        for target in row.get("targets", []):
            met = "yes" if target["met"] else "**no**"
            lines.append(f"| {row['name']} | {target['target']} | {target['measured']} | {met} |")
    lines += cpu_lines(report) + startup_lines(report)
    lines += ["", "Every benchmark's full figures are in `reports/bench.json`."]
    return "\n".join(lines) + "\n"


def cpu_lines(report: dict[str, Any]) -> list[str]:
    """The pull's wall time beside the CPU seconds of the worker process, of the pull alone,
    and apart, of the sandbox, per path."""
    lines = []
    names = ("full_sync", "incremental_no_changes", "weekly_full_sync")
    for row in report["benchmarks"]:
        paths = {"plugin": row, "core": row.get("core_path", {})}
        runs = [(path, name, found[name]) for path, found in paths.items() for name in names
                if "worker_cpu_seconds" in (found.get(name) or {})]  # fmt: skip
        if not runs:
            continue
        lines += ["", f"## {row['name']}: wall time and CPU seconds", "",
                  "| path | sync | wall s | worker process CPU s | pull CPU s | sandbox CPU s "
                  "| calls |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        for path, name, run in runs:
            lines.append(f"| {path} | {name} | {run['seconds']} | {run['worker_cpu_seconds']} | "
                         f"{run.get('pull_cpu_seconds', '')} | {run['sandbox_cpu_seconds']} | "
                         f"{run['calls']} |")  # fmt: skip
        upgrades = [f"{path} {run['db_upgrade_cpu_seconds']} s" for path, name, run in runs
                    if "db_upgrade_cpu_seconds" in run]  # fmt: skip
        if upgrades:
            made = ", ".join(upgrades)
            lines += ["", "Each database was made first by `moodle-sync db upgrade`, as the "
                      f"admin guide installs the service (worker CPU: {made})."]  # fmt: skip
    return lines


def startup_lines(report: dict[str, Any]) -> list[str]:
    """Benchmarks of several figures, each against one baseline (start-up; the pages, with the
    rows each page rendered)."""
    lines = []
    for row in report["benchmarks"]:
        if "ratios" not in row:
            continue
        label = row.get("baseline_label", "`python -c pass`")
        lines += ["", f"## {row['name']}: seconds and ratio to {label} "
                  f"({row['baseline_seconds']} s)", "",
                  "| what | seconds | ratio |", "|---|---|---|"]  # fmt: skip
        pages = row.get("pages", {})
        if pages:
            lines[-2:] = ["| what | seconds | ratio | rows rendered |", "|---|---|---|---|"]
        for name, seconds in row["figures"].items():
            rows = f" {pages[name]['rows_rendered']} |" if name in pages else ""
            lines.append(f"| {name.replace('_', ' ')} | {seconds} | {row['ratios'][name]} |{rows}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Every benchmark, or only those named (`run_all.py bench_pages`, or `pages`): their
    rows are replaced in the last report and the others kept, each with its own time."""
    names = sys.argv[1:] if argv is None else argv
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names or s.stem.removeprefix("bench_") in names]
        if not scripts:
            raise SystemExit(f"no benchmark named {' '.join(names)} in benchmarks/")
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [run_benchmark(script) | {"measured_at": measured_at} for script in scripts]
    report = {
        "measured_at": measured_at,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "benchmarks": rows,
    }
    REPORTS.mkdir(exist_ok=True)
    if names and (REPORTS / "bench.json").exists():
        last = json.loads((REPORTS / "bench.json").read_text())
        fresh = {row["command"] for row in rows}
        kept = [row for row in last["benchmarks"] if row["command"] not in fresh]
        report["measured_at"] = last["measured_at"]
        report["benchmarks"] = sorted(kept + rows, key=lambda row: str(row["command"]))
    (REPORTS / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    previous = REPORTS / "bench.md"
    notes = previous.read_text().partition(NOTES_MARK)[2] if previous.exists() else ""
    previous.write_text(markdown(report) + (f"\n{NOTES_MARK}{notes}" if notes else ""))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
