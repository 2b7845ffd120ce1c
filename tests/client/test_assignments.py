"""Assignments, submissions, user flags, grades and participants from recorded answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses

from moodle_sync.client import Requester
from moodle_sync.client.assignments import (
    get_assignments,
    get_grades,
    get_participant,
    get_submissions,
    get_user_flags,
)
from moodle_sync.errors import SkippableError
from tests.client.conftest import reply, sent_forms

Mock = responses.RequestsMock
COURSES = [2, 3, 4, 5, 6, 7]
ASSIGNMENTS = list(range(1, 10))


def test_assignments_are_asked_for_with_includenotenrolledcourses(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "mod_assign_get_assignments")
    result = get_assignments(req, COURSES)
    assert ("includenotenrolledcourses", "1") in sent_forms(moodle)[0]
    first = result.data[0]
    assert (first.id, first.course_id, first.name) == (1, 2, "RAPL Claim Portfolio")
    assert first.duedate == datetime.fromtimestamp(1794795566, UTC)
    assert first.cutoffdate and first.gradingduedate and first.allowsubmissionsfromdate
    assert [a.id for a in result.data] == ASSIGNMENTS and result.warnings == []


def test_courses_the_user_cannot_see_come_back_as_warnings_not_as_no_assignments(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "mod_assign_get_assignments__not_enrolled")
    result = get_assignments(req, COURSES)
    assert result.data == []
    assert [(w.item, w.itemid, w.warningcode) for w in result.warnings] == [
        ("course", course, "2") for course in COURSES
    ]


def test_submissions_since_carry_their_assignment_and_aware_times(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "mod_assign_get_submissions__since")
    since = datetime.fromtimestamp(1795486769, UTC)
    result = get_submissions(req, ASSIGNMENTS, since=since)
    assert ("since", "1795486769") in sent_forms(moodle)[0]
    assert len(result.data) == 43
    first = result.data[0]
    assert (first.assignment_id, first.userid, first.status) == (1, 8, "submitted")
    assert first.timemodified == datetime.fromtimestamp(1795574050, UTC)


def test_nothing_new_since_is_a_code_3_warning_per_assignment(req: Requester, moodle: Mock) -> None:
    reply(moodle, "mod_assign_get_submissions__since_future")
    result = get_submissions(req, ASSIGNMENTS, since=datetime.fromtimestamp(1795663169, UTC))
    assert result.data == []
    assert {w.warningcode for w in result.warnings} == {"3"}


def test_user_flags_give_extensions_and_workflow_state(req: Requester, moodle: Mock) -> None:
    reply(moodle, "mod_assign_get_user_flags")
    flags = {(f.assignment_id, f.userid): f for f in get_user_flags(req, ASSIGNMENTS).data}
    assert flags[(1, 8)].extensionduedate == datetime.fromtimestamp(1796264366, UTC)
    assert flags[(4, 9)].extensionduedate is None
    assert (flags[(4, 9)].workflowstate, flags[(4, 11)].workflowstate) == ("released", "inmarking")


def test_grades_are_decimals_per_assignment_with_warnings_for_the_ungraded(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "mod_assign_get_grades")
    result = get_grades(req, ASSIGNMENTS)
    assert (result.data[0].assignment_id, result.data[0].userid, result.data[0].grade) == (
        1,
        5,
        Decimal("46"),
    )
    assert [w.itemid for w in result.warnings] == [3, 5, 7, 9]


def test_a_participant_has_their_own_dates(req: Requester, moodle: Mock) -> None:
    reply(moodle, "mod_assign_get_participant__a2_u5")
    participant = get_participant(req, 2, 5)
    assert participant.userid == 5 and participant.submitted and participant.grantedextension
    assert participant.duedate == datetime.fromtimestamp(1795227566, UTC)
    assert sent_forms(moodle)[0][3:] == [("assignid", "2"), ("userid", "5")]


def test_a_participant_not_in_the_course_is_skippable(req: Requester, moodle: Mock) -> None:
    reply(moodle, "mod_assign_get_participant__a5_u10")
    with pytest.raises(SkippableError) as caught:
        get_participant(req, 5, 10)
    assert caught.value.errorcode == "usernotincourse"
