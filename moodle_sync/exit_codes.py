"""Exit codes shared by every command, so that cron, systemd and scripts can branch on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    BAD_CONFIGURATION = 2  # also bad usage, as click reports it
    PARTIAL = 3  # some courses failed; the others were synchronised
    LOCKED = 4  # another run holds the pipeline lock
    SAFETY_VALVE = 5  # a safety limit stopped the run before it did harm


def for_outcome(outcome: str) -> ExitCode:
    """A run's outcome (complete, partial, failed) as its exit code, for `run` and the worker."""
    return {"complete": ExitCode.OK, "failed": ExitCode.FAILURE}.get(outcome, ExitCode.PARTIAL)
