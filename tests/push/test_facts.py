"""From the store to the rules' facts: marks out of 100, released grades, own dates, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.cohort.facts import Cohort, load_cohort
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
    ("overridden", "due"),
    [(True, DUE + timedelta(days=2)), (False, DUE + timedelta(days=1))],
)
@pytest.mark.usefixtures("cohort")
def test_a_students_override_wins_and_otherwise_the_assignments_current_date_applies(
    sessions: sessionmaker[Session],
    programme: Programme,
    store: StoreBuilder,
    overridden: bool,
    due: datetime,
) -> None:
    """Whatever the assignment's `timemodified` says against our `checked_at` (two clocks)."""
    answered = DUE + timedelta(days=2) if overridden else DUE
    store.own_due(ESSAY, AMELIA, answered, checked_at=DUE + timedelta(days=300),
                  overridden=overridden)  # fmt: skip
    moved = DUE + timedelta(days=1)  # a teacher moves the assignment afterwards
    store.assignment(ESSAY, MPC, "MPC Essay", moved, max_grade=80, modified=DUE - timedelta(9))
    assert essay(load(sessions, programme)).due == due


@pytest.mark.usefixtures("cohort")
def test_a_course_that_rolled_over_is_history_not_part_of_its_module(
    sessions: sessionmaker[Session], programme: Programme, store: StoreBuilder
) -> None:
    from moodle_sync.store.tables import Course

    store.course(40, "CETAD-MPC", "Models for Planning Change 2027")
    with sessions.begin() as session:
        session.get_one(Course, MPC).replaced_at, session.get_one(Course, MPC).replaced_by = DUE, 40
    cohort = load(sessions, programme)
    assert list(cohort.courses) == [40] and cohort.participants == ()


@pytest.mark.usefixtures("cohort")
def test_suspended_in_one_course_only_that_modules_work_is_not_enrolled(
    sessions: sessionmaker[Session], programme: Programme, store: StoreBuilder
) -> None:
    store.course(4, "CETAD-OCVB", "Organisations")
    store.enrol(AMELIA, 4)
    store.enrol(AMELIA, MPC, status="suspended")
    (amelia,) = load(sessions, programme).participants
    assert amelia.status == "active"
    assert {m.module: m.enrolled for m in amelia.modules} == {"MPC": False, "OCVB": True}


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


@pytest.mark.parametrize(
    ("groups", "grouping", "team_rows", "submitted"),
    [
        ("7", None, {7: "submitted"}, True),  # the team's submission counts for the member
        ("7", None, {7: "draft"}, False),
        ("7,8", None, {7: "submitted"}, False),  # two groups: the default group (0) is hers
        ("7,8", None, {0: "submitted"}, True),
        ("7,8", 3, {7: "submitted"}, True),  # with a grouping, only 7 is a team here
        ("", None, {0: "submitted"}, True),  # in no group: the default group
    ],
)
@pytest.mark.usefixtures("cohort")
def test_on_group_work_the_members_team_submission_counts_as_moodle_chooses_the_team(
    sessions: sessionmaker[Session],
    programme: Programme,
    store: StoreBuilder,
    groups: str,
    grouping: int | None,
    team_rows: dict[int, str],
    submitted: bool,
) -> None:
    store.assignment(ESSAY, MPC, "MPC Essay", DUE, team=True, grouping=grouping)
    store.enrol(AMELIA, MPC, groups=groups)
    for group, status in team_rows.items():
        store.team_submit(ESSAY, group, status, at=DUE - timedelta(days=1))
    work = essay(load(sessions, programme))
    assert work.is_submitted is submitted
    if submitted:
        assert work.submitted_at == DUE - timedelta(days=1)
