"""One run of the service: pull, then plan, then push, recorded as one sync run.

The pull reads Moodle into the store; the planner turns the programme's rules into outbox
rows; each student's own due date is confirmed; the outbox is delivered (in-doubt rows from
an earlier run settled first); profile fields get the changed statuses. `now` decides what is
due, so support staff can ask what would happen at another time, and a dry run changes
nothing in Moodle or in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.alerts import raise_alarm
from moodle_sync.client import Requester
from moodle_sync.errors import MoodleSyncError
from moodle_sync.pull.fetch import Progress
from moodle_sync.pull.runner import SyncReport, run_sync
from moodle_sync.push import DeliveryReport, deliver
from moodle_sync.push.confirm import ConfirmReport, confirm
from moodle_sync.push.planner import PlanReport, plan
from moodle_sync.push.profile import ProfileReport, push_profiles
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import Settings
from moodle_sync.store.tables import SyncRun


@dataclass
class PipelineReport:
    """Every stage's figures; `outcome` is complete, partial or failed."""

    sync: SyncReport
    plan: PlanReport
    confirm: ConfirmReport
    delivery: DeliveryReport
    profiles: ProfileReport
    now: datetime
    dry_run: bool
    stopped: bool = False  # asked to stop (SIGTERM) after the pull: nothing was pushed

    @property
    def outcome(self) -> str:
        if self.sync.outcome != "complete" or self.delivery.in_doubt or self.stopped:
            return "partial"
        if self.confirm.unconfirmed:  # reminders held back until Moodle confirms their dates
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
            "confirm": self.confirm.as_dict(),
            "delivery": asdict(self.delivery),
            "profiles": self.profiles.as_dict(),
        }


def run_pipeline(
    settings: Settings,
    programme: Programme,
    requester: Requester,
    sessions: sessionmaker[Session],
    *,
    full: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> PipelineReport:
    """Pull, plan, confirm, deliver and push statuses; record the figures on the sync run.

    Once `should_stop` says yes (the worker's SIGTERM), the pull ends after the courses being
    written and nothing is planned or pushed; the run is recorded as partial.
    """
    now = now or datetime.now(UTC)
    try:
        report = run_stages(settings, programme, requester, sessions, full, dry_run, now,
                            should_stop, progress)  # fmt: skip
    except MoodleSyncError as exc:  # a revoked token, a safety valve: administrators hear of it
        if not dry_run:
            raise_alarm(requester, sessions, settings, exc, now)
        raise
    raise_alarm(requester, sessions, settings, report, now)
    return report


def run_stages(
    settings: Settings,
    programme: Programme,
    requester: Requester,
    sessions: sessionmaker[Session],
    full: bool,
    dry_run: bool,
    now: datetime,
    should_stop: Callable[[], bool] | None,
    progress: Progress | None = None,
) -> PipelineReport:
    window = timedelta(seconds=settings.sync.safety_window_seconds)
    pulled = run_sync(requester, sessions, programme.mapped_courses(), full=full,
                      safety_window=window, should_stop=should_stop,
                      progress=progress)  # fmt: skip
    site, run_id, push = requester.settings.url, pulled.run_id, settings.push
    if should_stop is not None and should_stop():
        report = PipelineReport(pulled, PlanReport(run_id, dry_run), ConfirmReport(),
                                DeliveryReport(dry_run=dry_run), ProfileReport(dry_run), now,
                                dry_run, stopped=True)  # fmt: skip
        record_stages(sessions, report)
        return report
    planned = plan(sessions, programme, push, now, run_id, dry_run=dry_run, site_url=site)
    confirmed = confirm(sessions, requester, programme, push, now, run_id,
                        cache={}, dry_run=dry_run, site_url=site)  # fmt: skip
    delivered = deliver(requester, sessions, push, now, dry_run=dry_run)
    profiles = push_profiles(sessions, requester, programme, push, now, run_id, dry_run=dry_run)
    report = PipelineReport(pulled, planned, confirmed, delivered, profiles, now, dry_run)
    record_stages(sessions, report)
    return report


def record_stages(sessions: sessionmaker[Session], report: PipelineReport) -> None:
    """Add the push stages' counts to the run's ledger row."""
    delivery = report.delivery
    stages = {
        "messages": {
            "planned": report.plan.planned + (report.confirm.replanned.planned
                                              if report.confirm.replanned else 0),
            "cancelled": report.plan.cancelled + report.confirm.cancelled,
            "due": delivery.due,
            "sent": delivery.sent,
            "failed": delivery.failed,
            "in_doubt": delivery.in_doubt,
            "skipped": delivery.skipped,
        },
        "status_updates": {"pushed": report.profiles.pushed,
                           "unchanged": report.profiles.unchanged,
                           "failed": len(report.profiles.failed)},
    }  # fmt: skip
    with sessions.begin() as session:
        run = session.get_one(SyncRun, report.sync.run_id)
        run.counts = {**run.counts, **stages, "dry_run": report.dry_run}
        run.outcome = report.outcome
