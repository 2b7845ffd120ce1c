"""What every web-service handler receives and how it is registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moodle_sync.sandbox.errors import WsError, invalid_record, no_permissions
from moodle_sync.sandbox.model import Course, Token, User
from moodle_sync.sandbox.params import Struct
from moodle_sync.sandbox.state import SiteState


@dataclass(frozen=True)
class Call:
    """One validated call: the live site, the caller's token and the typed parameters."""

    state: SiteState
    token: Token
    params: dict[str, Any]

    @property
    def caller(self) -> User:
        return self.state.users[self.token.userid]

    def require(self, capability: str, display_name: str) -> None:
        """`require_capability` at system level: the whole call fails without it."""
        if not self.token.can(capability):
            raise no_permissions(display_name, capability)

    def course(self, courseid: int) -> Course:
        """The course, or Moodle's missing-record error."""
        course = self.state.courses.get(courseid)
        if course is None:
            raise invalid_record("course")
        return course

    def enrolled(self, courseid: int) -> bool:
        """Is the caller actively enrolled (the integration user never is)?"""
        enrolment = self.state.enrolment(self.token.userid, courseid)
        return enrolment is not None and enrolment.status == "active"

    def can_enter(self, courseid: int) -> bool:
        return self.enrolled(courseid) or self.token.can_enter(courseid)


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class WsFunction:
    name: str
    params: Struct
    handler: Handler


def context_error(courseid: int) -> WsError:
    """How functions that wrap course-context validation report a course the caller can't enter."""
    return WsError(
        "moodle_exception",
        "errorcoursecontextnotvalid",
        f"You cannot execute functions in the course context (course id:{courseid}). "
        "The context error message was: Course or activity not accessible.",
    )


def profile_url(state: SiteState, size: str) -> str:
    """Moodle's default avatar URL (f1 large, f2 small)."""
    return f"{state.site.url}/theme/image.php/boost/core/{state.now}/u/{size}"
