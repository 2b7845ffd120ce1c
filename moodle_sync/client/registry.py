"""Every web-service function moodle-sync calls, what it needs, and why.

``moodle-sync check`` compares this list with the token's service (site info's ``functions``)
and the admin guide's function and capability tables are generated from it, so neither can
drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FUNCTIONS",
    "PLUGIN_FUNCTIONS",
    "Capability",
    "FunctionSpec",
    "missing_functions",
    "render_admin_guide",
]


@dataclass(frozen=True)
class Capability:
    """A capability whose absence Moodle does not report: the answer just lacks data.

    Each was found on a real site, by comparing the role's answers with an administrator's
    (tests/live/test_role.py); ``symptom`` says what goes wrong without it.
    """

    name: str
    symptom: str


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: Literal["read", "write"]
    capabilities: tuple[str, ...]
    purpose: str
    silent: tuple[Capability, ...] = ()  # needed too, but nothing fails without them


_COURSE = ("moodle/course:view",)  # enter courses the integration user is not enrolled in
_SUSPENDED = Capability(
    "moodle/course:viewsuspendedusers",
    "without it mod_assign_get_submissions silently leaves out the submissions of students "
    "whose enrolment is suspended in that course",
)
_FULLNAMES = Capability(
    "moodle/site:viewfullnames",
    "without it user records come back without firstname and lastname, and every reminder "
    "says 'Dear user 7'",
)
FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("core_webservice_get_site_info", "read", (),
                 "handshake: site version and the functions this token may call"),
    FunctionSpec("core_course_get_courses_by_field", "read",
                 (*_COURSE, "moodle/course:viewhiddencourses"),
                 "find the programme's courses by idnumber, one lookup per course"),
    FunctionSpec("core_enrol_get_enrolled_users", "read",
                 (*_COURSE, "moodle/course:viewparticipants", "moodle/site:accessallgroups",
                  "moodle/user:viewdetails", "moodle/site:viewuseridentity"),
                 "students and staff of each course, with roles and enrolment status",
                 (_FULLNAMES,)),
    FunctionSpec("mod_assign_get_assignments", "read", (*_COURSE, "mod/assign:view"),
                 "assignments with due, cut-off, grading-due and allow-from dates"),
    FunctionSpec("mod_assign_get_submissions", "read",
                 (*_COURSE, "mod/assign:viewgrades", "moodle/site:accessallgroups"),
                 "who submitted what, and when", (_SUSPENDED,)),
    FunctionSpec("mod_assign_get_user_flags", "read", (*_COURSE, "mod/assign:grade"),
                 "extensions and marking-workflow state (whether a grade is released)"),
    FunctionSpec("mod_assign_get_grades", "read", (*_COURSE, "mod/assign:viewgrades"),
                 "marks, for progression and credits"),
    FunctionSpec("mod_assign_get_participant", "read",
                 (*_COURSE, "mod/assign:view", "mod/assign:viewgrades"),
                 "one student's own due and cut-off dates, overrides applied"),
    FunctionSpec("core_user_get_users_by_field", "read",
                 ("moodle/user:viewdetails", "moodle/user:viewalldetails",
                  "moodle/site:viewuseridentity"),
                 "read students' progression profile fields back after writing them",
                 (_FULLNAMES,)),
    FunctionSpec("core_message_get_messages", "read", (),
                 "list what the integration user sent, to settle an in-doubt send"),
    FunctionSpec("core_user_update_users", "write", ("moodle/user:update",),
                 "write progression status and credits into custom profile fields"),
    FunctionSpec("core_message_get_member_info", "read", (),
                 "check proves the integration user may message a student, sending nothing"),
    FunctionSpec("core_message_send_instant_messages", "write",
                 ("moodle/site:sendmessage", "moodle/site:readallmessages"),
                 "send reminders; readallmessages lets a user who shares no course message "
                 "students despite their message preferences"),
)  # fmt: skip


# local_cetadsync's own functions: used when the token's service has them (see sitepath.py),
# never required. Each checks its own plugin capability (the plugin grants those itself, so
# worker_needs.php leaves them out) and, per course or assignment, at least what the core
# function it replaces checks (local_cetadsync/README.md, "Security read"): those core
# capabilities are the role's too.
_PLUGIN = "local/cetadsync:"
PLUGIN_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("local_cetadsync_get_courses", "read",
                 (f"{_PLUGIN}readenrolments", *_COURSE, "moodle/course:viewhiddencourses"),
                 "every mapped course by idnumber, idnumbers included, in one call"),
    FunctionSpec("local_cetadsync_get_enrolments", "read",
                 (f"{_PLUGIN}readenrolments", *_COURSE, "moodle/course:viewparticipants",
                  "moodle/course:enrolreview", "moodle/user:viewdetails",
                  "moodle/site:accessallgroups"),
                 "every mapped course's enrolments with status, in one call"),
    FunctionSpec("local_cetadsync_get_effective_dates", "read",
                 (f"{_PLUGIN}readdates", *_COURSE, "mod/assign:view", "mod/assign:viewgrades"),
                 "every student's own dates, in bulk and incrementally (since)"),
    FunctionSpec("local_cetadsync_get_assignment_records", "read",
                 (f"{_PLUGIN}readrecords", *_COURSE, "mod/assign:view", "mod/assign:viewgrades",
                  "mod/assign:grade", "moodle/site:accessallgroups"),
                 "submissions, grades (since) and user flags of every mapped course in one call",
                 (_SUSPENDED,)),
    FunctionSpec("local_cetadsync_send_notifications", "write",
                 (f"{_PLUGIN}sendnotifications",),
                 "send reminders as notifications, at most once per outbox key"),
    FunctionSpec("local_cetadsync_get_delivered", "read", (f"{_PLUGIN}sendnotifications",),
                 "settle an in-doubt send exactly, by outbox key"),
    FunctionSpec("local_cetadsync_save_progression", "write", (f"{_PLUGIN}saveprogression",),
                 "store each participant's progression record in Moodle"),
)  # fmt: skip


def missing_functions(available: Iterable[str]) -> list[FunctionSpec]:
    """The functions moodle-sync needs that the token's service does not expose."""
    have = set(available)
    return [spec for spec in FUNCTIONS if spec.name not in have]


