"""Reconciliation against the sandbox: changes made behind the service's back are named, and
--apply repairs each one; without --apply nothing changes anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.paths import detect
from moodle_sync.rules.policy import load_programme
from moodle_sync.run import RunContext
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, PLUGIN_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings, Settings
from moodle_sync.store import tables
from moodle_sync.store.db import open_database
from moodle_sync.support.reconcile import (
    Difference,
    Reconciliation,
    ScopeError,
    choose_courses,
    diff,
    resolve_user,
)
from moodle_sync.support.repair import repair
from tests.conftest import REPO, pipeline
from tests.test_cli import run_cli

LONDON = ZoneInfo("Europe/London")
FIELD = "cetad_progression"
# The cetad scenario: user 6 has an extension on assignment 4 (CETAD-OCVB) with a reminder
# planned for it; user 5 has a 46 on assignment 1 (RAPL); user 11 is in CETAD-MPC (course 3).
EXTENDED, ASSIGNMENT, GRADED, LEAVER, MPC, EDITED = 6, 4, 5, 11, 3, 7


class Site:
    """A synchronised store beside the sandbox, at 21:00 so reminders wait as `planned`."""

    def __init__(self, sandbox: Sandbox, url: str, requester: Requester, settings: Settings):
        self.sandbox, self.requester, self.settings = sandbox, requester, settings
        self.programme = load_programme(REPO / "config" / "programme.toml")
        self.sessions: sessionmaker[Session] = open_database(url)[1]
        self.now = datetime.combine(datetime.now(LONDON).date(), time(21), LONDON)
        self.scope = Reconciliation(sorted(self.programme.mapped_courses()), None)

    def pipeline(self) -> None:
        pipeline(self.settings, self.programme, self.requester, self.sessions, now=self.now)

    def diff(self, scope: Reconciliation | None = None) -> list[Difference]:
        source = detect(self.requester).source  # as the command asks the site
        found = diff(self.sessions, self.requester, source, self.programme, self.settings.push,
                     scope or self.scope, self.now)  # fmt: skip
        assert not found.failed_courses and not found.missing_courses
        return found.differences

    def rows(self, model: type[Any]) -> list[Any]:
        with self.sessions() as session:
            return list(session.scalars(select(model)))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def settings_for(sandbox: Sandbox, token: str = INTEGRATION_TOKEN) -> Settings:
    return Settings(
        moodle=MoodleSettings(url=sandbox.url, token=SecretStr(token)),
        push={"templates_dir": REPO / "config" / "templates"},
    )


@pytest.fixture
def site(sandbox: Sandbox, tmp_path: Path) -> Iterator[Site]:
    settings = settings_for(sandbox)
    with Requester(settings.require_moodle()) as requester:
        built = Site(sandbox, f"sqlite:///{tmp_path}/store.db", requester, settings)
        built.pipeline()
        yield built


def behind_the_back(site: Site) -> datetime:
    """Move an extension, change a grade, unenrol a student, edit a profile field by hand."""
    state = site.sandbox.state
    flag = state.flag(ASSIGNMENT, EXTENDED)
    assert flag is not None and flag.extensionduedate, "the scenario gives user 6 an extension"
    moved = datetime.fromtimestamp(flag.extensionduedate, LONDON) + timedelta(days=7)
    state.grant_extension(ASSIGNMENT, EXTENDED, int(moved.timestamp()))
    state.grade(1, GRADED, 72.0)
    state.unenrol(LEAVER, MPC)
    with state.lock:
        state.users[EDITED].customfields[FIELD] = "On track (edited by hand)"
    return moved


def by_area(found: list[Difference]) -> dict[str, list[Difference]]:
    out: dict[str, list[Difference]] = {}
    for difference in found:
        out.setdefault(difference.area, []).append(difference)
    return out


def test_right_after_a_run_moodle_and_the_service_agree(site: Site) -> None:
    assert site.diff() == []


CORE_ONLY_READS = {"core_course_get_courses_by_field", "core_enrol_get_enrolled_users",
                   "mod_assign_get_submissions", "mod_assign_get_user_flags",
                   "mod_assign_get_grades"}  # fmt: skip


def test_on_the_plugin_path_the_diff_reads_as_the_run_does(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A service set up by local_cetadsync's cli/setup.php lacks core's reads of courses,
    enrolments and records: reconcile reads through the run's source, and finds the same."""
    settings = settings_for(sandbox, PLUGIN_TOKEN)
    with Requester(settings.require_moodle()) as requester:
        site = Site(sandbox, f"sqlite:///{tmp_path}/store.db", requester, settings)
        site.pipeline()
        called: list[str] = []
        call = requester.call

        def counted(function: str, *args: Any, **kwargs: Any) -> Any:
            called.append(function)
            return call(function, *args, **kwargs)

        requester.call = counted  # type: ignore[method-assign]
        assert site.diff() == []
        behind_the_back(site)
        found = by_area(site.diff())
    assert set(found) == {"extension", "grade", "enrolment", "profile"}, found
    assert "local_cetadsync_get_enrolments" in called
    assert not CORE_ONLY_READS & set(called), called


