"""What `check` proves about the integration user's access, by asking Moodle, sending nothing.

Core Moodle has no web-service function that lists a user's capabilities, so each read the
path depends on is made once against a real course and every refusal is collected (all of
them, not only the first); a student's name missing from the answer means reminders would be
addressed to "user N". On the core path `core_message_get_member_info` answers Moodle's own
"may this user message that one?" without a message being sent; on the plugin path reminders
are notifications from the site, which each student's own preferences decide, so there is
nothing of the role's to prove. Each path's reads are probed by its source (`Source.probe`);
what they share is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.client.messages import can_message, refusal_hint
from moodle_sync.client.models import MoodleWarning, Result
from moodle_sync.client.registry import FUNCTIONS, PLUGIN_FUNCTIONS
from moodle_sync.client.requester import Requester
from moodle_sync.errors import MoodleError

__all__ = ["AccessReport", "attempter", "prove_messaging"]

NO_ACCESS = "1"  # mod_assign's warningcode for "No access rights in module context"
_SPECS = {spec.name: spec for spec in (*FUNCTIONS, *PLUGIN_FUNCTIONS)}


@dataclass
class AccessReport:
    course: str  # the idnumber probed
    problems: list[str] = field(default_factory=list)
    messaging: str = "not proved"  # "proved", or why not

    @property
    def ok(self) -> bool:
        return not self.problems


Attempt = Callable[[str, Callable[[], Any]], Any]


def attempter(report: AccessReport, available: set[str]) -> Attempt:
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


def prove_messaging(req: Requester, userid: int, students: list[int], available: set[str]) -> str:
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
