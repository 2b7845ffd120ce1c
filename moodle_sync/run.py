"""One run of the service, and the context every run is built from.

`RunContext` carries what a run needs (settings, programme, requester, sessions, the decision
time `now` and a clock running on from it, dry run, scope) and is built once; the CLI, the
worker and reconcile all call `run_pipeline` with one. A run is:

    pull (the mapped courses, then students' own dates where they matter)
    -> evaluate the cohort once, at `now`
    -> plan (outbox), deliver (claim-time checks), push profile fields  -- all from that one
       evaluation

recorded as one row of the ledger (`ledger.recorded_run`), which ends `failed` with its reason
whatever stops it. A dry run takes exactly the same path; its push stage runs in a transaction
that is rolled back, against a writer that calls nothing, so it reports exactly what the same
run would then do, and changes nothing in Moodle or in the outbox.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.cohort.facts import Evaluation, evaluate_store
from moodle_sync.cohort.rows import unread_pairs
from moodle_sync.errors import MoodleSyncError
from moodle_sync.ops.alerts import raise_alarm
from moodle_sync.ops.ledger import RunRecord, recorded_run
from moodle_sync.ops.lock import engine_of
from moodle_sync.paths import MoodlePath, detect, unasked
from moodle_sync.pull.fetch import Progress
from moodle_sync.pull.runner import SyncReport, pull
from moodle_sync.push.dispatch import Delivery, DeliveryReport, deliver
from moodle_sync.push.outbox import SendWindow
from moodle_sync.push.planner import PlanReport, make_plan, write_plan
from moodle_sync.push.profile import ProfileReport, push_profiles
from moodle_sync.push.render import Renderer
from moodle_sync.push.writer import DryRunWrites, MoodleWrites, SiteWrites
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import Settings
from moodle_sync.store.db import open_database, rolled_back

__all__ = ["PipelineReport", "RunContext", "open_context", "run_pipeline"]


@dataclass
class RunContext:
    """Everything one run needs, built once. `now` is the decision time (`--now`, or the
    start); `clock()` runs on from it, so every time a run writes agrees with its decisions.

    `courses` and `only_user` narrow a run to part of the programme (a reconciliation);
    `send=False` plans but delivers nothing (the next scheduled run sends).
    """

    settings: Settings
    programme: Programme
    requester: Requester
    sessions: sessionmaker[Session]
    now: dt.datetime
    dry_run: bool = False
    full: bool = False
    courses: list[str] | None = None
    only_user: int | None = None
    send: bool = True
    kind: str | None = None
    should_stop: Callable[[], bool] = lambda: False
    progress: Progress | None = None
    path: MoodlePath | None = None  # plugin or core: from site info, once, at the run's start
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError(f"now={self.now!r} is naive: pass an aware datetime")

    def moodle_path(self) -> MoodlePath:
        """The run's path to Moodle, asked of the site once (`paths`)."""
        if self.path is None:
            self.path = detect(self.requester)
        return self.path

    def writer(self) -> SiteWrites:
        """How this run writes to Moodle (before the site was asked, the run failed first:
        its alerts go the way that needs nothing of the site)."""
        return (self.path or unasked(self.requester)).writer

    def clock(self) -> dt.datetime:
        return self.now + dt.timedelta(seconds=time.monotonic() - self._started)

    @property
    def run_kind(self) -> str:
        if self.kind:
            return self.kind
        if self.dry_run:
            return "dry-run"
        return "full" if self.full else "incremental"

    @property
    def window(self) -> SendWindow:
        return SendWindow(self.programme.reminders, self.programme.timezone)

    @property
    def safety_window(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.sync.safety_window_seconds)


@contextmanager
def open_context(
    settings: Settings, programme: Programme, *, now: dt.datetime | None = None, **options: Any
) -> Iterator[RunContext]:
    """A context on the configured database and Moodle site, closed afterwards."""
    _engine, sessions = open_database(settings.database.url)
    with Requester(settings.require_moodle()) as requester:
        yield RunContext(settings, programme, requester, sessions,
                         now or dt.datetime.now(dt.UTC), **options)  # fmt: skip


