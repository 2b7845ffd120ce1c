"""Bad input: malformed settings and programme files, and odd but legal Moodle data.

Each either works or fails with an error that names where the problem is; none crashes the
service or leaves a corrupt or wrong store.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text

from moodle_sync.client import Requester
from moodle_sync.errors import ConfigurationError, ProgrammeError
from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.sandbox.model import Enrolment
from moodle_sync.settings import MoodleSettings, Settings, load_settings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import SyncRun
from tests.conftest import REPO, pipeline
from tests.pull.mirror import differences, moodle_view, store_view
from tests.test_cli import run_cli
from tests.test_end_to_end import cli_env

PROGRAMME = tomllib.loads((REPO / "config" / "programme.toml").read_text(encoding="utf-8"))
SECTIONS = ["moodle", "database", "sync", "push", "worker", "alerts", "retention", "colour"]
KEYS = ["url", "token", "read_timeout", "batch_size", "nightly_at", "admin_users", "x", "",
        "max_attempts", "opt_out_users", "log_level", "programme_file", "credits"]  # fmt: skip
scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.booleans(),
    st.text(max_size=20), st.lists(st.integers(-5, 5), max_size=3),
)  # fmt: skip


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "nan"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value) if isinstance(value, str) else str(value)


def toml_text(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items())


settings_files = st.dictionaries(
    st.sampled_from(SECTIONS + KEYS),
    st.one_of(scalars, st.dictionaries(st.sampled_from(KEYS), scalars, max_size=4)),
    max_size=5,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=settings_files)
def test_a_malformed_settings_file_loads_or_names_every_bad_setting(
    data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("MOODLE_SYNC_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "settings.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    try:
        load_settings(path)
    except ConfigurationError as exc:
        assert exc.problems
        for problem in exc.problems:
            where = problem.split(":", 1)[0]
            top = where.split(".")[0]
            assert top in data or where in (str(path), "(settings)"), problem


def mutated(data: Any, path: list[str | int], value: Any) -> Any:
    """`data` with the node at `path` replaced by `value` (a missing key is added)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, str(head): mutated(data.get(str(head), {}), rest, value)}
    return value


@st.composite
def programme_edits(draw: st.DrawFn) -> tuple[list[str | int], Any]:
    node: Any = PROGRAMME
    path: list[str | int] = []
    while isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        path.append(key)
        node = node[key]
    path.append(
        draw(
            st.sampled_from(
                ["credits", "kind", "pass_mark", "zz", str(path[-1] if path else "name")]
            )
        )
    )
    return path, draw(
        st.one_of(scalars, st.dictionaries(st.sampled_from(KEYS), scalars, max_size=2))
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edit=programme_edits())
def test_a_malformed_programme_loads_or_names_the_bad_keys(
    edit: tuple[list[str | int], Any], tmp_path: Path
) -> None:
    path = tmp_path / "programme.toml"
    path.write_text(toml_text(mutated(PROGRAMME, *edit)), encoding="utf-8")
    try:
        load_programme(path)
    except ProgrammeError as exc:
        assert exc.problems
        assert all(problem.startswith(f"{path}: ") for problem in exc.problems), exc.problems


# --- odd but legal Moodle data, through the pull, the rules and the push --------------------
NOW = datetime(2025, 10, 6, 9, tzinfo=UTC)
MPC = 3  # Models for Planning Change: reminders fall due in the first days
REF = re.compile(r"Ref: ([A-Za-z0-9_-]+)")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(now=NOW) as running:
        yield running


def odd_site(sb: Sandbox) -> None:
    """Every oddity at once: each is legal in Moodle and has broken a naive client."""
    state = sb.state
    state.users[5].firstname = "<b>Zoë</b> 🎓"
    state.users[6].lastname = "O'Brien <script>alert(1)</script>"
    first, second = sorted(state.assignments)[:2]
    state.move_due_date(first, 0, 0)  # no due date, no cut-off
    due = state.assignments[second].duedate
    state.grant_extension(second, 5, due - 86400)  # an extension before the due date
    state.grade(second, 6, -5.0)  # negative
    state.grade(second, 7, 150.0)  # over the maximum
    course = state.assignments[second].courseid
    state.enrolments.append(Enrolment(5, course, "student", "suspended"))  # a 2nd method


