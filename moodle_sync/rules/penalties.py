"""Lateness and late penalties (GR 2.3.7), with the penalty scheme pluggable by programme.

Lancaster's postgraduate rule is the default: after D and up to W, minus 10 points once; after
W, zero (a non-submission). Other programmes deduct per day, take a percentage of the mark, or
cap late work at the pass mark; `SCHEMES` maps each `late_penalty.scheme` to its function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from moodle_sync.rules.deadlines import late_window_end, started_days
from moodle_sync.rules.policy import LatePenalty

LateState = Literal["on_time", "late", "after_window"]
PenaltyScheme = Callable[[Decimal, int, LatePenalty, Decimal], Decimal]
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Lateness:
    state: LateState
    days_late: int
    window_end: dt.datetime | None


ON_TIME = Lateness("on_time", 0, None)


def lateness(
    deadline: dt.datetime | None, submitted_at: dt.datetime | None, rule: LatePenalty, tz: ZoneInfo
) -> Lateness:
    """Where a submission falls against D and W; no deadline or no submission is on time."""
    if deadline is None or submitted_at is None or submitted_at <= deadline:
        return ON_TIME
    window_end = late_window_end(deadline, rule, tz)
    state: LateState = "late" if submitted_at <= window_end else "after_window"
    return Lateness(state, started_days(deadline, submitted_at), window_end)


def _deductions(rule: LatePenalty, days_late: int) -> int:
    return days_late if rule.per_started_day else 1


def points(mark: Decimal, days_late: int, rule: LatePenalty, pass_mark: Decimal) -> Decimal:
    """Minus `amount` percentage points (once, or per started day): 62 becomes 52."""
    return mark - rule.amount * _deductions(rule, days_late)


def percent(mark: Decimal, days_late: int, rule: LatePenalty, pass_mark: Decimal) -> Decimal:
    """Minus `amount` percent of the mark (once, or per started day)."""
    return mark - mark * rule.amount * _deductions(rule, days_late) / _HUNDRED


def cap_at_pass_mark(
    mark: Decimal, days_late: int, rule: LatePenalty, pass_mark: Decimal
) -> Decimal:
    """Late work keeps its mark up to the pass mark and no more."""
    return min(mark, pass_mark)


SCHEMES: dict[str, PenaltyScheme] = {
    "points": points,
    "percent": percent,
    "cap_at_pass_mark": cap_at_pass_mark,
}


def effect_in_words(rule: LatePenalty, pass_mark: Decimal) -> str:
    """What the scheme does to a late mark, in words ('loses 10 marks'), beside the schemes
    themselves so that a new scheme cannot be added without its wording."""
    amount = f"{rule.amount.normalize():f}"
    each = " for each started day late" if rule.per_started_day else ""
    return {
        "points": f"loses {amount} marks{each}",
        "percent": f"loses {amount}% of its mark{each}",
        "cap_at_pass_mark": f"is capped at the pass mark ({pass_mark.normalize():f})",
    }[rule.scheme]


def late_work_in_words(rule: LatePenalty, pass_mark: Decimal, window_end: str | None = None) -> str:
    """The whole late-work rule in one clause, worded here once for reminders and pages alike.

    `window_end` names when the late window of one deadline ends (a reminder); without it the
    window is said in days, for a page that covers every deadline.
    """
    effect = effect_in_words(rule, pass_mark)
    if not rule.zero_after_window:
        return f"work submitted after the deadline {effect}"
    if rule.window_days == 0:
        return "work submitted after the deadline scores 0"
    if window_end is None:
        window_end = _window_in_days(rule)
    return (
        f"work submitted after the deadline and up to {window_end} {effect}; after that it scores 0"
    )


def _window_in_days(rule: LatePenalty) -> str:
    """'3 days after it (Monday 10:00 when that is a weekend)'."""
    days = f"{rule.window_days} day{'s' * (rule.window_days != 1)} after it"
    moved = rule.weekend_moves_to
    return days if moved is None else f"{days} (Monday {moved:%H:%M} when that is a weekend)"


def penalised_mark(mark: Decimal, late: Lateness, rule: LatePenalty, pass_mark: Decimal) -> Decimal:
    """The final mark after the late rule; never below zero, never above the mark itself."""
    if late.state == "on_time":
        return mark
    if late.state == "after_window" and rule.zero_after_window:
        return _ZERO
    penalised = SCHEMES[rule.scheme](mark, late.days_late, rule, pass_mark)
    return min(mark, max(_ZERO, penalised))
