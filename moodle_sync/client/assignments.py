"""Assignments and what students did with them: submissions, extensions, grades, own dates.

Per-assignment problems come back as warnings (code ``1``: no access; code ``3``: nothing
found, which with ``since`` just means nothing new), never as exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from moodle_sync.client.envelope import reading_answer
from moodle_sync.client.models import (
    Assignment,
    Grade,
    Participant,
    Result,
    Submission,
    UserFlags,
    parse_warnings,
)
from moodle_sync.client.requester import Requester

__all__ = [
    "get_assignments",
    "get_grades",
    "get_participant",
    "get_submissions",
    "get_user_flags",
]

M = TypeVar("M", bound=BaseModel)


def get_assignments(req: Requester, course_ids: Sequence[int]) -> Result[list[Assignment]]:
    """Calls: mod_assign_get_assignments with ``includenotenrolledcourses=1``.

    Without that flag a service account that is not enrolled gets no courses and one warning
    each. The dates are the base dates; per-student ones come from ``get_participant``.
    """
    params = {"includenotenrolledcourses": True}
    answer = req.call_batched("mod_assign_get_assignments", "courseids", course_ids, params)
    with reading_answer("mod_assign_get_assignments"):
        assignments = [
            Assignment.model_validate(raw)
            for course in answer["courses"]
            for raw in course["assignments"]
        ]
        return Result(assignments, parse_warnings(answer))


def get_submissions(
    req: Requester, assignment_ids: Sequence[int], since: datetime | None = None
) -> Result[list[Submission]]:
    """Calls: mod_assign_get_submissions (latest attempts modified at or after ``since``).

    Students who never opened an assignment have no submission at all.
    """
    answer = req.call_batched(
        "mod_assign_get_submissions", "assignmentids", assignment_ids, {"since": since}
    )
    with reading_answer("mod_assign_get_submissions"):
        return Result(_per_assignment(answer, "submissions", Submission), parse_warnings(answer))


def get_user_flags(req: Requester, assignment_ids: Sequence[int]) -> Result[list[UserFlags]]:
    """Calls: mod_assign_get_user_flags (extensions and marking-workflow state; no ``since``)."""
    answer = req.call_batched("mod_assign_get_user_flags", "assignmentids", assignment_ids)
    with reading_answer("mod_assign_get_user_flags"):
        return Result(_per_assignment(answer, "userflags", UserFlags), parse_warnings(answer))


def get_grades(
    req: Requester, assignment_ids: Sequence[int], since: datetime | None = None
) -> Result[list[Grade]]:
    """Calls: mod_assign_get_grades (grades modified at or after ``since``).

    Includes grades students cannot see yet; check the user flags' ``workflowstate``.
    """
    answer = req.call_batched(
        "mod_assign_get_grades", "assignmentids", assignment_ids, {"since": since}
    )
    with reading_answer("mod_assign_get_grades"):
        return Result(_per_assignment(answer, "grades", Grade), parse_warnings(answer))


def get_participant(req: Requester, assignment_id: int, user_id: int) -> Participant:
    """Calls: mod_assign_get_participant: one student's dates with overrides applied.

    Raises ``SkippableError`` (``usernotincourse``) for a user not in the course.
    """
    raw = req.call("mod_assign_get_participant", {"assignid": assignment_id, "userid": user_id})
    with reading_answer("mod_assign_get_participant"):
        return Participant.model_validate(raw)


def _per_assignment(answer: dict[str, Any], key: str, model: type[M]) -> list[M]:
    return [
        model.model_validate({**item, "assignment_id": entry["assignmentid"]})
        for entry in answer["assignments"]
        for item in entry[key]
    ]
