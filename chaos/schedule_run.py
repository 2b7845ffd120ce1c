"""One schedule: a fault-free twin and a faulty fortnight of the same site changes, compared,
on one path (core web services, or local_cetadsync: the token decides, as on a real site).

Each run day the twin runs once; the faulty side gets up to `FAULTY_ATTEMPTS` runs under fresh
seeded fault plans, some SIGKILLed, with the site repaired after each (as an administrator
would); if none completes, the outage ends and clean runs follow until one does. On the last
day the faulty side gets its clean run once in-doubt batches are past the settle time.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from chaos import verify
from chaos.runs import (
    CLEAN_WATCHDOG,
    HANG_SECONDS,
    KILLED,
    READ_TIMEOUT,
    TOKENS,
    Outcome,
    run_in_process,
    run_process,
    write_config,
)
from chaos.schedule import START, Day, attempts, fortnight
from chaos.site import SandboxSite
from moodle_sync.client.registry import PathName
from moodle_sync.exit_codes import ExitCode
from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox.scenario import read_scenario
from moodle_sync.settings import PushSettings

CLEAN_TRIES = 3
SETTLE = READ_TIMEOUT + 0.5
# A failed run is retried later the same morning, as the worker's next slot would; late
# enough for a reminder held until Moodle confirms the student's own dates to be asked again.
RETRY = timedelta(minutes=10)


@dataclass
class ScheduleResult:
    seed: int
    path: PathName = "core"
    faults: dict[str, int] = field(default_factory=dict)
    kills: int = 0  # scheduled ones: by the runner after a delay, or by the sandbox at a call
    call_kills: int = 0  # of those, by the sandbox
    watchdog_kills: int = 0
    runs: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    messages: verify.Messages = field(default_factory=verify.Messages)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_schedule(seed: int, path: PathName, workdir: Path) -> ScheduleResult:
    """Run both sides of one seed on one path in `workdir/<path>-seed-<seed>`; kept only when
    it fails."""
    started, home = time.monotonic(), workdir / f"{path}-seed-{seed}"
    shutil.rmtree(home, ignore_errors=True)
    (home / "twin").mkdir(parents=True)
    (home / "faulty").mkdir()
    result = ScheduleResult(seed, path, log=str(home / "runs.log"))
    twin, faulty = SandboxSite(START, TOKENS[path]), SandboxSite(START, TOKENS[path])
    try:
        _fortnight(seed, home, twin, faulty, result)
        _verify(home, twin, faulty, seed, result)
    except Exception as exc:  # a crash of the runner itself is a failed schedule, not a hang
        result.problems.append(f"runner error: {type(exc).__name__}: {exc}")
    finally:
        twin.stop()
        faulty.stop()
    result.faults = dict(faulty.fault_totals)
    result.seconds = round(time.monotonic() - started, 1)
    if not result.problems:
        shutil.rmtree(home, ignore_errors=True)
    return result


def _fortnight(
    seed: int, home: Path, twin: SandboxSite, faulty: SandboxSite, result: ScheduleResult
) -> None:
    log = home / "runs.log"
    twin_config = write_config(home / "twin", twin.url, result.path)
    faulty_config = write_config(home / "faulty", faulty.url, result.path)
    days = fortnight(seed)
    codes: Counter[str] = Counter()
    for index, day in enumerate(days):
        for site in (twin, faulty):
            _change_site(site, day)
        code = run_in_process(twin_config, day.now, log)
        if code != ExitCode.OK:
            result.problems.append(f"twin run on {day.now:%Y-%m-%d} exited {code}")
        last = index == len(days) - 1
        plans = [] if last else attempts(seed, index, HANG_SECONDS, result.path)
        for tries, attempt in enumerate(plans):
            faulty.set_faults(attempt.plan)
            outcome = run_process(faulty_config, day.now + tries * RETRY, log, attempt.kill_after)
            faulty.repair()
            _count(outcome, codes, result)
            if outcome.code == ExitCode.OK:
                break
        else:
            _clean_runs(faulty_config, day.now + len(plans) * RETRY, log, codes, result)
    result.exit_codes = dict(codes)


def _change_site(site: SandboxSite, day: Day) -> None:
    site.set_clock(day.now)
    for change in day.changes:
        site.mutate(change)


def _clean_runs(
    config: Path, now: datetime, log: Path, codes: Counter[str], result: ScheduleResult
) -> None:
    """Fault-free runs until one completes (an in-doubt batch needs the settle time first)."""
    for tries in range(CLEAN_TRIES):
        outcome = run_process(config, now + tries * RETRY, log, None, CLEAN_WATCHDOG)
        _count(outcome, codes, result)
        if outcome.code == ExitCode.OK:
            return
        if outcome.code == ExitCode.PARTIAL:
            time.sleep(SETTLE)  # an in-doubt batch settles once older than the read timeout
    result.problems.append(f"no clean run completed on {now:%Y-%m-%d} in {CLEAN_TRIES} tries")


def _count(outcome: Outcome, codes: Counter[str], result: ScheduleResult) -> None:
    result.runs += 1
    codes["killed" if outcome.code == KILLED else str(outcome.code)] += 1
    if outcome.code == KILLED:
        if outcome.watchdog:
            result.watchdog_kills += 1
        else:
            result.kills += 1
            result.call_kills += not outcome.timer


def _leavers(seed: int) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """When each student left a course in this seed's fortnight (suspended or unenrolled, by
    the site clock), and each assignment's course."""
    left_at: dict[tuple[int, int], int] = {}
    for day in fortnight(seed):
        for change in day.changes:
            if change["op"] in ("suspend_enrolment", "unenrol"):
                key = (change["userid"], change["courseid"])
                left_at.setdefault(key, int(day.now.timestamp()))
    course_of = {a["id"]: a["courseid"] for a in read_scenario().assignments}
    return left_at, course_of


