"""Fixtures for push tests: an outbox database, a sandbox Moodle and requesters for it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.push import dispatch, outbox
from moodle_sync.push.core_writer import CoreWrites
from moodle_sync.push.dispatch import Delivery, DeliveryReport
from moodle_sync.push.writer import DryRunWrites, MoodleWrites
from moodle_sync.rules.policy import Programme, Reminders, load_programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, PushSettings
from moodle_sync.store.db import open_database, rolled_back
from moodle_sync.store.tables import (
    Assignment,
    Course,
    Enrolment,
    Grade,
    OutboxMessage,
    OwnDates,
    Submission,
    User,
    UserFlags,
)
from tests.conftest import REPO, assert_counts_add_up

T0 = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
AddOutbox = Callable[..., int]
MakeRequester = Callable[..., Requester]
_REF = re.compile(r"Ref: ([A-Za-z0-9_-]+)")


def payload_for(key: str, body: str = "Reminder: MPC Assignment 1 is due soon.") -> dict[str, Any]:
    """A payload shaped as the planner writes it: text and HTML both end with the key marker."""
    return {
        "subject": f"Reminder {key}",
        "text": f"{body}\n\nRef: {key}",
        "html": f"<p>{body}</p><p>Ref: {key}</p>",
    }


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return open_database(database_url)[1]


@pytest.fixture
def add_outbox(sessions: sessionmaker[Session]) -> AddOutbox:
    """Insert one outbox row (planned and due at T0 unless told otherwise); return its id."""

    def add(key: str, recipient_id: int = 5, **columns: Any) -> int:
        values: dict[str, Any] = {
            "kind": "reminder",
            "payload": payload_for(key),
            "state": "planned",
            "planned_at": T0,
            "send_after": T0,
            "updated_at": T0,
        }
        row = OutboxMessage(key=key, recipient_id=recipient_id, **(values | columns))
        with sessions.begin() as session:
            session.add(row)
        return row.id

    return add


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def make_requester(sandbox: Sandbox) -> Iterator[MakeRequester]:
    """Requesters for the sandbox that never sleep and never retry, closed afterwards."""
    made: list[Requester] = []

    def make(token: str = INTEGRATION_TOKEN, **overrides: Any) -> Requester:
        options: dict[str, Any] = {"max_attempts": 1, "max_requests_per_second": 0} | overrides
        settings = MoodleSettings(url=sandbox.url, token=SecretStr(token), **options)
        made.append(Requester(settings, sleep=lambda _seconds: None))
        return made[-1]

    yield make
    for requester in made:
        requester.close()


@pytest.fixture
def requester(make_requester: MakeRequester) -> Requester:
    return make_requester()


@pytest.fixture
def received(sandbox: Sandbox) -> Callable[[], Counter[str]]:
    """How many messages the sandbox holds for each outbox key (by its ``Ref:`` marker)."""

    def count() -> Counter[str]:
        texts = [m["text"] for m in sandbox.state.snapshot()["messages"]]
        return Counter(key for text in texts for key in _REF.findall(text))

    return count


# --- planning fixtures: a programme, push settings and a store builder ----------------------
@dataclass
class StoreBuilder:
    """Writes store rows the way the pull would, one call per row, for planning tests."""

    sessions: sessionmaker[Session]
    seen: datetime = T0

    def _put(self, row: Any) -> None:
        with self.sessions.begin() as session:
            session.merge(row)

    def course(self, id: int, idnumber: str, fullname: str) -> None:
        self._put(
            Course(
                id=id,
                idnumber=idnumber,
                shortname=idnumber,
                fullname=fullname,
                category_id=2,
                visible=True,
                start_at=None,
                end_at=None,
                first_seen_at=self.seen,
                last_seen_at=self.seen,
            )
        )

    def user(self, id: int, first: str, last: str) -> None:
        self._put(
            User(
                id=id,
                username=f"u{id}",
                idnumber=None,
                firstname=first,
                lastname=last,
                email=None,
                first_seen_at=self.seen,
                last_seen_at=self.seen,
            )
        )

    def enrol(
        self,
        user: int,
        course: int,
        roles: str = "student",
        status: str = "active",
        ended_at: datetime | None = None,
        groups: str = "",
    ) -> None:
        self._put(
            Enrolment(
                course_id=course,
                user_id=user,
                status=status,
                roles=roles,
                groups=groups,
                first_seen_at=self.seen,
                last_seen_at=self.seen,
                ended_at=ended_at,
            )
        )

    def assignment(
        self,
        id: int,
        course: int,
        name: str,
        due: datetime | None,
        *,
        cutoff: datetime | None = None,
        max_grade: int = 100,
        workflow: bool = False,
        modified: datetime | None = None,
        deleted_at: datetime | None = None,
        team: bool = False,
        grouping: int | None = None,
    ) -> None:
        self._put(
            Assignment(
                id=id,
                course_id=course,
                cmid=100 + id,
                name=name,
                due_at=due,
                cutoff_at=cutoff,
                grading_due_at=None,
                allow_from_at=None,
                max_grade=Decimal(max_grade),
                marking_workflow=workflow,
                team_submission=team,
                team_grouping_id=grouping,
                time_modified=modified,
                first_seen_at=self.seen,
                last_seen_at=self.seen,
                deleted_at=deleted_at,
            )
        )

    def submit(
        self,
        assignment: int,
        user: int,
        status: str = "submitted",
        at: datetime = T0,
        attempt: int = 0,
    ) -> None:
        self._put(
            Submission(
                id=assignment * 10_000 + user * 10 + attempt,
                assignment_id=assignment,
                user_id=user,
                attempt=attempt,
                status=status,
                time_created=at,
                time_modified=at,
                last_seen_at=self.seen,
            )
        )

    def team_submit(
        self, assignment: int, group: int, status: str = "submitted", at: datetime = T0
    ) -> None:
        """A team's submission: Moodle's `userid` 0 row of a group assignment."""
        self._put(
            Submission(
                id=900_000 + assignment * 1_000 + group,
                assignment_id=assignment,
                user_id=None,
                group_id=group,
                attempt=0,
                status=status,
                time_created=at,
                time_modified=at,
                last_seen_at=self.seen,
            )
        )

    def flags(
        self,
        assignment: int,
        user: int,
        extension: datetime | None = None,
        workflow_state: str | None = None,
    ) -> None:
        self._put(
            UserFlags(
                assignment_id=assignment,
                user_id=user,
                extension_due_at=extension,
                locked=False,
                workflow_state=workflow_state,
                last_seen_at=self.seen,
            )
        )

    def grade(self, assignment: int, user: int, grade: Decimal | None, attempt: int = 0) -> None:
        self._put(
            Grade(
                id=assignment * 10_000 + user * 10 + attempt,
                assignment_id=assignment,
                user_id=user,
                attempt=attempt,
                grade=grade,
                grader_id=17,
                time_modified=self.seen,
                last_seen_at=self.seen,
            )
        )

    def own_due(
        self,
        assignment: int,
        user: int,
        due: datetime | None,
        cutoff: datetime | None = None,
        checked_at: datetime = T0,
        *,
        overridden: bool = True,
        participant: bool = True,
    ) -> None:
        """Moodle's answer for one student: an override of the due date (and of the cut-off
        when one is given) unless `overridden` is false."""
        self._put(
            OwnDates(
                assignment_id=assignment,
                user_id=user,
                due_at=due,
                cutoff_at=cutoff,
                due_overridden=overridden,
                cutoff_overridden=overridden and cutoff is not None,
                participant=participant,
                checked_at=checked_at,
            )
        )


@pytest.fixture
def programme() -> Programme:
    return load_programme(REPO / "config" / "programme.toml")


@pytest.fixture
def push_settings() -> PushSettings:
    return PushSettings(templates_dir=REPO / "config" / "templates")


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> StoreBuilder:
    return StoreBuilder(sessions)


WINDOW = outbox.SendWindow(Reminders(), ZoneInfo("Europe/London"))


def deliver(
    requester: Requester,
    sessions: sessionmaker[Session],
    settings: PushSettings,
    now: datetime,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    verdict: outbox.Verdict = outbox.still_true,
) -> DeliveryReport:
    """One delivery at `now` (in a dry run: rolled back, and nothing reaches Moodle)."""

    def run(store: sessionmaker[Session], writes: MoodleWrites) -> DeliveryReport:
        d = Delivery(requester, store, writes, settings, lambda: now, WINDOW, verdict, dry_run)
        return dispatch.deliver(d, limit=limit)

    if not dry_run:
        report = run(sessions, CoreWrites(requester))
    else:
        with rolled_back(sessions.kw["bind"]) as scoped:
            report = run(scoped, DryRunWrites(CoreWrites(requester)))
    assert_counts_add_up(report)
    return report
