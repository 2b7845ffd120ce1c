"""What `check` proves about the integration user's access, by asking Moodle, sending nothing.

Core Moodle has no web-service function that lists a user's capabilities, so each read the
service depends on is made once against a real course and every refusal is collected (all of
them, not only the first); a student's name missing from the answer means reminders would be
addressed to "user N"; `core_message_get_member_info` answers Moodle's own "may this user
message that one?" without a message being sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.client.assignments import (
    get_assignments,
    get_grades,
    get_participant,
    get_submissions,
    get_user_flags,
)
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.client.messages import can_message, refusal_hint
from moodle_sync.client.models import EnrolledUser, Result
from moodle_sync.client.registry import FUNCTIONS
from moodle_sync.client.requester import Requester
from moodle_sync.errors import MoodleError

__all__ = ["AccessReport", "probe_access"]

NO_ACCESS = "1"  # mod_assign's warningcode for "No access rights in module context"
_SPECS = {spec.name: spec for spec in FUNCTIONS}


@dataclass
class AccessReport:
    course: str  # the idnumber probed
    problems: list[str] = field(default_factory=list)
    messaging: str = "not proved"  # "proved", or why not

    @property
    def ok(self) -> bool:
        return not self.problems


def probe_access(
    req: Requester, userid: int, course_id: int, idnumber: str, available: set[str]
) -> AccessReport:
    """Make each read once on `course_id`; name every refusal with the capabilities to grant."""
    report = AccessReport(idnumber)

    def attempt(function: str, read: Callable[[], Any]) -> Any:
        if function not in available:
            return None  # already named by the missing-function check
        needs = ", ".join(_SPECS[function].capabilities) or "no capability (see the reason)"
        try:
            answer = read()
        except MoodleError as exc:
            reason = exc.moodle_message or str(exc)
            report.problems.append(
                f"{function} refused on course {idnumber}: {reason} (the role needs: {needs})"
            )
            return None
        denied = [w for w in answer.warnings if w.warningcode == NO_ACCESS] if isinstance(
            answer, Result
        ) else []  # fmt: skip
        if denied:  # mod_assign refuses an assignment by a warning, inside a successful call
            reasons = "; ".join(w.message for w in denied)
            report.problems.append(
                f"{function} left data out on course {idnumber}: {reasons} "
                f"(the role needs: {needs})"
            )
        return answer

    listed = attempt("core_enrol_get_enrolled_users", lambda: get_enrolled_users(req, course_id))
    people: list[EnrolledUser] = (listed.items or []) if listed else []
    students = [p for p in people if any(r.shortname == "student" for r in p.roles)]
    nameless = [s.id for s in students if not (s.firstname or s.lastname)]
    if nameless:
        report.problems.append(
            f"students' names are hidden from the integration user (user ids {nameless[:5]}): "
            "grant moodle/site:viewfullnames, or reminders say 'Dear user N'"
        )
    found = attempt("mod_assign_get_assignments", lambda: get_assignments(req, [course_id]))
    assignment = next(iter(found.data), None) if found else None
    if assignment is not None:
        ids = [assignment.id]
        attempt("mod_assign_get_submissions", lambda: get_submissions(req, ids))
        attempt("mod_assign_get_user_flags", lambda: get_user_flags(req, ids))
        attempt("mod_assign_get_grades", lambda: get_grades(req, ids))
        if students:
            first = students[0].id
            attempt("mod_assign_get_participant",
                    lambda: get_participant(req, assignment.id, first))  # fmt: skip
    report.messaging = _prove_messaging(req, userid, [s.id for s in students], available)
    if report.messaging != "proved":
        report.problems.append(f"messaging: {report.messaging}")
    return report


def _prove_messaging(req: Requester, userid: int, students: list[int], available: set[str]) -> str:
    if "core_message_get_member_info" not in available:
        return ("cannot prove the integration user may message students without sending one: "
                "add core_message_get_member_info to the service")  # fmt: skip
    if not students:
        return "cannot prove it: the probed course has no student"
    try:
        allowed = can_message(req, userid, students[:1])
    except MoodleError as exc:
        return f"Moodle refused the question: {exc.moodle_message or exc}"
    if allowed.get(students[0]):
        return "proved"
    hint = refusal_hint("due to their message preferences")
    return f"Moodle says the integration user may not message student {students[0]}: {hint}"