def test_each_change_behind_the_back_is_named_with_its_side_and_why(site: Site) -> None:
    planned_before = {m.key for m in site.rows(tables.OutboxMessage) if m.state == "planned"}
    assert any(k.startswith(f"r-{EXTENDED}-{ASSIGNMENT}-") for k in planned_before)
    moved = behind_the_back(site)
    found = by_area(site.diff())
    assert set(found) == {"extension", "grade", "enrolment", "profile"}, found
    [extension] = found["extension"]
    assert (extension.user_id, extension.change, extension.side) == (EXTENDED, "changed", "moodle")
    assert extension.moodle == f"{moved:%-d %b %Y %H:%M %Z}"
    assert "one reminder planned for the old date would be cancelled" in extension.impact
    [grade] = found["grade"]
    assert (grade.user_id, grade.ours, grade.moodle) == (GRADED, "46", "72")
    [leaver] = found["enrolment"]
    assert (leaver.user_id, leaver.change, leaver.moodle) == (LEAVER, "extra", None)
    assert "two planned reminders would be cancelled" in leaver.impact
    [edited] = found["profile"]
    assert (edited.user_id, edited.side, edited.moodle) == (
        EDITED,
        "moodle",
        "On track (edited by hand)",
    )


def test_a_moved_due_date_and_a_new_submission_are_named(site: Site) -> None:
    state, aid = site.sandbox.state, 3  # MPC's second assignment: reminders planned for it
    due = state.assignments[aid].duedate
    state.move_due_date(aid, due + 7 * 86400)
    state.submit(aid, LEAVER)
    found = by_area(site.diff())
    [moved] = found["assignment"]
    assert (
        moved.change == "changed" and "planned for the old date would be cancelled" in moved.impact
    )
    [submitted] = found["submission"]
    assert (submitted.user_id, submitted.moodle) == (LEAVER, "submitted")
    assert "one planned reminder would be cancelled" in submitted.impact


def test_without_apply_nothing_changes_in_the_store_or_in_moodle(site: Site) -> None:
    behind_the_back(site)
    models = [tables.Enrolment, tables.UserFlags, tables.Grade, tables.OutboxMessage,
              tables.ProfileValue, tables.SyncRun, tables.AuditEntry]  # fmt: skip
    store = {m.__name__: [row_dict(r) for r in site.rows(m)] for m in models}
    moodle = moodle_state(site.sandbox)
    assert site.diff()
    assert {m.__name__: [row_dict(r) for r in site.rows(m)] for m in models} == store
    assert moodle_state(site.sandbox) == moodle


