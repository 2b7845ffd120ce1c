"""The cycle collector is paused for a batch stage (the pull, the evaluation, `rules evaluate`)
and comes back after it, however it ends."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync import cohort
from moodle_sync.cli import main as cli
from moodle_sync.client import Requester
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


def test_the_pull_runs_paused(
    requester: Requester,
    sessions: sessionmaker[Session],
    programme: Programme,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    real_read = runner.read

    def read(*args: object, **kwargs: object) -> None:
        seen.append(gc.isenabled())
        real_read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "read", read)
    report = runner.run_sync(requester, sessions, programme)
    assert report.outcome == "complete"
    assert seen == [False]
    assert gc.isenabled()


def test_the_evaluation_runs_paused(
    sessions: sessionmaker[Session], programme: Programme, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real_load = cohort.load_cohort

    def load_cohort(*args: object, **kwargs: object) -> cohort.Cohort:
        seen.append(gc.isenabled())
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cohort, "load_cohort", load_cohort)
    with sessions() as session:
        cohort.evaluate_store(session, programme, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert seen == [False]
    assert gc.isenabled()


def test_rules_evaluate_runs_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    from moodle_sync.commands import rules

    seen: list[bool] = []
    real_evaluate = rules.evaluate_document

    def evaluate_document(*args: object, **kwargs: object) -> dict[str, object]:
        seen.append(gc.isenabled())
        return real_evaluate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rules, "evaluate_document", evaluate_document)
    result = CliRunner().invoke(
        cli,
        ["rules", "evaluate", "--input", str(REPO / "config/examples/rules-input.json"),
         "--programme", str(REPO / "config/programme.toml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()
