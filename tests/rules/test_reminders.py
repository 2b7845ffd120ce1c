"""Reminder send times, the send window, stable keys and tutor digests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from moodle_sync.rules.facts import Assessment
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.reminders import (
    DigestItem,
    plan_reminders,
    plan_tutor_digests,
    reminder_key,
)
from tests.rules.conftest import LONDON, london


def plan(programme: Programme, work: Assessment) -> dict[str, dt.datetime]:
    deadline = work.extension or work.due
    planned = plan_reminders(42, work, deadline, programme.reminders, LONDON)
    return {r.step: r.send_at for r in planned}


def test_student_schedule_for_a_noon_deadline(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 12, 12, 12), cutoff=london(2025, 12, 19, 12))
    assert plan(programme, work) == {
        "before_7d": london(2025, 12, 5, 9),
        "before_2d": london(2025, 12, 10, 9),
        "due_today": london(2025, 12, 12, 9),
        "overdue_1d": london(2025, 12, 13, 9),
        "overdue_3d": london(2025, 12, 15, 9),
        "before_cutoff": london(2025, 12, 18, 12),
    }


def test_before_7d_keeps_9am_london_across_the_clock_change(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 10, 31, 12))  # GMT; 7 days before is BST
    send = plan(programme, work)["before_7d"]
    assert send.astimezone(LONDON).time() == dt.time(9, 0)
    assert send == dt.datetime(2025, 10, 24, 8, 0, tzinfo=dt.UTC)


def test_early_deadline_gets_due_today_three_hours_before(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 12, 12, 11, 30))
    assert plan(programme, work)["due_today"] == london(2025, 12, 12, 8, 30)


def test_time_before_the_window_moves_to_its_opening(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 12, 12, 10))  # 07:00 -> 08:00
    assert plan(programme, work)["due_today"] == london(2025, 12, 12, 8)


def test_reminder_that_would_land_after_the_deadline_is_dropped(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 12, 12, 7, 30))
    assert "due_today" not in plan(programme, work)


def test_draft_reminder_48_hours_before_moves_into_the_window(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 12, 12, 23), submission_status="draft")
    assert plan(programme, work)["draft_not_submitted"] == london(2025, 12, 11, 8)


@pytest.mark.parametrize(
    ("name", "work"),
    [
        (
            "submitted",
            Assessment(7, "E", due=london(2025, 12, 12, 12), submission_status="submitted"),
        ),
        (
            "handed in, status unknown",
            Assessment(7, "E", due=london(2025, 12, 12, 12), submitted_at=london(2025, 12, 11, 12)),
        ),
        ("already graded", Assessment(7, "E", due=london(2025, 12, 12, 12), grade=Decimal(0))),
    ],
)
def test_no_reminders_for_submitted_work(programme: Programme, name: str, work: Assessment) -> None:
    assert plan(programme, work) == {}


def test_an_extension_makes_new_keys(programme: Programme) -> None:
    work = Assessment(7, "Essay", due=london(2025, 12, 12, 12))
    moved = Assessment(7, "Essay", due=london(2025, 12, 12, 12), extension=london(2025, 12, 19, 12))
    old = {r.key for r in plan_reminders(42, work, work.due, programme.reminders, LONDON)}
    new = {r.key for r in plan_reminders(42, moved, moved.extension, programme.reminders, LONDON)}
    assert old and new and not old & new
    again = {r.key for r in plan_reminders(42, work, work.due, programme.reminders, LONDON)}
    assert again == old


def test_key_uses_only_safe_characters_and_stays_unambiguous() -> None:
    deadline = dt.datetime(2025, 12, 5, 12, tzinfo=dt.UTC)
    assert reminder_key(101, 5001, "before_7d", deadline) == "r-101-5001-before_7d-20251205T120000Z"
    odd = reminder_key("u-1", "a_b", "overdue_1d", deadline)
    assert odd == "r-u_2d_1-a_5f_b-overdue_1d-20251205T120000Z"
    assert reminder_key("u_2d_1", "a", "due_today", deadline) != reminder_key(
        "u-1", "a", "due_today", deadline
    )


def test_tutor_digests_at_most_one_a_day_never_empty(programme: Programme) -> None:
    now = london(2025, 12, 10, 15)
    items: dict[str | int, list[DigestItem]] = {
        "t1": [
            DigestItem(101, "MPC Essay 2 days overdue"),
            DigestItem(101, "MPC Essay 2 days overdue"),
        ],
        "t2": [],
    }
    digests = plan_tutor_digests(items, now, programme.reminders, LONDON)
    assert [(d.tutor, d.key, len(d.items)) for d in digests] == [("t1", "d-t1-20251210", 1)]
    later = plan_tutor_digests(items, london(2025, 12, 10, 19), programme.reminders, LONDON)
    assert [d.key for d in later] == ["d-t1-20251210"]
