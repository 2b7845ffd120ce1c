"""Pulling the mapped courses and their enrolments, against the sandbox Moodle."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.errors import FatalError
from moodle_sync.pull.runner import run_sync
from moodle_sync.rules.policy import Programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox
from moodle_sync.store.tables import Course, Enrolment, SyncRun
from tests.pull.conftest import requester_for

LOTC = 5  # course id of CETAD-LOTC in the sandbox (and on the recorded site)


def stored_enrolments(sessions: sessionmaker[Session]) -> dict[tuple[int, int], Enrolment]:
    with sessions() as session:
        return {(e.course_id, e.user_id): e for e in session.scalars(select(Enrolment))}


def test_every_mapped_course_and_enrolment_is_stored(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    report = run_sync(requester, sessions, programme)
    assert report.outcome == "complete"
    with sessions() as session:
        idnumbers = set(session.scalars(select(Course.idnumber)))
    assert idnumbers == set(programme.mapped_courses())
    expected = {(e.courseid, e.userid) for e in sandbox.state.enrolments}
    assert set(stored_enrolments(sessions)) == expected


def test_a_suspended_enrolment_is_stored_as_suspended(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    run_sync(requester, sessions, programme)
    suspended = {(e.courseid, e.userid) for e in sandbox.state.enrolments if e.status != "active"}
    assert suspended, "the CETAD scenario has a suspended enrolment"
    stored = stored_enrolments(sessions)
    assert {key for key, row in stored.items() if row.status == "suspended"} == suspended


def test_rerunning_with_no_change_changes_nothing(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme
) -> None:
    run_sync(requester, sessions, programme)
    before = stored_enrolments(sessions)
    again = run_sync(requester, sessions, programme)
    counts = again.counts["enrolments"]
    assert (counts.inserted, counts.updated, counts.ended) == (0, 0, 0)
    assert counts.unchanged == len(before)
    assert set(stored_enrolments(sessions)) == set(before)


def test_only_a_course_whose_enrolments_changed_is_written_again(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    """A course whose enrolment answer is the one its rows came from keeps them untouched (its
    rows' last_seen_at stays); a changed course is diffed and written; --full reads all. (A
    student joining a group changes only that course's answer; a suspension changes every
    course of the student, whose answers list the courses they are active in.)"""
    first = run_sync(requester, sessions, programme)
    student = next(e.userid for e in sandbox.state.enrolments if e.courseid == LOTC
                   and e.role == "student" and e.status == "active")  # fmt: skip
    sandbox.state.add_group(LOTC, 901, "Cohort B", [student])
    second = run_sync(requester, sessions, programme)
    counts = second.counts["enrolments"]
    assert (counts.updated, counts.inserted) == (1, 0)
    stored = stored_enrolments(sessions)
    assert stored[(LOTC, student)].groups == "901"
    seen = {(key[0], row.last_seen_at) for key, row in stored.items()}
    assert {course for course, at in seen if at == second.started_at} == {LOTC}
    assert {course for course, at in seen if at == first.started_at} == (
        {course for course, _ in seen} - {LOTC})  # fmt: skip
    weekly = run_sync(requester, sessions, programme, full=True)
    assert {row.last_seen_at for row in stored_enrolments(sessions).values()} == {
        weekly.started_at}  # fmt: skip


def test_suspension_then_unenrolment_is_followed_without_losing_history(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    run_sync(requester, sessions, programme)
    student = next(e.userid for e in sandbox.state.enrolments if e.courseid == LOTC
                   and e.role == "student" and e.status == "active")  # fmt: skip
    sandbox.state.suspend_enrolment(student, LOTC)
    run_sync(requester, sessions, programme)
    assert stored_enrolments(sessions)[(LOTC, student)].status == "suspended"
    sandbox.state.unenrol(student, LOTC)
    report = run_sync(requester, sessions, programme)
    row = stored_enrolments(sessions)[(LOTC, student)]
    assert row.ended_at == report.started_at
    assert report.counts["enrolments"].ended == 1


def test_a_mapped_course_missing_from_moodle_is_reported_and_the_rest_synced(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme
) -> None:
    courses = [*programme.mapped_courses(), "CETAD-NOPE"]
    report = run_sync(requester, sessions, programme, courses=courses)
    assert report.outcome == "partial"
    assert report.missing_courses == ["CETAD-NOPE"]
    assert report.counts["courses"].read == len(programme.mapped_courses())


def test_a_course_the_token_cannot_enter_fails_alone(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    sandbox.state.revoke_course_access(INTEGRATION_TOKEN, LOTC)
    report = run_sync(requester, sessions, programme)
    assert report.outcome == "partial"
    assert list(report.failed_courses) == ["CETAD-LOTC"]
    others = {e.courseid for e in sandbox.state.enrolments} - {LOTC}
    assert {course for course, _ in stored_enrolments(sessions)} == others
    with sessions() as session:
        run = session.get_one(SyncRun, report.run_id)
    assert run.outcome == "partial" and "CETAD-LOTC" in run.problems["failed_courses"]


def test_courses_are_found_without_the_course_update_capability(
    sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    """A least-privilege role does not see idnumbers in answers; lookups still match."""
    token = sandbox.state.tokens[INTEGRATION_TOKEN]
    caps = token.capabilities - {"moodle/course:update"}
    sandbox.state.tokens[INTEGRATION_TOKEN] = dataclasses.replace(token, capabilities=caps)
    with requester_for(sandbox) as requester:
        report = run_sync(requester, sessions, programme)
    assert report.outcome == "complete"
    assert report.counts["courses"].read == len(programme.mapped_courses())


def test_a_revoked_token_stops_the_run_and_records_it_failed(
    sessions: sessionmaker[Session], programme: Programme, sandbox: Sandbox
) -> None:
    with requester_for(sandbox, "not-a-token") as requester, pytest.raises(FatalError):
        run_sync(requester, sessions, programme)
    with sessions() as session:
        run = session.scalars(select(SyncRun)).one()
    assert run.outcome == "failed" and "invalidtoken" in run.problems["error"]


def test_progress_is_reported_per_stage_up_to_its_total(
    requester: Requester, sessions: sessionmaker[Session], programme: Programme
) -> None:
    seen: dict[str, list[tuple[int, int]]] = {}

    def record(stage: str, done: int, total: int) -> None:
        seen.setdefault(stage, []).append((done, total))

    run_sync(requester, sessions, programme, progress=record)
    assert list(seen) == ["reading enrolments", "writing courses"]
    for steps in seen.values():
        assert steps[-1][0] == steps[-1][1] == len(programme.mapped_courses())
        assert [done for done, _ in steps] == sorted(done for done, _ in steps)
