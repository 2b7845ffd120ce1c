"""Typed records for what Moodle returns, converted once at this edge.

Unix timestamps become aware UTC datetimes and Moodle's ``0`` (or ``null``) for "not set"
becomes ``None``; grade strings become ``Decimal`` and ``-1`` ("not graded") becomes ``None``;
``0``/``1`` flags become booleans. Unknown fields are ignored; the ones we rely on are required.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator

__all__ = [
    "Assignment",
    "Course",
    "EnrolledUser",
    "Grade",
    "Group",
    "MessageResult",
    "MoodleWarning",
    "Participant",
    "Result",
    "Role",
    "SentMessage",
    "SiteInfo",
    "Submission",
    "User",
    "UserFlags",
    "parse_warnings",
]

T = TypeVar("T")


def _epoch(value: Any) -> datetime | None:
    # called for every timestamp of every record (150,000 on a first sync): the common case
    # first; `type(...) is int` also turns away a bool
    if type(value) is int:
        return datetime.fromtimestamp(value, UTC) if value else None
    if value is None:
        return None
    raise ValueError(f"expected a Unix timestamp in seconds, got {value!r}")


def _grade(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        grade = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"expected a numeric grade, got {value!r}") from None
    return None if grade == -1 else grade


def _zero_is_none(value: Any) -> int | None:
    return None if value in (0, None) else int(value)


def _message_id(value: Any) -> int | None:
    return None if value in (-1, None) else int(value)


Timestamp = Annotated[datetime | None, PlainValidator(_epoch)]
GradeValue = Annotated[Decimal | None, PlainValidator(_grade)]
OptionalId = Annotated[int | None, PlainValidator(_zero_is_none)]


class MoodleModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class MoodleWarning(MoodleModel):
    """One entry of a ``warnings`` list: data that is missing, and why."""

    item: str | None = None
    itemid: int | None = None
    warningcode: str
    message: str = ""


@dataclass(frozen=True)
class Result(Generic[T]):
    """Data plus the warnings that came with it; a warning means the data is incomplete."""

    data: T
    warnings: list[MoodleWarning] = field(default_factory=list)


class SiteInfo(MoodleModel):
    """The token's site and user (``userprivateaccesskey`` is deliberately not kept)."""

    sitename: str
    siteurl: str
    userid: int
    username: str
    release: str | None = None
    version: str | None = None
    functions: list[str]

    @field_validator("functions", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return [item["name"] if isinstance(item, dict) else item for item in value]


class Course(MoodleModel):
    id: int
    shortname: str
    fullname: str
    idnumber: str = ""  # only returned with moodle/course:update
    categoryid: int
    visible: bool = True
    startdate: Timestamp = None
    enddate: Timestamp = None


class Role(MoodleModel):
    roleid: int
    shortname: str


class Group(MoodleModel):
    id: int
    name: str = ""


class EnrolledUser(MoodleModel):
    id: int
    username: str = ""
    firstname: str = ""
    lastname: str = ""
    fullname: str
    email: str = ""
    idnumber: str = ""
    roles: list[Role] = []
    groups: list[Group] = []  # absent when the user is in no group
    status: Literal["active", "suspended"]


class Assignment(MoodleModel):
    id: int
    cmid: int
    course_id: int = Field(validation_alias="course")
    name: str
    allowsubmissionsfromdate: Timestamp = None
    duedate: Timestamp = None
    cutoffdate: Timestamp = None
    gradingduedate: Timestamp = None
    grade: int  # >0 max points, <0 minus a scale id, 0 no grading
    markingworkflow: bool = False
    teamsubmission: bool = False
    teamsubmissiongroupingid: int = 0
    timemodified: Timestamp = None


class Submission(MoodleModel):
    id: int
    assignment_id: int
    userid: int  # 0 for a team submission row
    attemptnumber: int
    status: str  # new, draft, submitted, reopened
    timecreated: Timestamp = None
    timemodified: Timestamp = None
    gradingstatus: str | None = None
    groupid: int = 0


class UserFlags(MoodleModel):
    id: int
    assignment_id: int
    userid: int
    locked: bool = False
    extensionduedate: Timestamp = None
    workflowstate: str | None = None  # "released" is the only state students can see
    allocatedmarker: OptionalId = None

    @field_validator("workflowstate", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None


class Grade(MoodleModel):
    id: int
    assignment_id: int
    userid: int
    attemptnumber: int
    timecreated: Timestamp = None
    timemodified: Timestamp = None
    grader: int
    grade: GradeValue  # None = not graded (Moodle's "-1.00000")


class Participant(MoodleModel):
    """One student's own view of one assignment, overrides applied."""

    userid: int = Field(validation_alias="id")
    fullname: str
    submitted: bool
    requiregrading: bool
    grantedextension: bool
    allowsubmissionsfromdate: Timestamp = None
    duedate: Timestamp = None
    cutoffdate: Timestamp = None
    submissionstatus: str = ""


class User(MoodleModel):
    id: int
    username: str = ""
    firstname: str = ""
    lastname: str = ""
    fullname: str
    email: str = ""
    idnumber: str = ""
    suspended: bool = False
    customfields: dict[str, str] = {}  # shortname -> value; absent when the user has none

    @field_validator("customfields", mode="before")
    @classmethod
    def _by_shortname(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {item["shortname"]: str(item.get("value") or "") for item in value}
        return value


class MessageResult(MoodleModel):
    """Moodle's answer for one message; ``msgid`` is None when it was refused."""

    msgid: Annotated[int | None, PlainValidator(_message_id)] = None
    clientmsgid: str | None = None
    errormessage: str | None = None
    timecreated: Timestamp = None
    conversationid: int | None = None
    pending: bool = False  # local_cetadsync: an earlier call reserved the key, outcome unknown

    @property
    def ok(self) -> bool:
        return self.msgid is not None


class SentMessage(MoodleModel):
    id: int
    useridfrom: int
    useridto: int
    text: str
    timecreated: Timestamp = None


def parse_warnings(response: Any) -> list[MoodleWarning]:
    """The ``warnings`` list of a response, typed (``[]`` when there is none)."""
    raw = response.get("warnings", []) if isinstance(response, dict) else []
    return [MoodleWarning.model_validate(item) for item in raw]
