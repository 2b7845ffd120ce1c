"""What `check` proves about the integration user's access, by asking Moodle, sending nothing.

Core Moodle has no web-service function that lists a user's capabilities, so each read the
path depends on is made once against a real course and every refusal is collected (all of
them, not only the first); a student's name missing from the answer means reminders would be
addressed to "user N". On the core path `core_message_get_member_info` answers Moodle's own
"may this user message that one?" without a message being sent; on the plugin path reminders
are notifications from the site, which each student's own preferences decide, so there is
nothing of the role's to prove.
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
from moodle_sync.client.cetadsync import (
    get_assignment_records,
    get_effective_dates,
    get_enrolments,
)
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.client.messages import can_message, refusal_hint
from moodle_sync.client.models import EnrolledUser, MoodleWarning, Result
from moodle_sync.client.registry import FUNCTIONS, PLUGIN_FUNCTIONS
from moodle_sync.client.requester import Requester
from moodle_sync.client.users import get_users_by_field
from moodle_sync.errors import MoodleError

__all__ = ["PLUGIN_MESSAGING", "AccessReport", "probe_access", "probe_plugin_access"]

NO_ACCESS = "1"  # mod_assign's warningcode for "No access rights in module context"
_SPECS = {spec.name: spec for spec in (*FUNCTIONS, *PLUGIN_FUNCTIONS)}
PLUGIN_MESSAGING = "notifications through local_cetadsync: each student's preferences decide"


@dataclass
class AccessReport:
    course: str  # the idnumber probed
    problems: list[str] = field(default_factory=list)
    messaging: str = "not proved"  # "proved", or why not

    @property
    def ok(self) -> bool:
        return not self.problems


Attempt = Callable[[str, Callable[[], Any]], Any]


def _attempter(report: AccessReport, available: set[str]) -> Attempt:
    """Make one read; a refusal, or a warning that data was left out, becomes a problem naming
    the capabilities the role needs for that function."""
    idnumber = report.course

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
        denied = _left_out(answer)
        if denied:  # a refusal by a warning, inside a successful call
            reasons = "; ".join(w.message or w.warningcode for w in denied)
            report.problems.append(
                f"{function} left data out on course {idnumber}: {reasons} "
                f"(the role needs: {needs})"
            )
        return answer

    return attempt


def _left_out(answer: Any) -> list[MoodleWarning]:
    """mod_assign's "no access" warnings; every warning of the plugin's reads (each is an item
    the caller may not read)."""
    if isinstance(answer, Result):
        return [w for w in answer.warnings if w.warningcode == NO_ACCESS]
    if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[1], list):
        return [w for w in answer[1] if isinstance(w, MoodleWarning)]
    warnings = getattr(answer, "warnings", None)
    return list(warnings) if isinstance(warnings, list) else []


def probe_access(
    req: Requester, userid: int, course_id: int, idnumber: str, available: set[str]
) -> AccessReport:
    """Make each core read once on `course_id`; name every refusal with the capabilities to
    grant; prove the integration user may message a student."""
    report = AccessReport(idnumber)
    attempt = _attempter(report, available)
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


def probe_plugin_access(
    req: Requester, course_id: int, idnumber: str, available: set[str]
) -> AccessReport:
    """Make each read of the plugin path once on `course_id` (enrolments, assignments, their
    records and own dates, a student's name), naming every refusal with the capabilities to
    grant. Messaging has nothing of the role's to prove: notifications come from the site."""
    report = AccessReport(idnumber, messaging=PLUGIN_MESSAGING)
    attempt = _attempter(report, available)
    enrolments = attempt("local_cetadsync_get_enrolments", lambda: get_enrolments(req, [course_id]))
    listing = enrolments[0].get(course_id) if enrolments else None
    rows = (listing.items or []) if listing else []
    students = sorted({r.userid for r in rows if any(x.shortname == "student" for x in r.roles)})
    found = attempt("mod_assign_get_assignments", lambda: get_assignments(req, [course_id]))
    attempt("local_cetadsync_get_assignment_records",
            lambda: get_assignment_records(req, {course_id: None}))  # fmt: skip
    assignment = next(iter(found.data), None) if found else None
    if assignment is not None:
        attempt("local_cetadsync_get_effective_dates",
                lambda: get_effective_dates(req, [assignment.id]))  # fmt: skip
    if students:
        named = attempt("core_user_get_users_by_field",
                        lambda: get_users_by_field(req, "id", students[:1]))  # fmt: skip
        if named is not None and not any(u.firstname or u.lastname for u in named):
            report.problems.append(
                f"students' names are hidden from the integration user (user id {students[0]}): "
                "grant moodle/site:viewfullnames, or reminders say 'Dear user N'"
            )
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
