"""Time `evaluate_document` on 10,000 generated participants with five assessments each.

The baseline, measured in the same run, is reading and validating the same document
(`read_document`), so the figure can be quoted as a ratio that survives a slower machine.
Prints one JSON object. Run: .venv/bin/python benchmarks/bench_rules.py [--participants N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import random
import time
from collections.abc import Callable
from typing import Any

from moodle_sync.cycles import collector_paused
from moodle_sync.rules import evaluate_document, load_programme
from moodle_sync.rules.inputs import read_document

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOW = dt.datetime(2025, 11, 20, 10, 0, tzinfo=dt.UTC)
TAUGHT = ["MPC", "OCVB", "LOTC", "ULM", "WBP"]
COHORTS = 40


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _assessment(rng: random.Random, ident: int, due: dt.datetime) -> dict[str, Any]:
    item: dict[str, Any] = {"id": ident, "name": "Essay", "due": _iso(due)}
    if rng.random() < 0.2:
        item["extension"] = _iso(due + dt.timedelta(days=rng.randint(1, 14)))
    if rng.random() < 0.3:
        item["cutoff"] = _iso(due + dt.timedelta(days=7))
    roll = rng.random()
    if due < NOW and roll < 0.8:
        submitted = due + dt.timedelta(hours=rng.randint(-72, 120))
        item |= {"submitted_at": _iso(submitted), "submission_status": "submitted"}
        if rng.random() < 0.7:
            item["grade"] = rng.randint(30, 85) + rng.choice([0, 0.5, 0.25])
    elif roll < 0.9:
        item["submission_status"] = "draft"
    return item


def generate(participants: int, seed: int = 7) -> dict[str, Any]:
    """A reproducible document: five assessments per participant, one per module.

    As in Moodle, an assignment's due date is shared by its cohort (40 cohorts here); the
    extensions, submissions and grades are each participant's own.
    """
    rng = random.Random(seed)
    dues = [
        [NOW + dt.timedelta(hours=rng.randint(-24 * 60, 24 * 30)) for _ in TAUGHT]
        for _ in range(COHORTS)
    ]
    people = []
    for i in range(participants):
        cohort = dues[i % COHORTS]
        modules = [
            {"module": code, "assessments": [_assessment(rng, i * 10 + j, cohort[j])]}
            for j, code in enumerate(TAUGHT)
        ]
        people.append(
            {
                "id": i,
                "name": f"Participant {i}",
                "target_award": rng.choice(["pg_diploma", "masters"]),
                "prior_learning_credits": rng.choice([None, 30, 60]),
                "status": "active" if rng.random() < 0.95 else "suspended",
                "modules": modules,
            }
        )
    return {"now": _iso(NOW), "participants": people}


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs`, each with the cycle collector paused, as `moodle-sync rules
    evaluate` and the pipeline's evaluation run (moodle_sync.cycles)."""
    timings = []
    for _ in range(runs):
        with collector_paused():
            start = time.perf_counter()
            work()
            timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    programme = load_programme(ROOT / "config" / "programme.toml")
    doc = generate(args.participants)
    baseline = best_of(args.runs, lambda: read_document(doc, programme))
    seconds = best_of(args.runs, lambda: evaluate_document(doc, programme))
    report = {
        "name": f"rules_evaluate_{args.participants // 1000}k",
        "seconds": round(seconds, 4),
        "baseline_name": "rules_read_document",
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "targets": [
            {
                "target": "10,000 participants in < 1 s",
                "measured": round(seconds, 3),
                "met": seconds < 1.0,
            },
        ],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
