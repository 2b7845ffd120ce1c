"""`moodle-sync worker [--once]`: the scheduled pipeline, for systemd, cron or a terminal.

SIGTERM or SIGINT stops it gracefully: no new run starts, the run in progress finishes the
courses it is writing and commits, the lock is released and the process exits 0. A second
signal stops it at once (the default action); every course is still entirely old or new.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

import click
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.commands.base import Context, handle_errors, now_option, pass_context
from moodle_sync.exit_codes import ExitCode
from moodle_sync.ops.scheduler import (
    build_scheduler,
    last_run_started,
    missed_job,
    next_runs,
    once_job,
    run_cycle,
    run_scheduled,
)
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import Settings
from moodle_sync.store.db import open_database

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)


@click.command()
@click.option(
    "--once",
    is_flag=True,
    help="Run what the schedule says is due now (full or incremental), then exit with the "
    "run's exit code: for cron and systemd timers.",
)
@now_option("With --once: choose and run the job")
@pass_context
@handle_errors
def worker(ctx: Context, once: bool, now: datetime | None) -> None:
    """Run the pipeline on the schedule in the [worker] settings until stopped."""
    settings = ctx.settings()
    programme = ctx.programme(settings)
    _engine, sessions = open_database(settings.database.url)
    stop = threading.Event()
    stop_on_signals(stop)
    if now is not None and not once:
        raise click.UsageError("--now applies to --once only (the schedule runs on real time)")
    if once:
        job = once_job(settings, programme, now or datetime.now(UTC))
        log.info("worker --once: %s run", job.name)
        code = run_cycle(settings, programme, sessions, job, stop.is_set, now=now)
        sys.exit(ExitCode.OK if stop.is_set() else code)
    serve(settings, programme, sessions, stop)


def stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.warning(
            "%s received: finishing the courses being written, then stopping "
            "(send it again to stop at once)",
            signal.Signals(signum).name,
        )
        stop.set()
        for number in SIGNALS:
            signal.signal(number, signal.SIG_DFL)

    for number in SIGNALS:
        signal.signal(number, handler)


def serve(
    settings: Settings,
    programme: Programme,
    sessions: sessionmaker[Session],
    stop: threading.Event,
) -> None:
    """Schedule the jobs, catch up a run missed while down, and wait for a signal."""
    scheduler = build_scheduler(settings, programme, sessions, stop)
    scheduler.start()
    now = datetime.now(UTC)
    missed = missed_job(settings, programme, now, last_run_started(sessions))
    if missed is not None:
        log.info("catching up the %s run missed while the worker was down", missed.name)
        call = functools.partial(run_scheduled, settings, programme, sessions, missed, stop.is_set)
        scheduler.add_job(call, id="catch-up", name=f"catch-up {missed.name}")
    for job, at in next_runs(settings, now, programme):
        log.info("next %s run at %s", job.name, at.isoformat())
    while not stop.wait(1.0):
        pass
    log.info("stopping: waiting for the run in progress to finish its courses")
    scheduler.shutdown(wait=True)
    log.info("worker stopped")
