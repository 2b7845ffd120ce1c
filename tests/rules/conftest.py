"""Shared fixtures: the default programme, variants of it, and Europe/London times."""

from __future__ import annotations

import datetime as dt
import pathlib
import tomllib
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.rules.policy import Programme, load_programme

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROGRAMME_TOML = ROOT / "config" / "programme.toml"
LONDON = ZoneInfo("Europe/London")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A Europe/London wall-clock time as a UTC instant, the way the engine holds times."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


def programme_data() -> dict[str, Any]:
    return tomllib.loads(PROGRAMME_TOML.read_text(encoding="utf-8"))


def make_programme(**sections: dict[str, Any]) -> Programme:
    """The default programme with some sections' keys replaced (e.g. prior_learning={...})."""
    data = programme_data()
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Programme.model_validate(data)


@pytest.fixture(scope="session")
def programme() -> Programme:
    return load_programme(PROGRAMME_TOML)


@pytest.fixture
def programme_with() -> Callable[..., Programme]:
    return make_programme
