"""The cycle collector is paused for a batch stage (the pull, the evaluation, `rules evaluate`)
and comes back after it, however it ends."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.cli import main as cli
from moodle_sync.client import Requester
from moodle_sync.cohort import facts as cohort
from moodle_sync.cycles import batch_stage, collector_paused
from moodle_sync.pull import runner
from moodle_sync.rules.policy import Programme
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_back_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a stage failed")
    assert gc.isenabled()


def test_a_stage_inside_a_paused_one_leaves_it_paused() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_stage_keeps_its_result_and_name() -> None:
    @batch_stage
    def stage(value: int) -> tuple[int, bool]:
        return value * 2, gc.isenabled()

    assert stage(21) == (42, False)
    assert stage.__name__ == "stage"
    assert gc.isenabled()


def collector_seen_inside(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str
) -> list[bool]:
    """Wrap `module.name` so each call records whether the collector was on; the list fills
    as the stage runs."""
    seen: list[bool] = []
    real = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_the_pull_runs_paused(
    requester: Requester,
    sessions: sessionmaker[Session],
    programme: Programme,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = collector_seen_inside(monkeypatch, runner, "read")
    report = runner.run_sync(requester, sessions, programme)
    assert report.outcome == "complete"
    assert seen == [False]
    assert gc.isenabled()


def test_the_evaluation_runs_paused(
    sessions: sessionmaker[Session], programme: Programme, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = collector_seen_inside(monkeypatch, cohort, "load_cohort")
    with sessions() as session:
        cohort.evaluate_store(session, programme, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert seen == [False]
    assert gc.isenabled()


def test_rules_evaluate_runs_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    from moodle_sync.commands import rules

    seen = collector_seen_inside(monkeypatch, rules, "evaluate_document")
    result = CliRunner().invoke(
        cli,
        ["rules", "evaluate", "--input", str(REPO / "config/examples/rules-input.json"),
         "--programme", str(REPO / "config/programme.toml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()