def _verify(
    home: Path, twin: SandboxSite, faulty: SandboxSite, seed: int, result: ScheduleResult
) -> None:
    now = fortnight(seed)[-1].now
    twin_state, faulty_state = twin.state(), faulty.state()
    twin_db = create_engine(f"sqlite:///{home / 'twin' / 'store.db'}")
    faulty_db = create_engine(f"sqlite:///{home / 'faulty' / 'store.db'}")
    try:
        with Session(twin_db) as left, Session(faulty_db) as right:
            in_doubt = verify.in_doubt_keys(right)
            counts = verify.count_messages(
                verify.received(twin_state), verify.received(faulty_state), in_doubt
            )
            result.messages = counts
            result.problems += _message_problems(counts)
            twin_view, faulty_view = verify.store_view(left), verify.store_view(right)
            result.problems += verify.compare_stores(twin_view, faulty_view)
            programme = load_programme(Path(__file__).parent.parent / "config/programme.toml")
            result.problems += verify.stale_statuses(
                right, programme, PushSettings(), now, faulty_state["profile_fields"]
            )
            left_at, course_of = _leavers(seed)
            for state in (twin_state, faulty_state):
                result.problems += verify.outside_the_window(state, programme)
                result.problems += verify.sent_after_the_reason_had_gone(state)
                result.problems += verify.sent_after_the_student_left(state, left_at, course_of)
                result.problems += verify.two_digests_in_a_day(state, programme)
                result.problems += verify.keyed_by_another_key(state)
            result.problems += verify.integrity(left) + verify.integrity(right)
    finally:
        twin_db.dispose()
        faulty_db.dispose()


def _message_problems(counts: verify.Messages) -> list[str]:
    found = []
    if counts.duplicated:
        found.append(f"{counts.duplicated} messages delivered more than once")
    if counts.lost:
        found.append(f"{counts.lost} messages lost (planned by the twin, never delivered)")
    if counts.unexpected:
        found.append(f"{counts.unexpected} messages the fault-free twin never sent")
    return found
