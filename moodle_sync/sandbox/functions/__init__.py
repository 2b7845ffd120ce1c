"""Every web-service function the sandbox answers, by name."""

from __future__ import annotations

from moodle_sync.sandbox.functions import (
    assignments,
    cetadsync,
    courses,
    enrolments,
    grading,
    messages,
    site,
    users,
)
from moodle_sync.sandbox.functions.base import Call, WsFunction

REGISTRY: dict[str, WsFunction] = {
    fn.name: fn
    for module in (site, courses, enrolments, assignments, grading, users, messages, cetadsync)
    for fn in module.FUNCTIONS
}

__all__ = ["REGISTRY", "Call", "WsFunction"]
