"""Being a good citizen of a shared Moodle: a global rate limit, a retry budget, counters.

Each piece is thread-safe because the requester's pool calls it from several threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "RequesterStats", "RetryBudget"]


class RateLimiter:
    """Space request starts at least ``1 / per_second`` apart across all threads (0 = off)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this caller may start a request."""
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)


class RetryBudget:
    """A run-wide allowance of retries, so a sick site is not hammered by every call at once."""

    def __init__(self, total: int) -> None:
        self._left = total
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Reserve one retry; False once the budget is spent."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    @property
    def left(self) -> int:
        return self._left


@dataclass
class RequesterStats:
    """What one requester did; the sync-run ledger records these."""

    calls: int = 0
    retries: int = 0
    in_doubt: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record_call(self, seconds: float) -> None:
        with self._lock:
            self.calls += 1
            self.seconds += seconds

    def record_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def record_in_doubt(self) -> None:
        with self._lock:
            self.in_doubt += 1

    def as_dict(self) -> dict[str, float]:
        """The figures, for the sync-run ledger."""
        with self._lock:
            return {
                "calls": self.calls,
                "retries": self.retries,
                "in_doubt": self.in_doubt,
                "seconds": round(self.seconds, 3),
            }