def test_apply_repairs_every_change_and_records_a_reconcile_run(
    sandbox: Sandbox, database_url: str
) -> None:
    settings = settings_for(sandbox)
    with Requester(settings.require_moodle()) as requester:
        site = Site(sandbox, database_url, requester, settings)
        site.pipeline()
        moved = behind_the_back(site)
        ctx = RunContext(settings, site.programme, requester, site.sessions, site.now,
                         kind="reconcile", full=True, send=False,
                         courses=site.scope.courses)  # fmt: skip
        done = repair(ctx, site.scope, "support-1")
    assert done.after.differences == [] and done.outcome == "complete"
    flags = {(f.assignment_id, f.user_id): f for f in site.rows(tables.UserFlags)}
    assert flags[(ASSIGNMENT, EXTENDED)].extension_due_at == moved
    grades = {(g.assignment_id, g.user_id): g.grade for g in site.rows(tables.Grade)}
    assert grades[(1, GRADED)] == Decimal(72)
    [leaver] = [e for e in site.rows(tables.Enrolment) if (e.user_id, e.course_id) == (LEAVER, MPC)]
    assert leaver.ended_at is not None
    outbox = {m.key: m for m in site.rows(tables.OutboxMessage)}
    old = (f"r-{EXTENDED}-{ASSIGNMENT}-", f"r-{LEAVER}-2-", f"r-{LEAVER}-3-")
    stale = [m for k, m in outbox.items() if k.startswith(old)]
    assert stale and all(m.state == "cancelled" for m in stale), [(m.key, m.state) for m in stale]
    pushed = {v.user_id: v.value for v in site.rows(tables.ProfileValue) if v.field == FIELD}
    assert sandbox.state.users[EDITED].customfields[FIELD] == pushed[EDITED]
    [run] = [r for r in site.rows(tables.SyncRun) if r.id == done.run_id]
    assert run.kind == "reconcile" and run.counts["reconcile"]["profile_values_forgotten"] == 1
    [audit] = [a for a in site.rows(tables.AuditEntry) if a.action != "status"]
    assert (audit.actor, audit.action, audit.detail["run_id"]) == ("support-1", "reconcile", run.id)


def test_a_user_scope_shows_only_that_persons_differences(site: Site) -> None:
    behind_the_back(site)
    with site.sessions() as session:
        by_email = resolve_user(session, site.requester, site.sandbox.state.users[LEAVER].email)
    found = site.diff(Reconciliation(site.scope.courses, by_email))
    assert by_email == LEAVER and {d.user_id for d in found} == {LEAVER}


@pytest.mark.parametrize(
    ("course", "user", "named"),
    [("CETAD-NOPE", None, "'CETAD-NOPE' is not mapped"),
     (None, "nobody-here", "no user with username 'nobody-here'"),
     (None, "999999", "no user with id '999999'")],
)  # fmt: skip
def test_an_unknown_course_or_user_is_a_usage_error_naming_it(
    site: Site, course: str | None, user: str | None, named: str
) -> None:
    with pytest.raises(ScopeError) as raised, site.sessions() as session:
        choose_courses(site.scope.courses, course)
        resolve_user(session, site.requester, user or "")
    assert named in str(raised.value)


def test_the_command_exits_2_naming_an_unknown_course(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_cli("reconcile", "--course", "CETAD-NOPE", env=cli_env(sandbox, tmp_path))
    assert result.returncode == 2, result.stderr
    assert "error: course 'CETAD-NOPE' is not mapped" in result.stderr


def test_the_command_applies_and_prints_json(site: Site, tmp_path: Path) -> None:
    behind_the_back(site)
    url = str(site.sessions.kw["bind"].url.render_as_string(hide_password=False))
    env = {**cli_env(site.sandbox, tmp_path), "MOODLE_SYNC_DATABASE__URL": url}
    shown = run_cli("reconcile", "--course", "CETAD-OCVB", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    areas = {d["area"] for d in json.loads(shown.stdout)["differences"]}
    assert "extension" in areas
    applied = run_cli("reconcile", "--course", "CETAD-OCVB", "--apply", env=env)
    assert applied.returncode == 0, applied.stderr
    assert "repaired in sync run" in applied.stdout
    assert [a.action for a in site.rows(tables.AuditEntry) if a.action != "status"] == ["reconcile"]


def cli_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "none.toml").write_text("")
    return {
        "MOODLE_SYNC_CONFIG": str(tmp_path / "none.toml"),
        "MOODLE_SYNC_MOODLE__URL": sandbox.url,
        "MOODLE_SYNC_MOODLE__TOKEN": INTEGRATION_TOKEN,
        "MOODLE_SYNC_DATABASE__URL": f"sqlite:///{tmp_path}/cli.db",
    }


def row_dict(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.key) for c in row.__mapper__.columns}


def moodle_state(sandbox: Sandbox) -> dict[str, Any]:
    state = sandbox.state
    with state.lock:
        return {
            "users": {u.id: dict(u.customfields) for u in state.users.values()},
            "enrolments": [asdict(e) for e in state.enrolments],
            "grades": [asdict(g) for g in state.grades],
            "flags": [asdict(f) for f in state.userflags],
            "messages": len(state.messages),
        }
