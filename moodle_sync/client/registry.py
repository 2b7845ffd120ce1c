"""Every web-service function moodle-sync calls, what it needs, on which path, and why.

Two paths (client/sitepath.py): `core`, a site set up by hand (admin guide, Part 1 by hand),
and `plugin`, a site with local_cetadsync, whose cli/setup.php builds the role. Each function
says which paths call it, so each path's role holds only what that path needs: the plugin path
writes profile values and settles messages through the plugin, and its role holds neither
`moodle/user:update` nor `moodle/site:readallmessages`.

``moodle-sync check`` compares the path's functions with the token's service (site info's
``functions``); the admin guide's lists and the plugin's worker_needs.php are generated from
here, so none of them can drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FUNCTIONS",
    "PATHS",
    "PLUGIN_FUNCTIONS",
    "Capability",
    "FunctionSpec",
    "PathName",
    "all_capabilities",
    "functions_for",
    "missing_functions",
    "render_admin_guide",
    "role_capabilities",
]

PathName = Literal["core", "plugin"]
PATHS: tuple[PathName, ...] = ("core", "plugin")
_BOTH: tuple[PathName, ...] = PATHS


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
    paths: tuple[PathName, ...] = ("core",)  # the paths that call it


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
                 "handshake: site version and the functions this token may call", paths=_BOTH),
    FunctionSpec("core_course_get_courses_by_field", "read",
                 (*_COURSE, "moodle/course:viewhiddencourses"),
                 "find the programme's courses by idnumber, one lookup per course"),
    FunctionSpec("core_enrol_get_enrolled_users", "read",
                 (*_COURSE, "moodle/course:viewparticipants", "moodle/site:accessallgroups",
                  "moodle/user:viewdetails", "moodle/site:viewuseridentity"),
                 "students and staff of each course, with roles and enrolment status",
                 (_FULLNAMES,)),
    FunctionSpec("mod_assign_get_assignments", "read", (*_COURSE, "mod/assign:view"),
                 "assignments with due, cut-off, grading-due and allow-from dates", paths=_BOTH),
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
                 "students' names, and their progression profile fields read back",
                 (_FULLNAMES,), paths=_BOTH),
    FunctionSpec("core_message_get_messages", "read", (),
                 "list what the integration user sent, to settle an in-doubt send"),
    FunctionSpec("core_user_update_users", "write", ("moodle/user:update",),
                 "write progression status and credits into custom profile fields; "
                 "moodle/user:update lets the token change any account but an administrator's "
                 "(email, password, authentication)"),
    FunctionSpec("core_message_get_member_info", "read", (),
                 "check proves the integration user may message a student, sending nothing"),
    FunctionSpec("core_message_send_instant_messages", "write",
                 ("moodle/site:sendmessage", "moodle/site:readallmessages"),
                 "send reminders; readallmessages lets a user who shares no course message "
                 "students despite their message preferences, and read every user's private "
                 "conversations"),
)  # fmt: skip


# local_cetadsync's own functions: the plugin path uses them when the token's service has every
# one (see sitepath.py), with the core functions above marked for both paths. Each lists the
# core capabilities its checks need too: per course or assignment each checks at least what
# the core function it replaces checks (local_cetadsync/README.md, "Security read").
_SAVE = ("local/cetadsync:saveprogression",)
PLUGIN_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("local_cetadsync_get_courses", "read",
                 ("local/cetadsync:readenrolments", *_COURSE, "moodle/course:viewhiddencourses"),
                 "every mapped course by idnumber, idnumbers included, in one call",
                 paths=("plugin",)),
    FunctionSpec("local_cetadsync_get_enrolments", "read",
                 ("local/cetadsync:readenrolments", *_COURSE, "moodle/course:viewparticipants",
                  "moodle/course:enrolreview", "moodle/user:viewdetails",
                  "moodle/site:accessallgroups"),
                 "every mapped course's enrolments with status, in one call", paths=("plugin",)),
    FunctionSpec("local_cetadsync_get_effective_dates", "read",
                 ("local/cetadsync:readdates", *_COURSE, "mod/assign:view",
                  "mod/assign:viewgrades"),
                 "every student's own dates, in bulk and incrementally (since)",
                 paths=("plugin",)),
    FunctionSpec("local_cetadsync_get_assignment_records", "read",
                 ("local/cetadsync:readrecords", *_COURSE, "mod/assign:view",
                  "mod/assign:viewgrades", "mod/assign:grade", "moodle/site:accessallgroups"),
                 "submissions, grades (since) and user flags of every mapped course in one call",
                 (_SUSPENDED,), paths=("plugin",)),
    FunctionSpec("local_cetadsync_send_notifications", "write",
                 ("local/cetadsync:sendnotifications",),
                 "send reminders as notifications, at most once per outbox key",
                 paths=("plugin",)),
    FunctionSpec("local_cetadsync_get_delivered", "read", ("local/cetadsync:sendnotifications",),
                 "settle an in-doubt send exactly, by outbox key", paths=("plugin",)),
    FunctionSpec("local_cetadsync_save_progression", "write", _SAVE,
                 "store each participant's progression record in Moodle", paths=("plugin",)),
    FunctionSpec("local_cetadsync_save_profile_values", "write", _SAVE,
                 "write the two progression profile fields of students in the programme, and "
                 "nothing else", paths=("plugin",)),
    FunctionSpec("local_cetadsync_get_profile_fields", "read", _SAVE,
                 "check reads the progression fields' definitions: missing, unlocked, shown "
                 "to everyone", paths=("plugin",)),
)  # fmt: skip


def functions_for(path: PathName) -> list[FunctionSpec]:
    """Every function the worker calls on `path`: core ones, then the plugin's."""
    return [spec for spec in (*FUNCTIONS, *PLUGIN_FUNCTIONS) if path in spec.paths]


def missing_functions(available: Iterable[str], path: PathName = "core") -> list[FunctionSpec]:
    """The functions `path` needs that the token's service does not expose."""
    have = set(available)
    return [spec for spec in functions_for(path) if spec.name not in have]


def role_capabilities(path: PathName) -> list[str]:
    """Every capability the integration user's system role needs on `path`, sorted, with the
    REST one: the by-hand role (core) or the one cli/setup.php makes (plugin)."""
    specs = functions_for(path)
    caps = {cap for spec in specs for cap in spec.capabilities}
    silent = {cap.name for spec in specs for cap in spec.silent}
    return sorted(caps | silent | {"webservice/rest:use"})


def all_capabilities() -> list[str]:
    """The by-hand role: every capability the core path needs (role_capabilities("core"))."""
    return role_capabilities("core")


def silent_capabilities() -> dict[str, str]:
    """The capabilities whose absence only hides data, each with its symptom."""
    return {cap.name: cap.symptom for spec in FUNCTIONS for cap in spec.silent}


def _capability_line(name: str) -> str:
    symptom = silent_capabilities().get(name)
    return f"- `{name}`: {symptom}" if symptom else f"- `{name}`"


def render_admin_guide() -> str:
    """The generated part of ``docs/admin-guide.md``: the by-hand (core path) function and
    capability lists, and what the plugin's role holds instead."""
    core_only = sorted(set(role_capabilities("core")) - set(role_capabilities("plugin")))
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
        "",
        "### The role `cli/setup.php` makes (the plugin path)",
        "",
        "With local_cetadsync the role holds exactly these; it does not hold "
        + ", ".join(f"`{cap}`" for cap in core_only)
        + ", which only the by-hand path needs.",
        "",
        *(f"- `{cap}`" for cap in role_capabilities("plugin")),
        "<!-- end of generated section -->",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_admin_guide(), end="")
