"""Effective deadlines and the late-work window, in the programme's wall-clock time zone.

Python's arithmetic and comparison on datetimes that share a ZoneInfo are wall-clock
operations, which is what "three calendar days later" means but not what "48 hours before"
means. So instants inside the engine are UTC; only these helpers look at the wall clock, and
they hand back UTC: `wall_clock_days` for calendar days, `elapsed` for absolute durations.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from zoneinfo import ZoneInfo

from moodle_sync.rules.policy import LatePenalty

_DAY = dt.timedelta(days=1)
_SATURDAY = 5


def effective_deadline(
    due: dt.datetime | None, extension: dt.datetime | None
) -> dt.datetime | None:
    """The due date, or the extension when one is granted and later (never earlier)."""
    if due is None:
        return extension
    if extension is not None and extension > due:
        return extension
    return due


def local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return moment.astimezone(tz)


def at_wall_clock(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of `time` on `day` in `tz` (first occurrence; a gap time moves on)."""
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.UTC)


def wall_clock_days(moment: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
    """The same wall-clock time `days` calendar days later (earlier when negative)."""
    here = local(moment, tz)
    return at_wall_clock(
        here.date() + dt.timedelta(days=days), here.timetz().replace(tzinfo=None), tz
    )


def elapsed(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`moment` plus an absolute duration, whatever the clocks do in between (UTC)."""
    return moment.astimezone(dt.UTC) + delta


def late_window_end(deadline: dt.datetime, rule: LatePenalty, tz: ZoneInfo) -> dt.datetime:
    """W: the same wall-clock time `window_days` after D; on a weekend, Monday at the set time."""
    return _window_end(deadline, rule.window_days, rule.weekend_moves_to, tz)


@lru_cache(maxsize=4096)
def _window_end(
    deadline: dt.datetime, days: int, weekend_moves_to: dt.time | None, tz: ZoneInfo
) -> dt.datetime:
    end = local(wall_clock_days(deadline, days, tz), tz)
    if weekend_moves_to is not None and end.weekday() >= _SATURDAY:
        monday = end.date() + (7 - end.weekday()) * _DAY
        return at_wall_clock(monday, weekend_moves_to, tz)
    return end.astimezone(dt.UTC)


def started_days(start: dt.datetime, end: dt.datetime) -> int:
    """Started 24-hour periods from `start` to `end`; 0 when `end` is not after `start`."""
    seconds = (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds()
    return math.ceil(seconds / 86400) if seconds > 0 else 0
