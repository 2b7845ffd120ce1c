"""Incremental syncs follow every kind of change a site makes, and end where a full sync ends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.pull.runner import run_sync
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.sandbox.state import SiteState
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import Bookmark
from tests.conftest import REPO
from tests.pull.conftest import requester_for
from tests.pull.mirror import differences, moodle_view, store_view

NO_WINDOW = timedelta(0)  # prove the bookmarks alone are right; production adds a window
LOTC, MPC = 5, 3


def sync(requester: Requester, sessions: sessionmaker[Session], programme: Programme,
         full: bool = False) -> None:  # fmt: skip
    run_sync(requester, sessions, programme, full=full, safety_window=NO_WINDOW)


def mapped_ids(sandbox: Sandbox, programme: Programme) -> set[int]:
    mapped = set(programme.mapped_courses())
    return {c.id for c in sandbox.state.courses.values() if c.idnumber in mapped}


def first_student(state: SiteState, course: int) -> int:
    active = [e for e in state.enrolments if e.courseid == course and e.status == "active"]
    return min(e.userid for e in active if e.role == "student")


def a_course_assignment(state: SiteState, course: int) -> int:
    return min(a.id for a in state.assignments.values() if a.courseid == course)


CHANGES: dict[str, Callable[[SiteState], None]] = {
    "a new submission": lambda s: s.submit(a_course_assignment(s, MPC), first_student(s, MPC)),
    "a grade entered": lambda s: s.grade(a_course_assignment(s, MPC), first_student(s, MPC), 64.5),
    "a grade released": lambda s: s.set_workflow_state(
        a_course_assignment(s, MPC), first_student(s, MPC), "released"),
    "an extension granted": lambda s: s.grant_extension(
        a_course_assignment(s, LOTC), first_student(s, LOTC), s.clock() + 86400 * 9),
    "the extension removed": lambda s: s.remove_extension(
        a_course_assignment(s, LOTC), first_student(s, LOTC)),
    "a due date moved": lambda s: s.move_due_date(
        a_course_assignment(s, LOTC), s.clock() + 86400 * 4),
    "a student suspended": lambda s: s.suspend_enrolment(first_student(s, LOTC), LOTC),
    "a student unenrolled": lambda s: s.unenrol(first_student(s, LOTC), LOTC),
    "an assignment deleted": lambda s: s.delete_assignment(a_course_assignment(s, MPC)),
}  # fmt: skip


def test_the_store_matches_moodle_after_each_change(
    sandbox: Sandbox, requester: Requester, sessions: sessionmaker[Session], programme: Programme
) -> None:
    scope = mapped_ids(sandbox, programme)
    sync(requester, sessions, programme)
    assert differences(moodle_view(sandbox.state, scope), store_view(sessions)) == {}
    for name, change in CHANGES.items():
        change(sandbox.state)
        sync(requester, sessions, programme)
        found = differences(moodle_view(sandbox.state, scope), store_view(sessions))
        assert found == {}, f"after {name}: {found}"


def test_a_course_that_loses_access_keeps_its_data_and_bookmarks(
    sandbox: Sandbox, requester: Requester, sessions: sessionmaker[Session], programme: Programme
) -> None:
    sync(requester, sessions, programme)
    with sessions() as session:
        before = {(b.stream, b.partition): b.value for b in session.scalars(select(Bookmark))}
    sandbox.state.revoke_course_access(INTEGRATION_TOKEN, LOTC)
    sandbox.state.submit(
        a_course_assignment(sandbox.state, LOTC), first_student(sandbox.state, LOTC)
    )
    report = run_sync(requester, sessions, programme)
    assert list(report.failed_courses) == ["CETAD-LOTC"]
    with sessions() as session:
        after = {(b.stream, b.partition): b.value for b in session.scalars(select(Bookmark))}
    lotc = {key: value for key, value in after.items() if key[1] == str(LOTC)}
    assert lotc == {key: value for key, value in before.items() if key[1] == str(LOTC)}


def test_incremental_reads_only_what_changed(
    sandbox: Sandbox, requester: Requester, sessions: sessionmaker[Session], programme: Programme
) -> None:
    sync(requester, sessions, programme)
    sandbox.state.grade(
        a_course_assignment(sandbox.state, MPC), first_student(sandbox.state, MPC), 71
    )
    report = run_sync(requester, sessions, programme, safety_window=NO_WINDOW)
    assert report.counts["grades"].updated + report.counts["grades"].inserted == 1
    assert report.counts["submissions"].inserted == 0


change_names = st.sampled_from(sorted(CHANGES))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(change_names, min_size=1, max_size=6))
def test_incremental_syncs_end_where_one_full_sync_ends(tmp_path: Path, steps: list[str]) -> None:
    programme = load_programme(REPO / "config" / "programme.toml")
    with start_sandbox() as sandbox, requester_for(sandbox) as requester:
        folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        _, incremental = open_database(f"sqlite:///{folder}/incremental.db")
        _, full = open_database(f"sqlite:///{folder}/full.db")
        sync(requester, incremental, programme)
        for name in steps:
            try:
                CHANGES[name](sandbox.state)
            except (KeyError, ValueError):
                continue  # the change no longer applies (e.g. that student already left)
            sync(requester, incremental, programme)
        sync(requester, full, programme, full=True)
        assert differences(store_view(full), store_view(incremental)) == {}
        scope = mapped_ids(sandbox, programme)
        assert differences(moodle_view(sandbox.state, scope), store_view(incremental)) == {}
