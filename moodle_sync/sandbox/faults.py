"""Faults a real Moodle (or what stands in front of it) produces, injected by a seeded plan.

A `FaultPlan` is a seed, a latency added to every REST answer, and rules; per request the first
rule that matches the function, is past its `after_calls`, still has `times` left and wins its
`probability` draw (from `random.Random(seed)`, so a sequential client sees the same faults on
every run) decides the fault. Every injected fault is counted by kind in `FaultInjector.counts`.

Kinds that change the site (`revoke_token`, `course_inaccessible`) change it for good and then
answer the call normally; `truncated`, `lost_answer` and `slow_answer` run the call first, so
on a write the message or profile change IS stored and the client cannot know it: the in-doubt
outcome.

The kill kinds SIGKILL the process that made the call (found by its socket, see peer.py), as a
crash would, from outside its code: before the call runs, while it runs (it still completes),
or after it ran but before the answer. A caller in the sandbox's own process, or one that
cannot be found, is not killed; its call is dropped the same way.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from moodle_sync.sandbox.dispatch import Drop, Reply, RestCall
from moodle_sync.sandbox.errors import WsError
from moodle_sync.sandbox.pages import cli_maintenance, login_page
from moodle_sync.sandbox.peer import caller_pid
from moodle_sync.sandbox.render import JSON_TYPE, XML_TYPE, json_body, xml_error

WRITE_FUNCTIONS = frozenset(
    {
        "core_message_send_instant_messages",
        "core_user_update_users",
        "mod_assign_save_user_extensions",
        "local_cetadsync_send_notifications",
        "local_cetadsync_save_progression",
    }
)
SITE_MAINTENANCE = WsError(
    "moodle_exception",
    "sitemaintenance",
    "The site is undergoing maintenance and is currently not available",
)


class FaultKind(StrEnum):
    LATENCY = "latency"  # the rule's delay_ms, then the normal answer
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    CLI_MAINTENANCE = "cli_maintenance"  # HTTP 503, HTML page, Retry-After: 300
    SITE_MAINTENANCE = "sitemaintenance"  # the error envelope in HTTP 200
    RESET = "reset"  # connection closed, nothing answered
    HANG = "hang"  # nothing answered for hang_seconds, then closed
    TRUNCATED = "truncated"  # the real answer cut in half
    LOGIN_PAGE = "login_page"  # HTTP 200 with an HTML login page
    REVOKE_TOKEN = "revoke_token"  # invalidtoken from this call on
    COURSE_INACCESSIBLE = "course_inaccessible"  # the token loses a course from this call on
    LOST_ANSWER = "lost_answer"  # a write applied, then the connection closed
    SLOW_ANSWER = "slow_answer"  # the call runs, then nothing answered for hang_seconds
    KILL_BEFORE = "kill_before"  # the caller SIGKILLed as its call arrives: nothing runs
    KILL_DURING = "kill_during"  # the caller SIGKILLed, then its call runs to the end
    KILL_AFTER = "kill_after"  # the call runs, then the caller is SIGKILLed unanswered


KILLS = frozenset({FaultKind.KILL_BEFORE, FaultKind.KILL_DURING, FaultKind.KILL_AFTER})


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    function: str = "*"
    kind: FaultKind
    probability: float = Field(1.0, ge=0, le=1)
    after_calls: int | None = Field(None, ge=0, description="matching calls that pass first")
    times: int | None = Field(None, ge=1, description="at most this many injections")
    delay_ms: int = Field(1000, ge=0, description="for latency")
    courseid: int | None = Field(None, description="for course_inaccessible; default: the call's")

    @model_validator(mode="after")
    def _lost_answer_needs_a_write(self) -> FaultRule:
        named_read = self.function != "*" and self.function not in WRITE_FUNCTIONS
        if self.kind is FaultKind.LOST_ANSWER and named_read:
            raise ValueError(
                f"lost_answer is for write functions, not {self.function!r}: use one of "
                f"{sorted(WRITE_FUNCTIONS)} or '*' (which then only fires on writes)"
            )
        return self

    def applies_to(self, function: str) -> bool:
        if self.kind is FaultKind.LOST_ANSWER and function not in WRITE_FUNCTIONS:
            return False
        return self.function in ("*", function)


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    latency_ms: int = Field(0, ge=0, description="added to every REST answer")
    hang_seconds: float = Field(90.0, gt=0, description="longer than the client's read timeout")
    rules: list[FaultRule] = []


_PLAIN = {
    FaultKind.HTTP_500: (500, b"Internal Server Error"),
    FaultKind.HTTP_502: (502, b"Bad Gateway"),
    FaultKind.HTTP_503: (503, b"Service Unavailable"),
}


class FaultInjector:
    """Installed as the server's fault hook; decides and applies the plan's faults."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.counts: Counter[str] = Counter()
        self._random = random.Random(plan.seed)
        self._seen = [0] * len(plan.rules)
        self._fired = [0] * len(plan.rules)
        self._lock = threading.Lock()
        self._released = threading.Event()

    def intercept(self, call: RestCall, proceed: Callable[[], Reply]) -> Reply | Drop:
        if self.plan.latency_ms:
            self.pause(self.plan.latency_ms / 1000)
        rule = self._choose(call.function)
        return proceed() if rule is None else self._apply(rule, call, proceed)

    def pause(self, seconds: float) -> None:
        """Sleep, unless `release()` was called (the server is stopping or the plan changed)."""
        self._released.wait(seconds)

    def release(self) -> None:
        """Wake every hanging or sleeping request now."""
        self._released.set()

    def _apply(self, rule: FaultRule, call: RestCall, proceed: Callable[[], Reply]) -> Reply | Drop:
        kind, sitename = rule.kind, call.state.site.sitename
        if kind in _PLAIN:
            status, text = _PLAIN[kind]
            return Reply(status, "text/plain; charset=utf-8", text, call.function)
        match kind:
            case FaultKind.LATENCY:
                self.pause(rule.delay_ms / 1000)
            case FaultKind.CLI_MAINTENANCE:
                return cli_maintenance(sitename, call.function)
            case FaultKind.SITE_MAINTENANCE:
                return _site_maintenance(call, proceed)
            case FaultKind.HANG:
                self.pause(self.plan.hang_seconds)
                return Drop()
            case FaultKind.TRUNCATED:
                return _truncated(proceed())
            case FaultKind.LOGIN_PAGE:
                return login_page(sitename, call.function)
            case FaultKind.REVOKE_TOKEN:
                _revoke_token(call)
            case FaultKind.COURSE_INACCESSIBLE:
                self._take_course(rule, call)
            case FaultKind.LOST_ANSWER:
                proceed()
                return Drop()
            case FaultKind.SLOW_ANSWER:
                proceed()
                self.pause(self.plan.hang_seconds)
                return Drop()
            case FaultKind.KILL_BEFORE:
                _kill_caller(call)
                return Drop()
            case FaultKind.KILL_DURING | FaultKind.KILL_AFTER:
                return _kill_around(kind, call, proceed)
            case FaultKind.RESET:
                return Drop()
        return proceed()

    def _take_course(self, rule: FaultRule, call: RestCall) -> None:
        """Deny the token one course: the rule's, the one the call reads, or one at random."""
        if call.token not in call.state.tokens:
            return
        courseid = rule.courseid or _course_of(call)
        if courseid is None:
            courses = sorted(c.id for c in call.state.courses.values() if c.format != "site")
            with self._lock:
                courseid = self._random.choice(courses)
        call.state.revoke_course_access(call.token, courseid)

    def _choose(self, function: str) -> FaultRule | None:
        with self._lock:
            for i, rule in enumerate(self.plan.rules):
                if not rule.applies_to(function):
                    continue
                self._seen[i] += 1
                if rule.after_calls is not None and self._seen[i] <= rule.after_calls:
                    continue
                if rule.times is not None and self._fired[i] >= rule.times:
                    continue
                if self._random.random() < rule.probability:
                    self._fired[i] += 1
                    self.counts[rule.kind.value] += 1
                    return rule
        return None


