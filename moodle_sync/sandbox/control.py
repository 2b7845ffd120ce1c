"""The sandbox's own HTTP endpoints, for a process that did not start it in-process.

    POST /sandbox/faults  a FaultPlan as JSON ({} clears every fault)
    POST /sandbox/clock   {"now": epoch} or {"advance": seconds}
    POST /sandbox/mutate  {"op": "submit", "assignid": 3, "userid": 5, ...}

Each answers JSON; a bad request is HTTP 400 with {"error": what failed and what to send}.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from moodle_sync.sandbox.dispatch import Reply
from moodle_sync.sandbox.faults import FaultPlan
from moodle_sync.sandbox.state import SiteState

JSON = "application/json"
# The state's mutators a remote process may call, by op name (see SiteState for each).
MUTATIONS = (
    "submit",
    "grade",
    "set_workflow_state",
    "grant_extension",
    "remove_extension",
    "move_due_date",
    "override_due_date",
    "suspend_enrolment",
    "unenrol",
    "delete_assignment",
    "revoke_course_access",
    "set_maintenance",
    "add_group",
    "add_course",
    "set_course_idnumber",
    "enrol",
    "add_assignment",
    "set_team_submission",
    "privacy_delete",
)


class ControlError(ValueError):
    """A control request the sandbox cannot act on; its message goes back in the 400."""


def answer(value: Any, status: int = 200) -> Reply:
    return Reply(status, JSON, json.dumps(value).encode())


def refuse(error: ControlError) -> Reply:
    return answer({"error": str(error)}, 400)


def read_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ControlError(f"the body is not JSON ({exc}): send a JSON object") from exc
    if not isinstance(body, dict):
        raise ControlError(f"the body is a {type(body).__name__}: send a JSON object")
    return body


def read_plan(raw: bytes) -> FaultPlan:
    try:
        return FaultPlan.model_validate(read_json(raw))
    except ValidationError as exc:
        raise ControlError(f"not a fault plan: {exc}") from exc


def set_clock(state: SiteState, raw: bytes) -> Reply:
    body = read_json(raw)
    if set(body) not in ({"now"}, {"advance"}) or type(_one(body)) is not int:
        raise ControlError(
            f"clock takes {{'now': epoch}} or {{'advance': seconds}} (integers), got {body!r}"
        )
    if "now" in body:
        state.set_clock(body["now"])
    else:
        state.advance_clock(body["advance"])
    return answer({"now": state.clock()})


def mutate(state: SiteState, raw: bytes) -> Reply:
    body = read_json(raw)
    op = body.pop("op", None)
    if op not in MUTATIONS:
        raise ControlError(f"unknown op {op!r}: use one of {', '.join(MUTATIONS)}")
    method: Callable[..., None] = getattr(state, op)
    try:
        inspect.signature(method).bind(**body)
    except TypeError as exc:
        expected = ", ".join(inspect.signature(method).parameters)
        raise ControlError(f"{op}: {exc}; it takes {expected}") from exc
    try:
        method(**body)
    except KeyError as exc:
        raise ControlError(f"{op} {body!r}: no such row ({exc})") from exc
    return answer({"op": op, "now": state.clock()})


def _one(body: dict[str, Any]) -> Any:
    return next(iter(body.values()))
