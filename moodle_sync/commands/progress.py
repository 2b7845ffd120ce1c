"""Progress bars for a person watching a terminal; nothing at all for cron, pipes or --json."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from moodle_sync.pull.fetch import Progress


class StageBars:
    """One bar per stage on standard error, replaced when the next stage starts."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._stage: str | None = None
        self._done = 0
        self._lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if stage != self._stage:
                self.close()
                self._bar = click.progressbar(length=total, label=stage, file=sys.stderr)
                self._bar.__enter__()
                self._stage, self._done = stage, 0
            self._bar.update(done - self._done)
            self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@contextmanager
def terminal_progress(wanted: bool) -> Iterator[Progress | None]:
    """Bars when `wanted` and standard error is a terminal; otherwise no callback at all."""
    if not (wanted and sys.stderr.isatty()):
        yield None
        return
    bars = StageBars()
    try:
        yield bars
    finally:
        bars.close()
