"""The whole loop against the sandbox Moodle over a simulated fortnight."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.run import PipelineReport
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, Settings
from moodle_sync.store.db import open_database
from tests.conftest import REPO, pipeline

LONDON = ZoneInfo("Europe/London")
REF = re.compile(r"Ref: ([A-Za-z0-9_-]+)")
MPC = 3


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def loop(sandbox: Sandbox, tmp_path: Path) -> Iterator[Loop]:
    settings = Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
        push={"templates_dir": REPO / "config" / "templates"},
    )
    programme = load_programme(REPO / "config" / "programme.toml")
    _, sessions = open_database(f"sqlite:///{tmp_path}/store.db")
    with Requester(settings.require_moodle()) as requester:
        yield Loop(settings, programme, requester, sessions, sandbox)


class Loop:
    """Runs the pipeline at chosen local times and reads back what Moodle received."""

    def __init__(self, settings: Settings, programme: Programme, requester: Requester,
                 sessions: sessionmaker[Session], sandbox: Sandbox) -> None:  # fmt: skip
        self.settings, self.programme, self.requester = settings, programme, requester
        self.sessions, self.sandbox = sessions, sandbox

    def run(self, day: date, at: time = time(10)) -> PipelineReport:
        now = datetime.combine(day, at, LONDON)
        return pipeline(self.settings, self.programme, self.requester, self.sessions, now=now)

    def received(self) -> Counter[str]:
        texts = [m["text"] for m in self.sandbox.state.snapshot()["messages"]]
        return Counter(key for text in texts for key in REF.findall(text))


def only_student_work(sandbox: Sandbox, student: int, assignment: int, due: datetime) -> None:
    """One open assignment for the student, due at `due`, no cut-off; everything else done."""
    state = sandbox.state
    for other in state.assignments.values():
        if other.id != assignment:
            state.move_due_date(other.id, int((due - timedelta(days=60)).timestamp()), 0)
    state.move_due_date(assignment, int(due.timestamp()), 0)
    state.submissions = [s for s in state.submissions
                         if not (s.assignment == assignment and s.userid == student)]  # fmt: skip


def test_a_fortnight_of_reminders_each_on_its_day_exactly_once(loop: Loop) -> None:
    start = datetime.now(LONDON).date()
    due = datetime.combine(start + timedelta(days=10), time(12), LONDON)
    student, assignment = 5, min(a.id for a in loop.sandbox.state.course_assignments(MPC))
    only_student_work(loop.sandbox, student, assignment, due)
    sent_on: dict[str, int] = {}
    for offset in range(15):
        for _ in range(2):  # a rerun the same morning sends nothing new
            loop.run(start + timedelta(days=offset))
        counts = loop.received()
        assert max(counts.values(), default=0) == 1, "a message went out twice"
        for key in counts:
            sent_on.setdefault(key, offset)
    mine = {key.split("-")[3]: day for key, day in sent_on.items()
            if key.startswith(f"r-{student}-{assignment}-")}  # fmt: skip
    assert mine == {"before_7d": 3, "before_2d": 8, "due_today": 10, "overdue_1d": 11,
                    "overdue_3d": 13}  # fmt: skip


def test_tutors_get_at_most_one_digest_a_day(loop: Loop) -> None:
    start = datetime.now(LONDON).date()
    for offset in range(3):
        loop.run(start + timedelta(days=offset))
        loop.run(start + timedelta(days=offset), time(15))
    digests = [key for key in loop.received() if key.startswith("d-")]
    assert digests, "the CETAD cohort has work at risk, so tutors hear about it"
    per_tutor_day = Counter(tuple(key.split("-")[1:3]) for key in digests)
    assert set(per_tutor_day.values()) == {1}


def test_an_extension_cancels_the_old_reminders_and_plans_for_the_new_date(loop: Loop) -> None:
    start = datetime.now(LONDON).date()
    due = datetime.combine(start + timedelta(days=2), time(12), LONDON)
    student, assignment = 5, min(a.id for a in loop.sandbox.state.course_assignments(MPC))
    only_student_work(loop.sandbox, student, assignment, due)
    loop.run(start)  # before_2d for the original deadline
    extended = due + timedelta(days=7)
    loop.sandbox.state.grant_extension(assignment, student, int(extended.timestamp()))
    report = loop.run(start + timedelta(days=3))  # would have been overdue_1d
    keys = [k for k in loop.received() if k.startswith(f"r-{student}-{assignment}-")]
    old = f"{due.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M}"
    assert [k for k in keys if old in k] == [keys[0]] and "before_2d" in keys[0]
    assert any("before_7d" in k and old not in k for k in keys), keys
    assert report.delivery.failed == 0
