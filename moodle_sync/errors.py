"""Every error moodle-sync raises, grouped by what the caller should do about it.

::

    MoodleSyncError                  base: anything this package raises on purpose
    ├── ConfigurationError           settings are wrong; .problems lists every one. Fix and rerun.
    │   ├── ProgrammeError           the programme file cannot be used (exit 2)
    │   ├── RulesInputError          a `rules evaluate` input document is invalid (exit 2)
    │   └── ScopeError               an unknown course or user was asked for (exit 2)
    ├── TemplateError                a message template is missing or broken: fix the file
    ├── RequestTooLargeError         a request would exceed moodle.max_input_vars (a bug: chunk it)
    ├── SafetyValveError             more messages due than one run may send; nothing sent (exit 5)
    ├── LockHeldError                another run holds the pipeline lock (exit 4)
    └── MoodleError                  Moodle (or the network in front of it) refused a call;
        │                            carries .function, .errorcode, .http_status, .moodle_message
        ├── RetriableError           try again later: connection errors, timeouts, HTTP 5xx/429,
        │                            the 503 maintenance page, sitemaintenance, upgraderunning
        ├── FatalError               stop the run, an administrator must act: invalidtoken,
        │   │                        accessexception, nopermissions, invalidparameter, ...
        │   ├── NotMoodleError       the URL does not answer like a Moodle web-service endpoint
        │   └── UnexpectedAnswerError a read's answer is not in the shape expected (names the
        │                            function and the field); nothing of it is used
        ├── SkippableError           one course, assignment or user is missing or not accessible:
        │                            record it, skip that item, carry on with the rest
        └── InDoubtError             a write whose outcome is unknown (timeout, 5xx after sending):
                                     never retry blindly; check what arrived first

Moodle's ``debuginfo`` is logged at debug level only and never put into a message.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "FatalError",
    "InDoubtError",
    "LockHeldError",
    "MoodleError",
    "MoodleSyncError",
    "NotMoodleError",
    "ProgrammeError",
    "RequestTooLargeError",
    "RetriableError",
    "RulesInputError",
    "SafetyValveError",
    "ScopeError",
    "SkippableError",
    "TemplateError",
    "UnexpectedAnswerError",
]


class MoodleSyncError(Exception):
    """Base of every error moodle-sync raises on purpose."""


class ConfigurationError(MoodleSyncError):
    """The settings are invalid; every problem is reported at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


class ProgrammeError(ConfigurationError):
    """The programme file cannot be used; `.problems` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.args = ("\n".join(self.problems),)

    def __str__(self) -> str:
        return "\n".join(self.problems)


class RulesInputError(ProgrammeError):
    """A `rules evaluate` input document is not usable; one line per problem, each located."""


class ScopeError(ProgrammeError):
    """An unknown course or user was asked for: a usage error (exit 2)."""


class TemplateError(MoodleSyncError):
    """A message template is missing or broken; the message names the file."""


class RequestTooLargeError(MoodleSyncError):
    """A single request would carry more form variables than PHP's max_input_vars allows."""


class SafetyValveError(MoodleSyncError):
    """More messages are due than one run may send: nothing was sent (exit code 5)."""

    def __init__(self, due: int, maximum: int) -> None:
        self.due, self.maximum = due, maximum
        super().__init__(
            f"{due} messages are due but at most {maximum} may be sent in one run "
            "(push.max_messages_per_run); nothing was sent. Check the plan with --dry-run; "
            "if it is right, raise push.max_messages_per_run (or MOODLE_SYNC_PUSH__"
            "MAX_MESSAGES_PER_RUN) for this run and rerun."
        )


class LockHeldError(MoodleSyncError):
    """Another run holds the pipeline lock (exit code 4); `holder` describes it, if known."""

    def __init__(self, holder: str | None, waited: float) -> None:
        self.holder = holder
        who = holder or "another run (it has just released it)"
        super().__init__(
            f"the pipeline is locked by {who}; waited {waited:.0f} s "
            "(worker.lock_wait_seconds). Try again when that run has finished, or raise "
            "worker.lock_wait_seconds to queue behind it"
        )


class MoodleError(MoodleSyncError):
    """A web-service call failed; the attributes say which call and how."""

    def __init__(
        self,
        message: str,
        *,
        function: str,
        errorcode: str | None = None,
        http_status: int | None = None,
        moodle_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.function = function
        self.errorcode = errorcode
        self.http_status = http_status
        self.moodle_message = moodle_message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(function={self.function!r}, errorcode={self.errorcode!r}, "
            f"http_status={self.http_status!r})"
        )


class RetriableError(MoodleError):
    """Temporary: the same call may succeed later (network, overload, maintenance)."""


class FatalError(MoodleError):
    """Permanent for this run: the token, the service or the parameters must be fixed."""


class NotMoodleError(FatalError):
    """The endpoint answered, but not like Moodle's REST server (HTML, XML, a proxy page)."""


class UnexpectedAnswerError(FatalError):
    """Moodle answered a read, but not in the shape expected (a field missing or of the wrong
    type): the message names the function and where in the answer. Nothing of it is used; the
    run stops so that no data is stored on a half-read answer."""


class SkippableError(MoodleError):
    """Only this item (course, assignment, user) failed; the rest of the run can go on."""


class InDoubtError(MoodleError):
    """A write may or may not have happened; check before sending it again.

    ``completed`` holds the results of the batches of the same write that did succeed.
    """

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.completed: list[Any] = []
