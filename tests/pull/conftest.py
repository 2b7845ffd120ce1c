"""A sandbox Moodle, a database and a requester for pull tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings
from moodle_sync.store.db import open_database
from tests.conftest import REPO


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def programme() -> Programme:
    return load_programme(REPO / "config" / "programme.toml")


def requester_for(sandbox: Sandbox, token: str = INTEGRATION_TOKEN) -> Requester:
    settings = MoodleSettings(url=sandbox.url, token=SecretStr(token), max_attempts=1)
    return Requester(settings, sleep=lambda _seconds: None)


@pytest.fixture
def requester(sandbox: Sandbox) -> Iterator[Requester]:
    with requester_for(sandbox) as opened:
        yield opened


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return open_database(database_url)[1]


@pytest.fixture
def scenario_path() -> Path:
    return REPO / "moodle_sync" / "sandbox" / "scenarios" / "cetad.json"