@dataclass
class PipelineReport:
    """Every stage's figures; `outcome` is complete, partial or failed."""

    sync: SyncReport
    plan: PlanReport
    delivery: DeliveryReport
    profiles: ProfileReport
    now: dt.datetime
    dry_run: bool
    stopped: bool = False  # asked to stop (SIGTERM) after the pull: nothing was pushed
    evaluation: Evaluation | None = field(default=None, repr=False)

    @property
    def outcome(self) -> str:
        if self.delivery.all_refused:
            return "failed"
        if self.sync.outcome != "complete" or self.delivery.in_doubt or self.stopped:
            return "partial"
        if self.plan.held:  # reminders wait until Moodle confirms students' own dates
            return "partial"
        return "complete"

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.sync.run_id,
            "outcome": self.outcome,
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "stopped": self.stopped,
            "sync": self.sync.as_dict(),
            "plan": self.plan.as_dict(),
            "delivery": asdict(self.delivery),
            "profiles": self.profiles.as_dict(),
        }

    def ledger(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The counts and problems the run's ledger row keeps."""
        counts, problems = self.sync.ledger()
        delivery = self.delivery
        counts["messages"] = {
            "planned": self.plan.planned,
            "cancelled": self.plan.cancelled + delivery.skipped,
            "held": self.plan.held,
            "due": delivery.due,
            "sent": delivery.sent,
            "failed": delivery.failed,
            "in_doubt": delivery.in_doubt,
            "waiting": delivery.waiting,
        }
        counts["status_updates"] = {"pushed": self.profiles.pushed,
                                    "unchanged": self.profiles.unchanged,
                                    "failed": len(self.profiles.failed)}  # fmt: skip
        counts["dry_run"] = self.dry_run
        if self.delivery.all_refused:
            problems["messages"] = self.delivery.all_refused
        return counts, problems


def run_pipeline(ctx: RunContext) -> PipelineReport:
    """Pull, evaluate once, plan, deliver, push statuses; recorded as one run.

    Once `should_stop` says yes (the worker's SIGTERM), the pull ends after the courses being
    written and nothing is planned or pushed; the run is recorded as partial. Problems reach
    the administrators (`alerts`), except from a dry run.
    """
    try:
        with recorded_run(ctx.sessions, ctx.run_kind) as run:
            report = _stages(ctx, run)
            run.close(report.outcome, *report.ledger())
    except MoodleSyncError as exc:
        if not ctx.dry_run:
            raise_alarm(ctx, exc)
        raise
    if not ctx.dry_run:
        raise_alarm(ctx, report)
    return report


def _stages(ctx: RunContext, run: RunRecord) -> PipelineReport:
    pulled = pull(ctx.requester, ctx.sessions, ctx.programme, run, ctx.moodle_path().source,
                  courses=ctx.courses, full=ctx.full, now=ctx.now,
                  safety_window=ctx.safety_window, should_stop=ctx.should_stop,
                  progress=ctx.progress)  # fmt: skip
    if ctx.should_stop():
        return PipelineReport(pulled, PlanReport(run.id, ctx.dry_run), DeliveryReport(),
                              ProfileReport(ctx.dry_run), ctx.now, ctx.dry_run,
                              stopped=True)  # fmt: skip
    with ctx.sessions() as session:
        unread = unread_pairs(session, pulled.failed_courses)
        evaluation = evaluate_store(session, ctx.programme, ctx.now,
                                    ctx.settings.push.interrupted_users,
                                    {*pulled.own_dates.unconfirmed, *unread})  # fmt: skip
    with _push_scope(ctx) as (sessions, writes):
        planned, delivered, profiles = push(ctx, evaluation, sessions, writes, run.id)
    return PipelineReport(pulled, planned, delivered, profiles, ctx.now, ctx.dry_run,
                          evaluation=evaluation)  # fmt: skip


def push(
    ctx: RunContext,
    evaluation: Evaluation,
    sessions: sessionmaker[Session],
    writes: MoodleWrites,
    run_id: int,
) -> tuple[PlanReport, DeliveryReport, ProfileReport]:
    """Plan, deliver and push profile fields from one evaluation."""
    settings = ctx.settings.push
    renderer = Renderer(settings.templates_dir, ctx.programme, ctx.requester.settings.url)
    renderer.check()
    plan = make_plan(evaluation, settings.opt_out_users, ctx.only_user)
    with sessions.begin() as session:
        planned = write_plan(session, plan, renderer, ctx.clock(), run_id, dry_run=ctx.dry_run)
    delivered = DeliveryReport(dry_run=ctx.dry_run)
    if ctx.send:
        delivery = Delivery(ctx.requester, sessions, writes, settings, ctx.clock, ctx.window,
                            plan.verdict, ctx.dry_run)  # fmt: skip
        delivered = deliver(delivery)
    profiles = push_profiles(evaluation, sessions, writes, settings, ctx.clock(), run_id,
                             dry_run=ctx.dry_run, only_user=ctx.only_user)  # fmt: skip
    profiles.progression_saved = writes.save_progression(
        evaluation, sessions, ctx.clock(), run_id, ctx.only_user, ctx.full
    )
    return planned, delivered, profiles


@contextmanager
def _push_scope(ctx: RunContext) -> Iterator[tuple[sessionmaker[Session], MoodleWrites]]:
    """The real store and Moodle, or (dry run) a transaction rolled back and a recorder."""
    if not ctx.dry_run:
        yield ctx.sessions, ctx.writer()
        return
    with rolled_back(engine_of(ctx.sessions)) as sessions:
        yield sessions, DryRunWrites(ctx.writer())
