"""Who is enrolled in a course, with roles and whether the enrolment is active."""

from __future__ import annotations

from typing import Any, Literal

from moodle_sync.client.envelope import reading_answer
from moodle_sync.client.models import EnrolledUser
from moodle_sync.client.requester import Requester

__all__ = ["enrolment_status", "get_enrolled_users"]


def get_enrolled_users(req: Requester, course_id: int) -> list[EnrolledUser]:
    """Calls: core_enrol_get_enrolled_users (all enrolments, active and suspended).

    Raises ``SkippableError`` (``invalidrecord``, ``errorcoursecontextnotvalid``) when the
    course is missing or the integration user cannot see it.
    """
    raw_users: list[dict[str, Any]] = req.call(
        "core_enrol_get_enrolled_users", {"courseid": course_id}
    )
    with reading_answer("core_enrol_get_enrolled_users"):
        return [
            EnrolledUser.model_validate({**raw, "status": enrolment_status(raw, course_id)})
            for raw in raw_users
        ]


def enrolment_status(raw_user: dict[str, Any], course_id: int) -> Literal["active", "suspended"]:
    """Moodle has no status field here, but lists a course in ``enrolledcourses`` only while the
    user's enrolment in it is active (trap 6): a user returned for a course missing from their
    own list is suspended there (or their enrolment has ended)."""
    listed = {course["id"] for course in raw_user.get("enrolledcourses") or []}
    return "active" if course_id in listed else "suspended"
