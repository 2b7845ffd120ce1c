"""Retention: the purge forgets exactly the people who left every course before the cut-off."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.cli import main
from moodle_sync.ops.retention import leavers, purge
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import (
    Assignment,
    AuditEntry,
    Course,
    Enrolment,
    Grade,
    OutboxMessage,
    ProfileValue,
    Submission,
    User,
    UserFlags,
)

NOW = dt.datetime.now(dt.UTC)
LONG_AGO, RECENTLY = NOW - dt.timedelta(days=800), NOW - dt.timedelta(days=30)
CUTOFF = NOW - dt.timedelta(days=730)
# user -> {course: ended_at (None: still enrolled)}
PEOPLE: dict[int, dict[int, dt.datetime | None]] = {
    11: {1: LONG_AGO},  # left long ago: purged
    12: {1: LONG_AGO, 2: LONG_AGO - dt.timedelta(days=30)},  # left both long ago: purged
    13: {1: LONG_AGO, 2: None},  # still in course 2: kept
    14: {1: RECENTLY},  # left recently: kept
    15: {2: None},  # current student: kept
}
PURGED = {11, 12}


@pytest.fixture
def store(database_url: str) -> sessionmaker[Session]:
    _engine, sessions = open_database(database_url)
    with sessions.begin() as session:
        for cid in (1, 2):
            session.add(
                Course(
                    id=cid,
                    idnumber=f"CETAD-C{cid}",
                    shortname=f"C{cid}",
                    fullname=f"Course {cid}",
                    category_id=None,
                    visible=True,
                    start_at=None,
                    end_at=None,
                    first_seen_at=LONG_AGO,
                    last_seen_at=NOW,
                )
            )
            session.flush()
            session.add(
                Assignment(
                    id=100 + cid,
                    course_id=cid,
                    cmid=200 + cid,
                    name=f"A{cid}",
                    due_at=None,
                    cutoff_at=None,
                    grading_due_at=None,
                    allow_from_at=None,
                    max_grade=Decimal(100),
                    marking_workflow=False,
                    team_submission=False,
                    time_modified=None,
                    first_seen_at=LONG_AGO,
                    last_seen_at=NOW,
                    deleted_at=None,
                )
            )
        for uid, courses in PEOPLE.items():
            add_person(session, uid, courses)
    return sessions


def add_person(session: Session, uid: int, courses: dict[int, dt.datetime | None]) -> None:
    session.add(
        User(
            id=uid,
            username=f"u{uid}",
            idnumber=f"S{uid}",
            firstname="First",
            lastname=f"Last{uid}",
            email=f"u{uid}@example.ac.uk",
            first_seen_at=LONG_AGO,
            last_seen_at=NOW,
        )
    )
    session.flush()
    for cid, ended in courses.items():
        aid = 100 + cid
        session.add(
            Enrolment(
                course_id=cid,
                user_id=uid,
                status="active",
                roles="student",
                first_seen_at=LONG_AGO,
                last_seen_at=NOW,
                ended_at=ended,
            )
        )
        session.add(
            Submission(
                id=uid * 10 + cid,
                assignment_id=aid,
                user_id=uid,
                attempt=0,
                status="submitted",
                time_created=None,
                time_modified=None,
                last_seen_at=NOW,
            )
        )
        session.add(
            Grade(
                id=uid * 10 + cid,
                assignment_id=aid,
                user_id=uid,
                attempt=0,
                grade=Decimal(60),
                grader_id=None,
                time_modified=None,
                last_seen_at=NOW,
            )
        )
        session.add(
            UserFlags(
                assignment_id=aid,
                user_id=uid,
                extension_due_at=None,
                locked=False,
                workflow_state=None,
                last_seen_at=NOW,
            )
        )
    session.add(
        ProfileValue(
            user_id=uid, field="cetad_progression", value="on_track", pushed_at=NOW, run_id=None
        )
    )
    for state in ("sent", "planned", "held"):
        session.add(
            OutboxMessage(
                key=f"k-{uid}-{state}",
                kind="overdue_1d",
                recipient_id=uid,
                payload={"text": f"Dear Last{uid}"},
                state=state,
                planned_at=NOW,
                updated_at=NOW,
            )
        )


def remaining(sessions: sessionmaker[Session]) -> dict[str, set[int]]:
    """Which users still have rows in each per-person table, and still have names."""
    with sessions() as session:
        out = {
            t.__tablename__: set(session.scalars(select(t.user_id)))
            for t in (Enrolment, Submission, Grade, UserFlags, ProfileValue)
        }
        out["named"] = set(session.scalars(select(User.id).where(User.lastname.is_not(None))))
        out["texts"] = {m.recipient_id for m in session.scalars(select(OutboxMessage)) if m.payload}
    return out


def test_leavers_are_exactly_those_whose_every_enrolment_ended_before_the_cutoff(
    store: sessionmaker[Session],
) -> None:
    with store() as session:
        assert set(leavers(session, CUTOFF)) == PURGED


def test_the_purge_removes_the_leavers_data_and_keeps_everyone_elses(
    store: sessionmaker[Session],
) -> None:
    report = purge(store, CUTOFF, "alice")
    assert report.people == len(PURGED)
    everyone = set(PEOPLE)
    for table, users in remaining(store).items():
        assert users == everyone - PURGED, table
    with store() as session:
        for key in ("k-11-planned", "k-11-held"):  # not yet sent: never sent now
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()
            assert row.state == "cancelled", key
            assert row.error == "purged: the recipient left the programme"
        assert session.scalar(select(func.count()).select_from(User)) == len(PEOPLE)
        [entry] = session.scalars(select(AuditEntry))
    assert (entry.actor, entry.action) == ("alice", "db.purge")
    assert entry.detail["by_course"] == {
        "CETAD-C1": {"people": 2, "submissions": 2, "grades": 2},
        "CETAD-C2": {"people": 1, "submissions": 1, "grades": 1},
    }
    assert set(entry.detail) == {"cutoff", "dry_run", "people", "by_course", "rows"}
    assert "Last11" not in json.dumps(entry.detail)


def test_a_dry_run_counts_the_same_and_changes_nothing(store: sessionmaker[Session]) -> None:
    before = remaining(store)
    report = purge(store, CUTOFF, "alice", dry_run=True)
    assert report.people == len(PURGED) and report.rows["submissions"] == 3
    assert remaining(store) == before
    with store() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_second_purge_finds_nobody_new(store: sessionmaker[Session]) -> None:
    purge(store, CUTOFF, "alice")
    assert purge(store, CUTOFF, "alice").people == 0


def test_the_command_uses_the_retention_setting_and_honours_dry_run(
    store: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(f"[database]\nurl = '{database_url}'\n[retention]\npersonal_data_days = 10\n")
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(config))
    dry = CliRunner().invoke(main, ["db", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove the personal data of 3 people" in dry.output  # 14 left 30 days ago
    assert "(10 days)" in dry.output and remaining(store)["named"] == set(PEOPLE)
    done = CliRunner().invoke(main, ["db", "purge", "--older-than", "730", "--json"])
    assert json.loads(done.stdout)["people"] == len(PURGED)
    assert remaining(store)["named"] == set(PEOPLE) - PURGED
