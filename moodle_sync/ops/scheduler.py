"""When the worker runs the pipeline: APScheduler cron jobs computed from the settings.

The schedule is not stored. APScheduler's SQLAlchemyJobStore would keep next run times in a
table of its own, but the jobs must be re-added at every start (the settings may have
changed), and re-adding replaces the stored times, losing the missed run it was meant to
keep. So the jobs are rebuilt from the settings on every start, and a run missed while the
worker was down is found by comparing the latest scheduled time within
`misfire_grace_seconds` with the `sync_runs` ledger, which every run writes anyway: the same
settings give the same schedule, across any number of restarts.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.errors import LockHeldError, MoodleSyncError
from moodle_sync.exit_codes import ExitCode, for_outcome
from moodle_sync.ops.lock import pipeline_lock
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.run import RunContext, run_pipeline
from moodle_sync.settings import Settings
from moodle_sync.store.tables import SyncRun

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ONCE_TOLERANCE = timedelta(minutes=1)  # cron may start `--once` a little early


@dataclass(frozen=True)
class Job:
    """One kind of scheduled run; `trigger` is None for the ad-hoc run of `worker --once`."""

    name: str
    full: bool
    trigger: CronTrigger | None


INCREMENTAL = Job("incremental", False, None)


def jobs(settings: Settings, programme: Programme) -> list[Job]:
    """Nightly (full on `full_sync_weekday`), and hourly inside the send window if enabled."""
    worker = settings.worker
    hour, minute = (int(part) for part in worker.nightly_at.split(":"))
    others = ",".join(day for day in WEEKDAYS if day != worker.full_sync_weekday)
    nightly = functools.partial(CronTrigger, hour=hour, minute=minute, timezone=LONDON)
    found = [
        Job("nightly-full", True, nightly(day_of_week=worker.full_sync_weekday)),
        Job("nightly-incremental", False, nightly(day_of_week=others)),
    ]
    hours = window_hours(programme, time(hour, minute))
    if worker.hourly_in_send_window and hours:
        at = programme.reminders.send_window_start.minute
        hourly = CronTrigger(hour=",".join(map(str, hours)), minute=at, timezone=programme.timezone)
        found.append(Job("hourly", False, hourly))
    return found


def window_hours(programme: Programme, nightly: time) -> list[int]:
    """Hours whose run time falls in [send_window_start, send_window_end), minus the nightly."""
    start, end = programme.reminders.send_window_start, programme.reminders.send_window_end
    times = (time(hour, start.minute) for hour in range(24))
    return [t.hour for t in times if start <= t < end and t != nightly]


def fire_times(job: Job, start: datetime, end: datetime) -> list[datetime]:
    """Every time the job fires in [start, end), exactly as APScheduler computes them."""
    found: list[datetime] = []
    moment = job.trigger.get_next_fire_time(None, start) if job.trigger else None
    while job.trigger and moment is not None and moment < end:
        found.append(moment)
        moment = job.trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return found


def schedule(settings: Settings, programme: Programme, start: datetime, end: datetime) -> list[
    tuple[Job, datetime]
]:  # fmt: skip
    """All runs in [start, end), in time order."""
    runs = [(job, at) for job in jobs(settings, programme) for at in fire_times(job, start, end)]
    return sorted(runs, key=lambda run: run[1])


def next_runs(
    settings: Settings, now: datetime, programme: Programme | None = None
) -> list[tuple[Job, datetime]]:
    """Each job's next run after `now`, soonest first (for `status` and the worker's log)."""
    programme = programme or load_programme(settings.programme_file)
    found = [(job, job.trigger.get_next_fire_time(None, now))
             for job in jobs(settings, programme) if job.trigger]  # fmt: skip
    return sorted(((job, at) for job, at in found if at is not None), key=lambda run: run[1])


def due(settings: Settings, programme: Programme, since: datetime, until: datetime) -> Job | None:
    """The job due for runs scheduled in [since, until]: a full one if any, else the latest."""
    runs = schedule(settings, programme, since, until + timedelta(microseconds=1))
    fulls = [job for job, _at in runs if job.full]
    return fulls[0] if fulls else (runs[-1][0] if runs else None)


def once_job(settings: Settings, programme: Programme, now: datetime) -> Job:
    """What `worker --once` runs: the job the schedule says is due now, else an incremental."""
    grace = timedelta(seconds=settings.worker.misfire_grace_seconds)
    return due(settings, programme, now - grace, now + ONCE_TOLERANCE) or INCREMENTAL


def missed_job(
    settings: Settings, programme: Programme, now: datetime, last_started: datetime | None
) -> Job | None:
    """A run due within the misfire grace that no run has started since (the worker was down)."""
    since = now - timedelta(seconds=settings.worker.misfire_grace_seconds)
    if last_started is not None and last_started > since:
        since = last_started
    return due(settings, programme, since, now)


def last_run_started(sessions: sessionmaker[Session]) -> datetime | None:
    with sessions() as session:
        real = SyncRun.kind != "dry-run"  # a dry run sends nothing: it is not a scheduled run
        return session.scalar(select(func.max(SyncRun.started_at)).where(real))


def run_cycle(
    settings: Settings,
    programme: Programme,
    sessions: sessionmaker[Session],
    job: Job,
    should_stop: Callable[[], bool],
    now: datetime | None = None,
) -> ExitCode:
    """One run of the pipeline under the lock; the exit code a process would end with."""
    if should_stop():
        return ExitCode.OK
    holder = f"moodle-sync worker ({job.name})"
    with pipeline_lock(sessions, settings, holder), Requester(settings.require_moodle()) as req:
        decided = now or datetime.now(UTC)
        ctx = RunContext(settings, programme, req, sessions, decided, full=job.full,
                         should_stop=should_stop)  # fmt: skip
        report = run_pipeline(ctx)
    log.info("%s run %s ended %s", job.name, report.sync.run_id, report.outcome)
    return for_outcome(report.outcome)


def run_scheduled(
    settings: Settings,
    programme: Programme,
    sessions: sessionmaker[Session],
    job: Job,
    should_stop: Callable[[], bool],
) -> None:
    """A scheduled run: problems are logged and the worker carries on to the next run."""
    try:
        run_cycle(settings, programme, sessions, job, should_stop)
    except LockHeldError as exc:
        log.warning("%s run skipped: %s", job.name, exc)
    except MoodleSyncError as exc:
        log.error("%s run failed: %s", job.name, exc)


def build_scheduler(
    settings: Settings,
    programme: Programme,
    sessions: sessionmaker[Session],
    stop: threading.Event,
) -> BackgroundScheduler:
    """One job per schedule, run one at a time; missed runs coalesce within the grace time."""
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.worker.misfire_grace_seconds,
        },
        timezone=LONDON,
    )
    for job in jobs(settings, programme):
        call = functools.partial(run_scheduled, settings, programme, sessions, job, stop.is_set)
        scheduler.add_job(call, job.trigger, id=job.name, name=job.name)
    return scheduler
