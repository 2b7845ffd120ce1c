"""Right for every student on every day: each behaviour through the pipeline, on the sandbox.

Each test plays a day a university lives through (an evening refusal, a send that times out,
a tutor who gives one student her own deadline, a resit, the annual rollover, a suspension in
one course, group work, a dry run, a run that dies) and checks what students and tutors
receive, and what the service records.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.errors import MoodleSyncError, SafetyValveError
from moodle_sync.ops.status import read_store
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.run import PipelineReport
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, PLUGIN_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, Settings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import OutboxMessage, SyncRun
from tests.conftest import REPO, pipeline
from tests.test_cli import run_cli

LONDON = ZoneInfo("Europe/London")
REF = re.compile(r"Ref: ([A-Za-z0-9_-]+)")
SEND = "core_message_send_instant_messages"
AMELIA, OLIVER, PRIYA, SOPHIE, MOHAMMED, DANIEL, GRACE, TOMASZ = 5, 6, 7, 9, 10, 12, 15, 16
HELEN = 17  # a tutor of every course
MPC, LOTC = 3, 5  # courses
MPC_REPORT, MPC_LOG, LOTC_CASE = 2, 3, 5  # assignments
TODAY = datetime.now(LONDON).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock(hour, minute), LONDON).astimezone(UTC)


class Site:
    """The sandbox, a store and the pipeline, run at chosen Europe/London times."""

    def __init__(self, sandbox: Sandbox, path: Path, **push: Any) -> None:
        self.sandbox, self.state = sandbox, sandbox.state
        self.settings = Settings(
            moodle=MoodleSettings(
                url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN), max_attempts=1, read_timeout=1
            ),
            push={"templates_dir": REPO / "config" / "templates", **push},
            alerts={"admin_users": (2,)},
        )
        self.programme: Programme = load_programme(REPO / "config" / "programme.toml")
        self.sessions: sessionmaker[Session] = open_database(f"sqlite:///{path}/store.db")[1]
        self.requester = Requester(self.settings.require_moodle(), sleep=lambda _s: None)

    def run(self, when: datetime, **options: Any) -> PipelineReport:
        return pipeline(self.settings, self.programme, self.requester, self.sessions, when,
                        **options)  # fmt: skip

    def fails(self, when: datetime, **options: Any) -> MoodleSyncError:
        with pytest.raises(MoodleSyncError) as raised:
            self.run(when, **options)
        return raised.value

    def received(self) -> Counter[str]:
        """Messages Moodle holds, by the outbox key each carries."""
        return Counter(key for m in self.state.messages for key in REF.findall(m.text))

    def keys_to(self, user: int) -> list[str]:
        return [key for m in self.state.messages if m.useridto == user
                for key in REF.findall(m.text)]  # fmt: skip

    def rows(self) -> dict[str, OutboxMessage]:
        with self.sessions() as session:
            return {row.key: row for row in session.scalars(select(OutboxMessage))}

    def refuse_sends(self, kind: FaultKind = FaultKind.SITE_MAINTENANCE) -> None:
        self.sandbox.set_faults(FaultPlan(rules=[FaultRule(function=SEND, kind=kind)]))

    def heal(self) -> None:
        self.sandbox.set_faults(None)

    def field(self, user: int) -> str:
        return self.state.users[user].customfields.get("cetad_progression", "")

    def only_work(self, assignment: int, due: datetime, *students: int) -> None:
        """Everything else long done; `assignment` due at `due`, not yet handed in by these."""
        for other in self.state.assignments.values():
            if other.id != assignment:
                self.state.move_due_date(other.id, int((due - timedelta(days=90)).timestamp()), 0)
        self.state.move_due_date(assignment, int(due.timestamp()), 0)
        self.state.submissions = [
            s
            for s in self.state.submissions
            if not (s.assignment == assignment and s.userid in students)
        ]
        self.state.userflags = [f for f in self.state.userflags if f.assignment != assignment]
        self.state.overrides = [o for o in self.state.overrides if o.assignment != assignment]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with start_sandbox() as sandbox:
        running = Site(sandbox, tmp_path)
        yield running
        running.requester.close()


@contextmanager
def plugin_site(tmp_path: Path) -> Iterator[Site]:
    """A Site whose worker holds the plugin's token (the local_cetadsync path), with one
    attempt per call and a 1 s read timeout, for the plugin's delivery and records tests."""
    with start_sandbox() as sandbox:
        running = Site(sandbox, tmp_path)
        moodle = MoodleSettings(url=sandbox.url, token=SecretStr(PLUGIN_TOKEN), max_attempts=1,
                                read_timeout=1)  # fmt: skip
        running.settings = running.settings.model_copy(update={"moodle": moodle})
        running.requester.close()
        running.requester = type(running.requester)(moodle, sleep=lambda _s: None)
        yield running
        running.requester.close()


