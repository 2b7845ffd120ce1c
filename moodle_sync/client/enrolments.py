"""Who is enrolled in a course, with roles and whether the enrolment is active."""

from __future__ import annotations

from typing import Any, Literal

from moodle_sync.client.envelope import Listing, answer_digest, reading_answer
from moodle_sync.client.models import EnrolledUser
from moodle_sync.client.requester import Requester

__all__ = ["READING", "enrolment_status", "get_enrolled_users"]

#: How an answer becomes store rows, in the digest: change it when that changes, and every
#: stored course's enrolments are read again once.
READING = "enrolments 1"


def get_enrolled_users(
    req: Requester, course_id: int, *, known: str | None = None
) -> Listing[EnrolledUser]:
    """Calls: core_enrol_get_enrolled_users (all enrolments, active and suspended). With the
    digest of the answer the caller `known`s, the same answer again is not read.

    Raises ``SkippableError`` (``invalidrecord``, ``errorcoursecontextnotvalid``) when the
    course is missing or the integration user cannot see it.
    """
    raw_users: list[dict[str, Any]] = req.call(
        "core_enrol_get_enrolled_users", {"courseid": course_id}
    )
    digest = answer_digest(raw_users, READING)
    if digest == known:
        return Listing(digest, len(raw_users), None)
    with reading_answer("core_enrol_get_enrolled_users"):
        return Listing(digest, len(raw_users), [
            EnrolledUser.model_validate({**raw, "status": enrolment_status(raw, course_id)})
            for raw in raw_users
        ])  # fmt: skip


def enrolment_status(raw_user: dict[str, Any], course_id: int) -> Literal["active", "suspended"]:
    """Moodle has no status field here, but lists a course in ``enrolledcourses`` only while the
    user's enrolment in it is active (trap 6): a user returned for a course missing from their
    own list is suspended there (or their enrolment has ended)."""
    listed = {course["id"] for course in raw_user.get("enrolledcourses") or []}
    return "active" if course_id in listed else "suspended"