def all_capabilities() -> list[str]:
    """Every core capability the integration user's system role needs, sorted, plus the REST
    one: the core functions', and those the plugin's functions check besides their own."""
    specs = (*FUNCTIONS, *PLUGIN_FUNCTIONS)
    caps = {cap for spec in specs for cap in spec.capabilities if not cap.startswith(_PLUGIN)}
    return sorted(caps | set(silent_capabilities()) | {"webservice/rest:use"})


def silent_capabilities() -> dict[str, str]:
    """The capabilities whose absence only hides data, each with its symptom."""
    return {cap.name: cap.symptom for spec in FUNCTIONS for cap in spec.silent}


def _capability_line(name: str) -> str:
    symptom = silent_capabilities().get(name)
    return f"- `{name}`: {symptom}" if symptom else f"- `{name}`"


def render_admin_guide() -> str:
    """The generated part of ``docs/admin-guide.md``: the function and capability lists."""
    lines = [
        "<!-- generated by moodle_sync.client.registry.render_admin_guide(); do not edit -->",
        "### Functions to add to the external service",
        "",
        "| Function | Kind | Why moodle-sync calls it |",
        "|---|---|---|",
        *(f"| `{s.name}` | {s.kind} | {s.purpose} |" for s in FUNCTIONS),
        "",
        "### Capabilities to allow in the integration user's system role",
        "",
        "Moodle reports most missing capabilities as errors; those with a note below it does",
        "not: the answer just lacks data, so each note says what goes wrong without it.",
        "",
        *(_capability_line(cap) for cap in all_capabilities()),
        "<!-- end of generated section -->",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_admin_guide(), end="")
