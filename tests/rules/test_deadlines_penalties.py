"""Effective deadlines, the late window W and the late penalty (GR 2.3.7), as named cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from moodle_sync.rules.deadlines import effective_deadline, late_window_end, started_days
from moodle_sync.rules.penalties import lateness, penalised_mark
from moodle_sync.rules.policy import LatePenalty, Programme
from tests.rules.conftest import LONDON, london

DUE = london(2025, 11, 5, 12)  # a Wednesday, GMT


@pytest.mark.parametrize(
    ("name", "due", "extension", "expected"),
    [
        ("no extension", DUE, None, DUE),
        ("later extension wins", DUE, london(2025, 11, 12, 12), london(2025, 11, 12, 12)),
        ("an extension never brings it forward", DUE, london(2025, 11, 1), DUE),
        ("no due date, no deadline", None, None, None),
    ],
)
def test_effective_deadline(
    name: str, due: dt.datetime | None, extension: dt.datetime | None, expected: object
) -> None:
    assert effective_deadline(due, extension) == expected


@pytest.mark.parametrize(
    ("name", "deadline", "window_end"),
    [
        ("Monday deadline, Thursday W", london(2025, 11, 3, 12), london(2025, 11, 6, 12)),
        (
            "Wednesday deadline, W on Saturday moves to Monday 10:00",
            london(2025, 11, 5, 12),
            london(2025, 11, 10, 10),
        ),
        (
            "Thursday deadline, W on Sunday moves to Monday 10:00",
            london(2025, 11, 6, 16),
            london(2025, 11, 10, 10),
        ),
        # Clocks go back on Sunday 26 October 2025: W keeps the wall-clock time, 73 hours on.
        (
            "clock change week: Friday BST to Monday GMT",
            london(2025, 10, 24, 12),
            london(2025, 10, 27, 12),
        ),
        (
            "clock change week: Wednesday BST, W Saturday, Monday 10:00 GMT",
            london(2025, 10, 22, 12),
            london(2025, 10, 27, 10),
        ),
        # Clocks go forward on Sunday 30 March 2025: 71 hours on.
        (
            "spring change: Friday GMT to Monday BST",
            london(2025, 3, 28, 12),
            london(2025, 3, 31, 12),
        ),
    ],
)
def test_late_window_end(
    programme: Programme, name: str, deadline: dt.datetime, window_end: dt.datetime
) -> None:
    assert late_window_end(deadline, programme.late_penalty, LONDON) == window_end


def test_clock_change_week_window_is_73_hours_of_real_time(programme: Programme) -> None:
    deadline = london(2025, 10, 24, 12)
    end = late_window_end(deadline, programme.late_penalty, LONDON)
    assert end - deadline == dt.timedelta(hours=73)
    assert end.astimezone(LONDON).hour == 12


@pytest.mark.parametrize(
    ("name", "submitted", "days_late", "final"),
    [
        ("on time", london(2025, 11, 5, 11, 59), 0, Decimal(62)),
        ("at the deadline is on time", DUE, 0, Decimal(62)),
        ("one minute late: minus 10 once", london(2025, 11, 5, 12, 1), 1, Decimal(52)),
        ("two days late: still minus 10 once", london(2025, 11, 7, 9), 2, Decimal(52)),
        ("Monday 09:59, before the moved W", london(2025, 11, 10, 9, 59), 5, Decimal(52)),
        ("Monday 10:00, at W", london(2025, 11, 10, 10), 5, Decimal(52)),
        ("Monday 10:01, after W: zero", london(2025, 11, 10, 10, 1), 5, Decimal(0)),
    ],
)
def test_lancaster_late_rule(
    programme: Programme, name: str, submitted: dt.datetime, days_late: int, final: Decimal
) -> None:
    late = lateness(DUE, submitted, programme.late_penalty, LONDON)
    assert late.days_late == days_late
    assert penalised_mark(Decimal(62), late, programme.late_penalty, Decimal(50)) == final


def test_penalty_never_goes_below_zero(programme: Programme) -> None:
    late = lateness(DUE, london(2025, 11, 6, 12), programme.late_penalty, LONDON)
    assert penalised_mark(Decimal(5), late, programme.late_penalty, Decimal(50)) == 0


@pytest.mark.parametrize(
    ("name", "rule", "mark", "final"),
    [
        ("points per started day", LatePenalty(amount=Decimal(5), per_started_day=True), 62, 52),
        (
            "percent of the mark, once",
            LatePenalty(scheme="percent", amount=Decimal(10)),
            62,
            Decimal("55.8"),
        ),
        (
            "percent per day",
            LatePenalty(scheme="percent", amount=Decimal(10), per_started_day=True),
            60,
            48,
        ),
        ("capped at the pass mark", LatePenalty(scheme="cap_at_pass_mark"), 62, 50),
        ("cap leaves a lower mark alone", LatePenalty(scheme="cap_at_pass_mark"), 45, 45),
    ],
)
def test_other_programmes_schemes(name: str, rule: LatePenalty, mark: int, final: object) -> None:
    late = lateness(DUE, london(2025, 11, 6, 13), rule, LONDON)  # two started days late
    assert late.days_late == 2
    assert penalised_mark(Decimal(mark), late, rule, Decimal(50)) == Decimal(final)  # type: ignore[arg-type]


def test_days_late_counts_started_24_hour_periods_across_the_clock_change() -> None:
    deadline = london(2025, 10, 25, 12)  # Saturday BST; Sunday has 25 hours
    assert started_days(deadline, london(2025, 10, 26, 12)) == 2  # 25 hours later
    assert started_days(deadline, london(2025, 10, 26, 11)) == 1  # exactly 24 hours


def test_every_penalty_scheme_the_programme_accepts_has_a_rule_and_its_words() -> None:
    from typing import get_args

    from moodle_sync.rules.penalties import SCHEMES, effect_in_words
    from moodle_sync.rules.policy import LatePenalty

    names = get_args(LatePenalty.model_fields["scheme"].annotation)
    assert set(names) == set(SCHEMES)
    for name in names:
        assert effect_in_words(LatePenalty(scheme=name), Decimal(50))