def amelias_before_2d(site: Site) -> tuple[datetime, str]:
    """Amelia's MPC report due in three days at noon; her before_2d reminder is due tomorrow."""
    due = at(TODAY + timedelta(days=3), 12)
    site.only_work(MPC_REPORT, due, AMELIA)
    return due, f"r-{AMELIA}-{MPC_REPORT}-before_2d-{due:%Y%m%dT%H%M%SZ}"


# --- 1. the send window holds at delivery ---
def test_a_reminder_refused_in_the_evening_waits_for_8am_not_the_2am_nightly_run(
    site: Site,
) -> None:
    _due, key = amelias_before_2d(site)
    tomorrow, after = TODAY + timedelta(days=1), TODAY + timedelta(days=2)
    evening, nightly, morning = at(tomorrow, 19, 30), at(after, 2), at(after, 8, 5)
    site.refuse_sends()
    site.fails(evening)
    assert site.rows()[key].state == "planned" and key not in site.received()
    site.heal()
    site.run(nightly)
    assert key not in site.received(), "sent by the 02:00 nightly run"
    site.run(morning)
    assert site.received()[key] == 1


def test_a_batch_in_doubt_released_at_night_is_sent_after_8am(site: Site) -> None:
    _due, key = amelias_before_2d(site)
    site.refuse_sends(FaultKind.RESET)  # the connection drops: nothing stored, outcome unknown
    site.run(at(TODAY + timedelta(days=1), 19, 30))
    assert site.rows()[key].state == "sending"
    site.heal()
    time.sleep(1.2)  # past the settle time (the read timeout, 1 s here)
    site.run(at(TODAY + timedelta(days=2), 2))
    assert site.rows()[key].state == "planned" and key not in site.received()
    site.run(at(TODAY + timedelta(days=2), 8, 30))
    assert site.received()[key] == 1


def test_a_reminder_planned_before_a_crash_is_not_sent_by_the_nightly_run(site: Site) -> None:
    _due, key = amelias_before_2d(site)
    site.run(at(TODAY + timedelta(days=1), 19, 55), send=False)  # planned; the process died
    site.run(at(TODAY + timedelta(days=2), 2))
    assert key not in site.received()
    site.run(at(TODAY + timedelta(days=2), 8, 1))
    assert site.received()[key] == 1


def test_the_safety_valve_at_night_lets_nothing_out_and_the_morning_sends_once(
    site: Site, tmp_path: Path
) -> None:
    _due, key = amelias_before_2d(site)
    tight = Site(site.sandbox, tmp_path, max_messages_per_run=0)
    with pytest.raises(SafetyValveError):
        tight.run(at(TODAY + timedelta(days=1), 19, 30))
    tight.run(at(TODAY + timedelta(days=2), 2))  # the valve is not even reached at night
    assert key not in site.received()
    tight.requester.close()
    site.run(at(TODAY + timedelta(days=2), 8, 5))  # the same store, the valve at its default
    assert site.received()[key] == 1


def test_an_alert_from_a_2am_run_waits_for_the_window(site: Site) -> None:
    site.state.revoke_course_access(INTEGRATION_TOKEN, MPC)
    nightly = site.run(at(TODAY + timedelta(days=1), 2))
    assert nightly.outcome == "partial"
    alerts = [k for k, row in site.rows().items() if row.kind == "alert"]
    assert alerts and not any(k in site.received() for k in alerts)
    site.run(at(TODAY + timedelta(days=1), 8, 10))
    assert all(site.received()[k] == 1 for k in alerts)


# --- 2. nothing is sent on a stale decision ---
def test_a_reminder_released_from_doubt_after_the_work_was_handed_in_is_cancelled(
    site: Site,
) -> None:
    _due, key = amelias_before_2d(site)
    site.refuse_sends(FaultKind.RESET)
    site.run(at(TODAY + timedelta(days=1), 10))
    site.heal()
    site.state.submit(MPC_REPORT, AMELIA)
    time.sleep(1.2)
    site.run(at(TODAY + timedelta(days=1), 11))
    row = site.rows()[key]
    assert key not in site.received()
    assert row.state == "cancelled" and str(row.error).startswith("work_submitted")