def delete_user(sb: Sandbox, userid: int) -> None:
    """Moodle's delete_user: the account goes, and every enrolment with it."""
    with sb.state.lock:
        del sb.state.users[userid]
        sb.state.enrolments = [e for e in sb.state.enrolments if e.userid != userid]


def test_odd_moodle_data_is_stored_as_moodle_has_it_and_the_run_completes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    odd_site(sandbox)
    config = Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
        push={"templates_dir": REPO / "config" / "templates"},
    )
    programme = load_programme(REPO / "config" / "programme.toml")
    engine, sessions = open_database(f"sqlite:///{tmp_path}/store.db")
    with Requester(config.require_moodle()) as requester:
        for day in range(2):
            if day == 1:
                delete_user(sandbox, 8)  # deleted between two runs
            report = pipeline(config, programme, requester, sessions,
                                  now=NOW + timedelta(days=day, hours=1))  # fmt: skip
    assert report.sync.outcome == "complete", report.sync.failed_courses
    courses = {c.id for c in sandbox.state.courses.values() if c.format != "site"}
    expected, stored = moodle_view(sandbox.state, courses), store_view(sessions)
    course = sandbox.state.assignments[sorted(sandbox.state.assignments)[1]].courseid
    expected["enrolments"].discard((course, 5, "suspended"))  # one person, active by method 1
    assert (course, 5, "active") in stored["enrolments"]
    assert differences(expected, stored) == {}
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    fields = sandbox.state.snapshot()["profile_fields"]
    assert all(v["cetad_progression"] for v in fields.values())


def course_reminders(sb: Sandbox, course: int) -> set[str]:
    """Ref keys of the student reminders Moodle holds for `course`'s assignments."""
    ids = {a.id for a in sb.state.course_assignments(course)}
    keys = {k for m in sb.state.snapshot()["messages"] for k in REF.findall(m["text"])}
    return {k for k in keys if k.startswith("r-") and int(k.split("-")[2]) in ids}


def test_a_reminder_moodle_cannot_confirm_waits_instead_of_going_out_unchecked(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN)),
        push={"templates_dir": REPO / "config" / "templates"},
    )
    programme = load_programme(REPO / "config" / "programme.toml")
    _, sessions = open_database(f"sqlite:///{tmp_path}/store.db")
    later = NOW + timedelta(days=3, hours=1)
    with Requester(config.require_moodle()) as requester:
        pipeline(config, programme, requester, sessions, now=NOW + timedelta(hours=1))
        before = course_reminders(sandbox, MPC)
        sandbox.state.revoke_course_access(INTEGRATION_TOKEN, MPC)
        held = pipeline(config, programme, requester, sessions, now=later)
        assert held.outcome == "partial" and held.plan.held
        assert course_reminders(sandbox, MPC) == before, "sent without Moodle's confirmation"
        sandbox.state.tokens[INTEGRATION_TOKEN].denied_courses.clear()
        pipeline(config, programme, requester, sessions, now=later + timedelta(minutes=10))
    assert course_reminders(sandbox, MPC) > before


def test_an_answer_moodle_sends_in_an_unexpected_shape_fails_the_run_naming_function_and_field(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A course with no full name (null where Moodle promises a string): the run stops with
    an error naming the web-service function and the field, recorded on the run; no
    traceback, and no half-read answer stored."""
    sandbox.state.courses[MPC].fullname = None  # type: ignore[assignment]
    result = run_cli("run", "--now", "2025-10-06T10:00+00:00", env=cli_env(sandbox, tmp_path))
    expected = "core_course_get_courses_by_field: Moodle's answer is not in the shape"
    assert result.returncode == 1, result.stderr
    assert expected in result.stderr and "Course.fullname" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    _, sessions = open_database(f"sqlite:///{tmp_path}/db.sqlite")
    with sessions() as session:
        [run] = session.query(SyncRun).all()
    assert run.outcome == "failed"
    assert expected in run.problems["error"] and "Course.fullname" in run.problems["error"]
