"""What one seed decides: the fortnight's site changes, and the faults and kills of each run.

The site changes depend on the seed alone, so the fault-free twin replays exactly the changes
the faulty schedule saw. Every date comes from `START`, never from the wall clock: a seed
reproduces the same fortnight on any day.

The faults and kills do not depend on the path either: each seed runs on the core path and on
the plugin's with the same plans, a rule aimed at "the send" or "the settle" naming that
path's function. A kill is a SIGKILL from the runner after a seeded delay, or from the sandbox
at the send or the settle call (before it runs, while it runs, or after it ran).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from moodle_sync.client.registry import PathName
from moodle_sync.sandbox.faults import KILLS, FaultKind
from moodle_sync.sandbox.scenario import Scenario, read_scenario

LONDON = ZoneInfo("Europe/London")
START = datetime(2025, 10, 6, 10, 0, tzinfo=LONDON)  # a Monday; the fortnight crosses BST's end
# Local hours of the runs between the first and the last: the nightly 02:00 run and an evening
# run fall outside the send window, so what they plan must wait for a morning run.
RUN_HOURS = (2, 10, 10, 21)
FORTNIGHT = 14
RUN_DAYS = 3  # runs inside the fortnight, then the clean run on day 14
FAULTY_ATTEMPTS = 2  # faulty tries per day before the outage ends
KILL_CHANCE = 0.35
CALL_KILL_CHANCE = 0.5  # of the kills: at a call (the sandbox's) rather than after a delay
SETTLE_FAULT_CHANCE = 0.3  # an attempt whose settle call, if it makes one, fails
# The calls that make and settle a delivery on each path.
SEND = {"core": "core_message_send_instant_messages",
        "plugin": "local_cetadsync_send_notifications"}  # fmt: skip
SETTLE = {"core": "core_message_get_messages", "plugin": "local_cetadsync_get_delivered"}
KILL_KINDS = sorted(KILLS)
RANDOM_KINDS = [kind for kind in FaultKind if kind not in KILLS]
SETTLE_KINDS = (FaultKind.RESET, FaultKind.HANG, FaultKind.HTTP_500, FaultKind.TRUNCATED)
# Per-call probability of each kind while it is in a run's plan; site-changing kinds are rarer.
ODDS = {kind: 0.04 for kind in RANDOM_KINDS} | {
    FaultKind.REVOKE_TOKEN: 0.01,
    FaultKind.COURSE_INACCESSIBLE: 0.01,
    FaultKind.CLI_MAINTENANCE: 0.01,
    FaultKind.LOST_ANSWER: 0.5,
    FaultKind.SLOW_ANSWER: 0.5,
}
AT_SENDS = (FaultKind.LOST_ANSWER, FaultKind.SLOW_ANSWER)  # a write applied, answer lost


@dataclass(frozen=True)
class Day:
    now: datetime
    changes: list[dict[str, Any]]  # bodies for POST /sandbox/mutate


@dataclass(frozen=True)
class Attempt:
    plan: dict[str, Any]  # a FaultPlan as JSON
    kill_after: float | None  # seconds after start to SIGKILL the run, or None


def fortnight(seed: int, scenario: Scenario | None = None) -> list[Day]:
    """The run days (day 0 always) and the site changes made just before each."""
    rng = random.Random(f"changes-{seed}")
    site = _Site(scenario or read_scenario())
    offsets = [0, *sorted(rng.sample(range(1, FORTNIGHT), RUN_DAYS - 1)), FORTNIGHT]
    days = []
    for offset in offsets:
        now = START + timedelta(days=offset)
        if 0 < offset < FORTNIGHT:
            now = now.replace(hour=rng.choice(RUN_HOURS))
        count = 0 if offset == 0 else rng.randint(2, 6)
        days.append(Day(now, [site.change(rng, now) for _ in range(count)]))
    return days


def attempts(seed: int, day: int, hang_seconds: float, path: PathName) -> list[Attempt]:
    """The faulty tries of one run day: each with its own seeded plan, some killed; the same
    draws on either path."""
    rng = random.Random(f"faults-{seed}-{day}")
    out = []
    for _ in range(FAULTY_ATTEMPTS):
        kinds = rng.sample(RANDOM_KINDS, rng.randint(1, 4))
        rules = [_rule(kind, rng, path) for kind in kinds]
        if rng.random() < SETTLE_FAULT_CHANCE:
            kind = rng.choice(SETTLE_KINDS)
            rules.insert(0, {"kind": kind.value, "function": SETTLE[path], "times": 1})
        kill = None
        if rng.random() < KILL_CHANCE:
            if rng.random() < CALL_KILL_CHANCE:
                rules.insert(0, _kill_rule(rng, path))
            else:
                kill = rng.uniform(0.3, 3.0)
        plan = {"seed": rng.randrange(2**31), "hang_seconds": hang_seconds, "rules": rules}
        out.append(Attempt(plan, kill))
    return out


def _rule(kind: FaultKind, rng: random.Random, path: PathName) -> dict[str, Any]:
    rule: dict[str, Any] = {"kind": kind.value, "probability": ODDS[kind], "times": 1}
    if kind in AT_SENDS:
        rule["function"] = SEND[path]
    if kind is FaultKind.LATENCY:
        rule |= {"delay_ms": rng.randint(50, 400), "times": 3}
    return rule


def _kill_rule(rng: random.Random, path: PathName) -> dict[str, Any]:
    """SIGKILL the run at one of its send calls (the first or second), or at the settle."""
    function = rng.choice([SEND[path], SEND[path], SETTLE[path]])
    kind = rng.choice(KILL_KINDS)
    return {"kind": kind.value, "function": function, "after_calls": rng.randint(0, 1),
            "times": 1}  # fmt: skip


class _Site:
    """Just enough of the scenario to pick changes that name real rows."""

    def __init__(self, scenario: Scenario) -> None:
        self.students = [
            (e["userid"], e["courseid"]) for e in scenario.enrolments if e["role"] == "student"
        ]
        self.assignments: dict[int, list[int]] = {}
        for a in scenario.assignments:
            self.assignments.setdefault(a["courseid"], []).append(a["id"])
        self.gone: set[tuple[int, int]] = set()

    def change(self, rng: random.Random, now: datetime) -> dict[str, Any]:
        userid, courseid = rng.choice(self.students)
        assignid = rng.choice(self.assignments.get(courseid) or [min(self.all_assignments())])
        at = int(now.timestamp()) - rng.randint(60, 3600)
        op = rng.choice(["submit", "submit", "grade", "grade", "extension", "workflow",
                         "remove_extension", "suspend", "unenrol"])  # fmt: skip
        pair = {"assignid": assignid, "userid": userid}
        if op in ("suspend", "unenrol") and (userid, courseid) not in self.gone:
            self.gone.add((userid, courseid))
            name = "suspend_enrolment" if op == "suspend" else "unenrol"
            return {"op": name, "userid": userid, "courseid": courseid}
        if op == "grade":
            return {"op": "grade", **pair, "grade": rng.choice([None, *range(0, 101, 7)])}
        if op == "extension":
            return {"op": "grant_extension", **pair, "until": at + rng.randint(1, 20) * 86400}
        if op == "remove_extension":
            return {"op": "remove_extension", **pair}
        if op == "workflow":
            state = rng.choice(["inmarking", "readyforrelease", "released"])
            return {"op": "set_workflow_state", **pair, "state": state}
        status = rng.choice(["draft", "submitted", "submitted"])
        return {"op": "submit", **pair, "status": status, "at": at}

    def all_assignments(self) -> list[int]:
        return [a for ids in self.assignments.values() for a in ids]
