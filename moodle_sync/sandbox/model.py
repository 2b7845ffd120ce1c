"""The records of the sandbox site: the rows a real Moodle keeps, with Moodle's meanings.

Times are epoch seconds; `0` means "not set", as in Moodle's tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLE_IDS = {"editingteacher": 3, "teacher": 4, "student": 5}


@dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    idnumber: str = ""
    department: str = ""
    institution: str = ""
    city: str = ""
    country: str = ""
    auth: str = "manual"
    suspended: bool = False
    customfields: dict[str, str] = field(default_factory=dict)

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Course:
    id: int
    shortname: str
    fullname: str
    idnumber: str
    categoryid: int
    sortorder: int
    summary: str
    format: str
    startdate: int
    enddate: int
    timecreated: int
    visible: int = 1


@dataclass
class Enrolment:
    userid: int
    courseid: int
    role: str
    status: str = "active"  # or "suspended"


@dataclass
class Assignment:
    id: int
    cmid: int
    courseid: int
    name: str
    allowsubmissionsfromdate: int
    duedate: int
    cutoffdate: int
    gradingduedate: int
    timemodified: int
    submissiondrafts: int = 1
    markingworkflow: int = 0
    teamsubmission: int = 0
    requireallteammemberssubmit: int = 0
    teamsubmissiongroupingid: int = 0
    preventsubmissionnotingroup: int = 0
    requiresubmissionstatement: int = 0
    grade: int = 100


@dataclass
class Submission:
    id: int
    assignment: int
    userid: int
    status: str  # new, draft, submitted, reopened
    timecreated: int
    timemodified: int
    text: str = ""
    groupid: int = 0  # a team's submission has userid 0 and the team's group id


@dataclass
class Group:
    """A course group; `groupings` are the ids of the groupings it belongs to."""

    id: int
    courseid: int
    name: str
    members: list[int] = field(default_factory=list)
    groupings: list[int] = field(default_factory=list)


@dataclass
class Grade:
    id: int
    assignment: int
    userid: int
    grade: float | None  # None: a grade row opened but not marked, sent as "-1.00000"
    grader: int
    timecreated: int
    timemodified: int


@dataclass
class UserFlag:
    id: int
    assignment: int
    userid: int
    extensionduedate: int = 0
    workflowstate: str = ""
    locked: int = 0
    mailed: int = 0
    allocatedmarker: int = 0


@dataclass
class Override:
    """A per-student date override, visible only through mod_assign_get_participant."""

    assignment: int
    userid: int
    duedate: int | None = None
    cutoffdate: int | None = None
    allowsubmissionsfromdate: int | None = None


@dataclass
class Message:
    id: int
    useridfrom: int
    useridto: int
    text: str  # as stored: HTML
    fullmessage: str
    fullmessageformat: int
    fullmessagehtml: str
    timecreated: int
    conversationid: int
    clientmsgid: str | None = None


@dataclass
class Token:
    """A web-service token: whose it is, its service's functions, its system capabilities."""

    token: str
    userid: int
    service: str
    functions: list[str]
    capabilities: frozenset[str]
    siteadmin: bool = False
    denied_courses: set[int] = field(default_factory=set)

    def can(self, capability: str) -> bool:
        return "*" in self.capabilities or capability in self.capabilities

    def can_enter(self, courseid: int) -> bool:
        """Course context validation for a user enrolled nowhere: a system capability or nothing."""
        return courseid not in self.denied_courses and self.can("moodle/course:view")


@dataclass
class Site:
    sitename: str
    shortname: str
    release: str
    version: str
    max_input_vars: int = 5000
    maintenance: bool = False
    debug: bool = False
    url: str = "http://127.0.0.1"
