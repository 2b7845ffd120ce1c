"""Every error moodle-sync raises, grouped by what the caller should do about it.

::

    MoodleSyncError                  base: anything this package raises on purpose
    ├── ConfigurationError           settings are wrong; .problems lists every one. Fix and rerun.
    ├── RequestTooLargeError         a request would exceed moodle.max_input_vars (a bug: chunk it)
    └── MoodleError                  Moodle (or the network in front of it) refused a call;
        │                            carries .function, .errorcode, .http_status, .moodle_message
        ├── RetriableError           try again later: connection errors, timeouts, HTTP 5xx/429,
        │                            the 503 maintenance page, sitemaintenance, upgraderunning
        ├── FatalError               stop the run, an administrator must act: invalidtoken,
        │   │                        accessexception, nopermissions, invalidparameter, ...
        │   └── NotMoodleError       the URL does not answer like a Moodle web-service endpoint
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
    "MoodleError",
    "MoodleSyncError",
    "NotMoodleError",
    "RequestTooLargeError",
    "RetriableError",
    "SkippableError",
]


class MoodleSyncError(Exception):
    """Base of every error moodle-sync raises on purpose."""


class ConfigurationError(MoodleSyncError):
    """The settings are invalid; every problem is reported at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


class RequestTooLargeError(MoodleSyncError):
    """A single request would carry more form variables than PHP's max_input_vars allows."""


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


class SkippableError(MoodleError):
    """Only this item (course, assignment, user) failed; the rest of the run can go on."""


class InDoubtError(MoodleError):
    """A write may or may not have happened; check before sending it again.

    ``completed`` holds the results of the batches of the same write that did succeed.
    """

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.completed: list[Any] = []
