"""Fixtures for push tests: an outbox database, a sandbox Moodle and requesters for it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, PushSettings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import (
    Assignment,
    Course,
    DueDateOverride,
    Enrolment,
    Grade,
    OutboxMessage,
    Submission,
    User,
    UserFlags,
)
from tests.conftest import REPO

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
    ) -> None:
        self._put(
            Enrolment(
                course_id=course,
                user_id=user,
                status=status,
                roles=roles,
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
                team_submission=False,
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
    ) -> None:
        self._put(
            DueDateOverride(
                assignment_id=assignment,
                user_id=user,
                due_at=due,
                cutoff_at=cutoff,
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