def test_a_reminder_left_from_an_earlier_run_is_cancelled_when_an_extension_moves_the_date(
    site: Site,
) -> None:
    due, key = amelias_before_2d(site)
    site.refuse_sends()
    site.fails(at(TODAY + timedelta(days=1), 19))
    site.heal()
    site.state.grant_extension(MPC_REPORT, AMELIA, int((due + timedelta(days=7)).timestamp()))
    site.run(at(TODAY + timedelta(days=2), 9))
    assert key not in site.received()
    assert str(site.rows()[key].error).startswith("deadline_moved")


def test_yesterdays_digest_in_doubt_is_cancelled_and_the_tutor_gets_one_digest_today(
    site: Site,
) -> None:
    site.refuse_sends(FaultKind.RESET)
    site.run(at(TODAY, 8, 30))
    yesterday = [
        k for k, r in site.rows().items() if r.kind == "tutor_digest" and r.recipient_id == HELEN
    ]
    assert yesterday and site.rows()[yesterday[0]].state == "sending"
    site.heal()
    time.sleep(1.2)
    site.run(at(TODAY + timedelta(days=1), 2))
    site.run(at(TODAY + timedelta(days=1), 8, 30))
    helen = [k for k in site.keys_to(HELEN) if k.startswith("d-")]
    assert helen == [f"d-{HELEN}-{TODAY + timedelta(days=1):%Y%m%d}"]
    assert str(site.rows()[yesterday[0]].error).startswith("digest_expired")


@pytest.mark.parametrize(
    ("fault", "left"), [(FaultKind.SITE_MAINTENANCE, "planned"), (FaultKind.RESET, "sending")]
)
def test_a_reminder_left_planned_or_in_doubt_is_cancelled_once_the_student_is_suspended(
    site: Site, fault: FaultKind, left: str
) -> None:
    """Amelia's reminder is left planned (the send refused) or in doubt (the connection
    dropped); before the next run she is suspended in MPC only: it is cancelled, not sent."""
    _due, key = amelias_before_2d(site)
    site.refuse_sends(fault)
    with contextlib.suppress(MoodleSyncError):  # a refusal fails the run; a reset does not
        site.run(at(TODAY + timedelta(days=1), 10))
    assert site.rows()[key].state == left
    site.heal()
    site.state.suspend_enrolment(AMELIA, MPC)
    time.sleep(1.2)  # past the settle time (the read timeout, 1 s here)
    site.run(at(TODAY + timedelta(days=1), 11))
    row = site.rows()[key]
    assert key not in site.received()
    assert row.state == "cancelled" and str(row.error).startswith("enrolment_inactive"), row.error


# --- 3. a student's own dates decide everything ---
def test_work_handed_in_before_a_students_own_date_is_on_time_for_marks_and_status(
    site: Site,
) -> None:
    """Grace has her own date for the MPC log (two days after everyone's). She hands it in
    a day after the class's date: on time for her, so 55 stays 55 and MPC passes."""
    log = site.state.assignments[MPC_LOG]
    site.state.submit(MPC_LOG, GRACE, at=log.duedate + 86400)
    site.state.grade(MPC_LOG, GRACE, 55.0)
    site.state.grade(MPC_REPORT, GRACE, 50.0)
    now = datetime.fromtimestamp(log.duedate, UTC) + timedelta(days=4)
    report = site.run(now)
    assert report.evaluation is not None
    grace = report.evaluation.results[GRACE]
    work = next(w for w in grace.assessments if w.assessment.id == MPC_LOG)
    assert (work.lateness.state, work.final_mark) == ("on_time", 55)
    assert "MPC referred" not in site.field(GRACE)


# --- 4. a resit only for a referred student ---
def test_only_a_referred_student_is_reminded_of_the_resit_and_nobody_else_is_at_risk_for_it(
    site: Site,
) -> None:
    due = at(TODAY + timedelta(days=2), 12)
    site.state.add_assignment(40, MPC, "MPC Resit: Change Planning Report", int(due.timestamp()))
    for assignment, grades in ((MPC_REPORT, {AMELIA: 40.0, OLIVER: 70.0}),
                               (MPC_LOG, {AMELIA: 42.0, OLIVER: 65.0})):  # fmt: skip
        for student, mark in grades.items():
            site.state.submit(assignment, student, at=site.state.clock() - 86400 * 20)
            site.state.grade(assignment, student, mark)
    site.run(at(TODAY, 10))
    resit = {m.useridto for m in site.state.messages if "-40-" in m.text}
    assert resit == {AMELIA}
    later = site.run(at(TODAY + timedelta(days=4), 10))  # the resit is two days overdue
    assert "Resit" not in site.field(OLIVER) and "Resit" not in site.field(PRIYA)
    assert later.evaluation is not None
    assert (
        "MPC referred: mark 41.0, resit pending"
        in later.evaluation.results[AMELIA].progression.reasons
    )


