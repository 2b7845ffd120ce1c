"""Fixtures shared by the whole suite: databases on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.push.dispatch import DeliveryReport
from moodle_sync.rules.policy import Programme
from moodle_sync.run import PipelineReport, RunContext, run_pipeline
from moodle_sync.settings import Settings
from moodle_sync.store.db import normalise_url
from tests.postgres import postgres_server

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield normalise_url(url)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server, dropped afterwards."""
    name = f"moodle_sync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'moodle-sync.db'}"
    return str(request.getfixturevalue("postgres_url"))


def pipeline(
    settings: Settings,
    programme: Programme,
    requester: Requester,
    sessions: sessionmaker[Session],
    now: datetime | None = None,
    **options: Any,
) -> PipelineReport:
    """One run through the public entry point, as the CLI and the worker build it."""
    context = RunContext(settings, programme, requester, sessions, now or datetime.now(UTC),
                         **options)  # fmt: skip
    report = run_pipeline(context)
    assert_counts_add_up(report.delivery)
    return report


def assert_counts_add_up(report: DeliveryReport) -> None:
    """Every due row is accounted for once in what a run prints (issue: counts must add up)."""
    new_in_doubt = report.in_doubt - report.earlier_in_doubt
    outcomes = (report.sent, report.failed, report.skipped, report.waiting, report.not_tried,
                new_in_doubt)  # fmt: skip
    assert report.due == sum(outcomes), f"due {report.due} != {outcomes}"
