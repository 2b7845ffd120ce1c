"""The cyclic garbage collector, paused while a batch stage builds its objects.

A pull holds up to two groups' records (tens of thousands of models, rows and datetimes) and
an evaluation builds every participant's facts; each full pass of Python's cycle collector
walks all of them again: on the 200-course bench site, about a quarter of the pull's CPU for
a first sync. Reference counting still frees everything as usual; only cycles wait,
and the collector, back on when the stage ends, finds them at its next pass.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection inside; the collector's earlier state (on, or off because an
    enclosing stage paused it) comes back on the way out, error or not."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def batch_stage(stage: Callable[P, R]) -> Callable[P, R]:
    """Run `stage` with the collector paused (see the module's docstring)."""

    @functools.wraps(stage)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return stage(*args, **kwargs)

    return paused