# --- 5. course rollover ---
def test_a_rolled_over_course_stops_being_mapped_and_its_data_is_not_merged(
    site: Site, tmp_path: Path
) -> None:
    site.run(at(TODAY, 10))
    site.state.set_course_idnumber(MPC, "CETAD-MPC-2026")
    site.state.add_course(30, "CETAD-MPC", "Models for Planning Change 2027", "MPC27")
    site.state.enrol(AMELIA, 30)
    site.state.enrol(HELEN, 30, "editingteacher")
    due = at(TODAY + timedelta(days=7), 12)
    site.state.add_assignment(31, 30, "MPC 2027 Essay", int(due.timestamp()))
    config = tmp_path / "settings.toml"  # `check` on the same store, before the run applies it
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/store.db"\n')
    checked = run_cli("--config", str(config), "check", env={
        "MOODLE_SYNC_MOODLE__URL": site.sandbox.url, "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
        "MOODLE_SYNC_PROGRAMME_FILE": str(REPO / "config" / "programme.toml")})  # fmt: skip
    assert "course rollover: CETAD-MPC moved from course 3 to course 30" in checked.stdout, (
        checked.stdout + checked.stderr
    )
    report = site.run(at(TODAY, 11))
    assert [(r.old_id, r.new_id) for r in report.sync.rolled_over] == [(MPC, 30)]
    assert report.evaluation is not None
    amelia = report.evaluation.results[AMELIA]
    assert {w.assessment.id for w in amelia.assessments} >= {31}
    assert not {MPC_REPORT, MPC_LOG} & {w.assessment.id for w in amelia.assessments}
    assert OLIVER not in report.evaluation.results or all(
        w.assessment.id not in (MPC_REPORT, MPC_LOG)
        for w in report.evaluation.results[OLIVER].assessments
    )
    with site.sessions() as session:
        run = session.get_one(SyncRun, report.sync.run_id)
    assert "CETAD-MPC moved from course 3 to course 30" in run.problems["rolled_over"][0]
    [shown] = read_store(site.sessions.kw["bind"])["rolled_over"]  # what `status` prints
    assert (shown["course_id"], shown["replaced_by"]) == (MPC, 30)


# --- 6. suspended in one course only ---
def test_a_student_suspended_in_one_course_is_not_reminded_or_at_risk_for_its_work(
    site: Site,
) -> None:
    """Mohammed is suspended in LOTC only (the scenario); its case study is overdue."""
    due = at(TODAY - timedelta(days=2), 12)
    site.only_work(LOTC_CASE, due, MOHAMMED, SOPHIE)
    site.run(at(TODAY, 10))
    assert not [k for k in site.keys_to(MOHAMMED) if f"-{LOTC_CASE}-" in k]
    assert "LOTC" not in site.field(MOHAMMED)
    assert [k for k in site.keys_to(SOPHIE) if f"-{LOTC_CASE}-overdue" in k]  # enrolled: reminded


# --- 7. group assignments ---
def test_a_teams_submission_counts_for_every_member(site: Site) -> None:
    """Moodle's own rules (mod/assign/locallib.php, verified against its source): a member
    submits for the team; the team's row (userid 0) says submitted; a team-mate who never
    opened the assignment has no row of their own, and is done too."""
    due = at(TODAY - timedelta(days=2), 12)
    site.only_work(LOTC_CASE, due, AMELIA, DANIEL, SOPHIE, TOMASZ)
    site.state.set_team_submission(LOTC_CASE)
    site.state.add_group(LOTC, 50, "Team North", [AMELIA, DANIEL])
    site.state.add_group(LOTC, 51, "Team South", [SOPHIE, TOMASZ])
    site.state.submit(LOTC_CASE, DANIEL, at=int((due - timedelta(days=1)).timestamp()))
    assert site.state.team_submission(LOTC_CASE, 50).status == "submitted"  # type: ignore[union-attr]
    assert site.state.submission(LOTC_CASE, AMELIA) is None
    site.run(at(TODAY, 10))
    overdue = {m.useridto for m in site.state.messages if f"-{LOTC_CASE}-overdue" in m.text}
    assert overdue == {SOPHIE, TOMASZ, PRIYA}  # Team South, and Priya in no team (group 0)
    assert "LOTC" not in site.field(AMELIA)