def _kill_around(kind: FaultKind, call: RestCall, proceed: Callable[[], Reply]) -> Drop:
    if kind is FaultKind.KILL_DURING:
        _kill_caller(call)
    proceed()
    if kind is FaultKind.KILL_AFTER:
        _kill_caller(call)
    return Drop()


def _kill_caller(call: RestCall) -> None:
    """SIGKILL the process at the other end of the call's connection (never this one)."""
    if call.client is None or call.server is None:
        return
    pid = caller_pid(call.client, call.server)
    if pid is not None and pid != os.getpid():
        os.kill(pid, signal.SIGKILL)


def _site_maintenance(call: RestCall, proceed: Callable[[], Reply]) -> Reply:
    if call.token not in call.state.tokens:
        return proceed()  # Moodle checks the token before maintenance
    if call.as_json:
        return Reply(200, JSON_TYPE, json_body(SITE_MAINTENANCE.envelope()), call.function)
    return Reply(200, XML_TYPE, xml_error(SITE_MAINTENANCE), call.function)


def _truncated(real: Reply) -> Reply:
    return Reply(real.status, real.content_type, real.body[: len(real.body) // 2], real.function)


def _revoke_token(call: RestCall) -> None:
    """Delete the token row, as Moodle does when a token expires or an admin deletes it."""
    with call.state.lock:
        call.state.tokens.pop(call.token, None)


def _course_of(call: RestCall) -> int | None:
    """The course a call reads, from `courseid`, `courseids[0]` or its first assignment."""
    params = call.decoded()
    courses = [params.get("courseid"), *_firsts(params, "courseids")]
    assigns = [params.get("assignid"), params.get("assignmentid")]
    for raw in [*assigns, *_firsts(params, "assignmentids")]:
        assign = call.state.assignments.get(_as_int(raw))
        courses.append(assign.courseid if assign else None)
    return next((c for c in map(_as_int, courses) if c in call.state.courses), None)


def _as_int(value: Any) -> int:
    return int(value) if str(value).isdigit() else -1


def _firsts(params: dict[str, Any], name: str) -> list[Any]:
    values = params.get(name)
    return list(values.values())[:1] if isinstance(values, dict) else []
