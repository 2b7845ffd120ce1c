"""From the store to the rules' facts: marks out of 100, released grades, own dates, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.push.facts import Cohort, load_cohort
from moodle_sync.rules.facts import Assessment
from moodle_sync.rules.policy import Programme
from tests.push.conftest import StoreBuilder

MPC, OTHER = 3, 99
TUTOR, AMELIA = 17, 5
ESSAY = 2
DUE = datetime(2025, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
def cohort(store: StoreBuilder) -> StoreBuilder:
    store.course(MPC, "CETAD-MPC", "Models for Planning Change")
    store.course(OTHER, "NOT-MAPPED", "Another programme's course")
    store.user(TUTOR, "Tess", "Tutor")
    store.user(AMELIA, "Amelia", "Hughes")
    store.enrol(TUTOR, MPC, "editingteacher")
    store.enrol(AMELIA, MPC)
    store.enrol(AMELIA, OTHER)
    store.assignment(ESSAY, MPC, "MPC Essay", DUE, max_grade=80, modified=DUE - timedelta(30))
    store.assignment(50, OTHER, "Unmapped essay", DUE)
    return store


def load(sessions: sessionmaker[Session], programme: Programme, **kw: Any) -> Cohort:
    with sessions() as session:
        return load_cohort(session, programme, **kw)


def essay(cohort: Cohort) -> Assessment:
    (participant,) = cohort.participants
    (module,) = participant.modules
    (work,) = module.assessments
    return work


@pytest.mark.usefixtures("cohort")
def test_only_students_of_mapped_courses_are_participants_and_tutors_are_named(
    sessions: sessionmaker[Session], programme: Programme
) -> None:
    cohort = load(sessions, programme)
    assert [(p.id, p.name, p.status) for p in cohort.participants] == [
        (AMELIA, "Amelia Hughes", "active")
    ]
    assert [m.module for m in cohort.participants[0].modules] == ["MPC"]
    assert [t.name for t in cohort.courses[MPC].tutors] == ["Tess Tutor"]
    assert cohort.course_of(ESSAY) == cohort.courses[MPC]


@pytest.mark.parametrize(
    ("workflow", "state", "grade", "mark", "released"),
    [
        (False, None, Decimal(60), Decimal(75), True),  # 60 of 80 is 75 out of 100
        (True, "inmarking", Decimal(60), Decimal(75), False),
        (True, "released", Decimal(40), Decimal(50), True),
        (False, None, None, None, True),  # opened for grading, not graded
    ],
)
@pytest.mark.usefixtures("cohort")
def test_grades_are_scaled_to_100_and_released_per_marking_workflow(
    sessions: sessionmaker[Session],
    programme: Programme,
    store: StoreBuilder,
    workflow: bool,
    state: str | None,
    grade: Decimal | None,
    mark: Decimal | None,
    released: bool,
) -> None:
    store.assignment(ESSAY, MPC, "MPC Essay", DUE, max_grade=80, workflow=workflow)
    store.flags(ESSAY, AMELIA, workflow_state=state)
    store.grade(ESSAY, AMELIA, grade)
    work = essay(load(sessions, programme))
    assert (work.grade, work.released) == (mark, released)


@pytest.mark.usefixtures("cohort")
def test_the_latest_attempt_and_the_extension_are_what_counts(
    sessions: sessionmaker[Session], programme: Programme, store: StoreBuilder
) -> None:
    store.submit(ESSAY, AMELIA, "submitted", at=DUE - timedelta(days=9), attempt=0)
    store.submit(ESSAY, AMELIA, "draft", at=DUE - timedelta(days=1), attempt=1)
    store.flags(ESSAY, AMELIA, extension=DUE + timedelta(days=7))
    work = essay(load(sessions, programme))
    assert (work.submission_status, work.submitted_at) == ("draft", None)
    assert (work.due, work.extension, work.resit) == (DUE, DUE + timedelta(days=7), False)


@pytest.mark.parametrize(
    ("edited_after_check", "due"),
    [(False, DUE + timedelta(days=2)), (True, DUE)],
)
@pytest.mark.usefixtures("cohort")
def test_a_students_own_due_date_wins_unless_the_assignment_changed_since(
    sessions: sessionmaker[Session],
    programme: Programme,
    store: StoreBuilder,
    edited_after_check: bool,
    due: datetime,
) -> None:
    checked = DUE - timedelta(days=10)
    store.own_due(ESSAY, AMELIA, DUE + timedelta(days=2), checked_at=checked)
    modified = checked + timedelta(hours=1 if edited_after_check else -1)
    store.assignment(ESSAY, MPC, "MPC Essay", DUE, max_grade=80, modified=modified)
    assert essay(load(sessions, programme)).due == due


@pytest.mark.parametrize(
    ("status", "ended", "interrupted", "expected"),
    [
        ("active", False, (), "active"),
        ("suspended", False, (), "suspended"),
        ("active", True, (), "suspended"),  # unenrolled: Moodle stopped returning it
        ("active", False, (AMELIA,), "interrupted"),
    ],
)
@pytest.mark.usefixtures("cohort")
def test_participant_status_comes_from_enrolments_and_the_interrupted_list(
    sessions: sessionmaker[Session],
    programme: Programme,
    store: StoreBuilder,
    status: str,
    ended: bool,
    interrupted: tuple[int, ...],
    expected: str,
) -> None:
    store.enrol(AMELIA, MPC, status=status, ended_at=DUE if ended else None)
    cohort = load(sessions, programme, interrupted=interrupted)
    assert cohort.participants[0].status == expected
    assert cohort.active_courses[AMELIA] == (frozenset({MPC}) if expected != "suspended" else set())


def test_the_number_of_queries_does_not_grow_with_the_cohort(
    sessions: sessionmaker[Session], programme: Programme, store: StoreBuilder
) -> None:
    store.course(MPC, "CETAD-MPC", "Models for Planning Change")
    store.assignment(ESSAY, MPC, "MPC Essay", DUE)

    def queries_for(students: range) -> int:
        for uid in students:
            store.user(uid, "Student", str(uid))
            store.enrol(uid, MPC)
            store.submit(ESSAY, uid)
            store.grade(ESSAY, uid, Decimal(55))
        statements: list[str] = []
        engine = sessions.kw["bind"]
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            cohort = load(sessions, programme)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len(cohort.participants) == students.stop - 100
        return len(statements)

    assert queries_for(range(100, 102)) == queries_for(range(102, 140))