def test_with_every_member_required_the_team_is_done_only_when_all_have_submitted(
    site: Site,
) -> None:
    due = at(TODAY - timedelta(days=2), 12)
    site.only_work(LOTC_CASE, due, AMELIA, DANIEL)
    site.state.set_team_submission(LOTC_CASE, require_all=True)
    site.state.add_group(LOTC, 50, "Team North", [AMELIA, DANIEL])
    site.state.submit(LOTC_CASE, DANIEL, at=int((due - timedelta(days=1)).timestamp()))
    assert site.state.team_submission(LOTC_CASE, 50).status == "draft"  # type: ignore[union-attr]
    site.run(at(TODAY, 10))
    overdue = {m.useridto for m in site.state.messages if f"-{LOTC_CASE}-overdue" in m.text}
    assert {AMELIA, DANIEL} <= overdue  # the team's work is not handed in until all have


# --- 8. a dry run tells the truth ---
def test_a_dry_run_reports_exactly_what_the_real_run_then_does_and_changes_nothing(
    site: Site,
) -> None:
    now = at(TODAY, 10)
    dry = site.run(now, dry_run=True)
    assert site.rows() == {} and site.state.messages == []
    real = site.run(now)
    assert real.delivery.sent > 0
    assert sorted(m.key for m in dry.delivery.would_send) == sorted(site.received())
    assert dry.delivery.sent == real.delivery.sent
    assert [u["user_id"] for u in dry.profiles.updates] == [
        u["user_id"] for u in real.profiles.updates
    ]
    with site.sessions() as session:
        kinds = [r.kind for r in session.scalars(select(SyncRun).order_by(SyncRun.id))]
    assert kinds == ["dry-run", "incremental"]


def test_a_dry_run_trips_the_safety_valve_the_real_run_would_trip(
    site: Site, tmp_path: Path
) -> None:
    tight = Site(site.sandbox, tmp_path, max_messages_per_run=3)
    with pytest.raises(SafetyValveError):
        tight.run(at(TODAY, 10), dry_run=True)
    assert site.rows() == {}
    tight.requester.close()


# --- 9. a run always ends ---
def runs(site: Site) -> list[tuple[str, str]]:
    with site.sessions() as session:
        rows = session.scalars(select(SyncRun).order_by(SyncRun.id))
        return [(r.outcome, str((r.problems or {}).get("error") or "")) for r in rows]


@pytest.mark.parametrize(
    ("raised", "reason"),
    [(KeyboardInterrupt, "interrupted"), (RuntimeError, "unexpected error RuntimeError")],
)
def test_a_run_stopped_by_ctrl_c_or_a_bug_is_recorded_as_failed_with_its_reason(
    site: Site, raised: type[BaseException], reason: str
) -> None:
    def boom(stage: str, done: int, total: int) -> None:
        raise raised("stop")

    with pytest.raises(raised):
        site.run(at(TODAY, 10), progress=boom)
    [(outcome, error)] = runs(site)
    assert outcome == "failed" and error.startswith(reason)


def test_a_run_whose_process_was_killed_is_closed_by_the_next(site: Site) -> None:
    with site.sessions.begin() as session:
        session.add(SyncRun(kind="incremental", started_at=at(TODAY, 2), outcome="running",
                            counts={}, problems={}))  # fmt: skip
    site.run(at(TODAY, 10))
    assert [o for o, _ in runs(site)] == ["failed", "complete"]
    assert runs(site)[0][1].startswith("abandoned")


def test_an_unreachable_moodle_fails_the_run_with_the_reason(site: Site) -> None:
    nobody = MoodleSettings(url="http://127.0.0.1:9", token=SecretStr(INTEGRATION_TOKEN),
                            max_attempts=1, read_timeout=1)  # fmt: skip
    site.settings = site.settings.model_copy(update={"moodle": nobody})
    site.requester.close()
    site.requester = Requester(nobody, sleep=lambda _s: None)
    site.fails(at(TODAY, 10))
    [(outcome, error)] = runs(site)
    assert outcome == "failed" and "cannot connect to 'http://127.0.0.1:9'" in error, error


def test_a_revoked_token_fails_the_run_with_the_reason(site: Site) -> None:
    site.sandbox.set_faults(FaultPlan(rules=[FaultRule(kind=FaultKind.REVOKE_TOKEN)]))
    site.fails(at(TODAY, 10))
    [(outcome, error)] = runs(site)
    assert outcome == "failed" and "invalidtoken" in error, error


# --- 10. times agree ---
def test_planned_and_sent_times_follow_the_runs_clock(site: Site) -> None:
    now = at(TODAY + timedelta(days=40), 10)  # far from the wall clock
    site.run(now)
    sent = [r for r in site.rows().values() if r.state == "sent"]
    assert sent
    for row in sent:
        assert now <= row.planned_at <= row.sent_at <= now + timedelta(minutes=5)  # type: ignore[operator]
