"""Conversions at the edge: timestamps, "not set" zeros, grade strings, flags."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from moodle_sync.client.models import Grade, MessageResult, UserFlags

GRADE = {
    "id": 1,
    "assignment_id": 2,
    "userid": 5,
    "attemptnumber": 0,
    "grader": 17,
    "timecreated": 1795659567,
    "timemodified": 0,
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("63.00000", Decimal("63")),
        ("-1.00000", None),
        ("0.00000", Decimal("0")),
        ("72.50000", Decimal("72.5")),
        (-1, None),
        (None, None),
    ],
)
def test_grade_strings_become_decimals_and_minus_one_not_graded(
    raw: Any, expected: Decimal | None
) -> None:
    assert Grade.model_validate({**GRADE, "grade": raw}).grade == expected


def test_timestamps_become_aware_utc_and_zero_becomes_none() -> None:
    grade = Grade.model_validate({**GRADE, "grade": "1"})
    assert grade.timecreated == datetime(2026, 11, 26, 2, 19, 27, tzinfo=UTC)
    assert grade.timemodified is None


@pytest.mark.parametrize("bad", ["1795659567", 1.5, True])
def test_a_timestamp_of_the_wrong_type_is_refused(bad: Any) -> None:
    with pytest.raises(ValidationError, match="Unix timestamp"):
        Grade.model_validate({**GRADE, "grade": "1", "timecreated": bad})


def test_user_flags_turn_zero_and_blank_into_none() -> None:
    flags = UserFlags.model_validate(
        {
            "id": 6,
            "assignment_id": 4,
            "userid": 9,
            "locked": 0,
            "mailed": 2,
            "extensionduedate": 0,
            "workflowstate": "",
            "allocatedmarker": 0,
        }
    )
    assert (flags.extensionduedate, flags.workflowstate, flags.allocatedmarker) == (
        None,
        None,
        None,
    )
    assert flags.locked is False


def test_a_refused_message_has_no_id() -> None:
    assert not MessageResult.model_validate({"msgid": -1, "errormessage": "no"}).ok
    assert MessageResult.model_validate({"msgid": 7}).ok
