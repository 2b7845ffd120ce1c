"""The reminder plan: which nudges to send, when, and under which stable key.

Deciding is separate from doing: this module only returns planned messages. Each has a key
built from (recipient, assessment, kind, effective deadline), usable as Moodle's `clientmsgid`
and as the outbox's natural key, so re-planning is idempotent and a changed deadline yields
new keys while the stale ones can be cancelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from moodle_sync.rules.deadlines import at_wall_clock, elapsed, local
from moodle_sync.rules.facts import Assessment
from moodle_sync.rules.policy import Reminders

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    recipient: str | int
    assessment: str | int
    kind: str  # before_7d, before_2d, due_today, draft_not_submitted, overdue, before_cutoff
    step: str  # the kind plus its offset where a kind repeats (overdue_1d, overdue_3d)
    send_at: dt.datetime  # UTC, inside the send window
    expires_at: dt.datetime | None  # UTC; after this the reason no longer holds
    deadline: dt.datetime

    @property
    def key(self) -> str:
        """Stable across re-planning; new when the effective deadline moves."""
        return reminder_key(self.recipient, self.assessment, self.step, self.deadline)

    def due(self, now: dt.datetime) -> bool:
        return self.send_at <= now and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class DigestItem:
    participant: str | int
    text: str


@dataclass(frozen=True, slots=True)
class PlannedDigest:
    key: str
    tutor: str | int
    day: dt.date
    send_at: dt.datetime
    items: tuple[DigestItem, ...]


def key_part(value: str | int) -> str:
    """An id as [A-Za-z0-9_] only, reversibly: any other character becomes _hex_."""
    text = str(value)
    if text.isascii() and text.isalnum():
        return text
    return "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in text)


def reminder_key(
    recipient: str | int, assessment: str | int, step: str, deadline: dt.datetime
) -> str:
    stamp = deadline.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"r-{key_part(recipient)}-{key_part(assessment)}-{step}-{stamp}"


def into_window(moment: dt.datetime, rules: Reminders, tz: ZoneInfo) -> dt.datetime:
    """A time outside the send window moves to the window's next opening (UTC out)."""
    here = local(moment, tz)
    if here.time() < rules.send_window_start:
        return at_wall_clock(here.date(), rules.send_window_start, tz)
    if here.time() >= rules.send_window_end:
        return at_wall_clock(here.date() + _DAY, rules.send_window_start, tz)
    return moment.astimezone(dt.UTC)


def effective_cutoff(deadline: dt.datetime, cutoff: dt.datetime | None) -> dt.datetime | None:
    """The cut-off only matters when later than the deadline (an extension overrides it)."""
    return cutoff if cutoff is not None and cutoff > deadline else None


def plan_reminders(
    recipient: str | int,
    work: Assessment,
    deadline: dt.datetime | None,
    rules: Reminders,
    tz: ZoneInfo,
) -> list[PlannedReminder]:
    """Every reminder whose reason holds for the work as it stands; none for submitted (or
    already graded) work."""
    if deadline is None or work.is_submitted or work.released_grade is not None:
        return []
    cutoff = effective_cutoff(deadline, work.cutoff)
    return [
        PlannedReminder(recipient, work.id, kind, step, send_at, expires, deadline)
        for kind, step, send_at, expires in _send_times(deadline, cutoff, work.has_draft, rules, tz)
    ]


@lru_cache(maxsize=4096)
def _send_times(
    deadline: dt.datetime, cutoff: dt.datetime | None, draft: bool, rules: Reminders, tz: ZoneInfo
) -> tuple[tuple[str, str, dt.datetime, dt.datetime | None], ...]:
    """The schedule moved into the send window, without what expired before it could be sent.
    Cached: a cohort shares its deadlines, so thousands of participants share one schedule."""
    timed = []
    for kind, step, when, expires in _schedule(deadline, cutoff, draft, rules, tz):
        send_at = into_window(when, rules, tz)
        if expires is None or send_at < expires:
            timed.append((kind, step, send_at, expires))
    return tuple(timed)


def _schedule(
    deadline: dt.datetime, cutoff: dt.datetime | None, draft: bool, rules: Reminders, tz: ZoneInfo
) -> Iterator[tuple[str, str, dt.datetime, dt.datetime | None]]:
    """(kind, step, send time before the window, expiry) for unsubmitted work."""
    day = local(deadline, tz).date()
    for days in rules.before_days:
        step = f"before_{days}d"
        yield step, step, at_wall_clock(day - days * _DAY, rules.at, tz), deadline
    yield "due_today", "due_today", _due_today(deadline, rules, tz), deadline
    if draft:
        before = dt.timedelta(hours=-rules.draft_hours_before)
        yield "draft_not_submitted", "draft_not_submitted", elapsed(deadline, before), deadline
    for days in rules.overdue_days_after:
        when = at_wall_clock(day + days * _DAY, rules.at, tz)
        yield "overdue", f"overdue_{days}d", when, cutoff
    if cutoff is not None:
        before = dt.timedelta(hours=-rules.cutoff_hours_before)
        yield "before_cutoff", "before_cutoff", elapsed(cutoff, before), cutoff


def _due_today(deadline: dt.datetime, rules: Reminders, tz: ZoneInfo) -> dt.datetime:
    here = local(deadline, tz)
    if here.time() < rules.due_today_early_before:
        return elapsed(deadline, dt.timedelta(hours=-rules.due_today_early_hours))
    return at_wall_clock(here.date(), rules.at, tz)


def due_kinds(plan: Sequence[PlannedReminder], now: dt.datetime) -> list[str]:
    """The kinds whose send time has come at `now` and whose reason still holds, in plan order."""
    return list(dict.fromkeys(r.kind for r in plan if r.due(now)))


def reminders_due(
    recipient: str | int,
    work: Assessment,
    deadline: dt.datetime | None,
    rules: Reminders,
    tz: ZoneInfo,
    now: dt.datetime,
) -> list[str]:
    """The reminder kinds due at `now` for this work: `due_kinds` of its plan, without building
    the plan, since what is due depends only on the deadline, cut-off, draft and policy."""
    if deadline is None or now < deadline - rules.horizon:
        return []
    if work.is_submitted or work.released_grade is not None:
        return []
    cutoff = effective_cutoff(deadline, work.cutoff)
    return list(_kinds_due(deadline, cutoff, work.has_draft, rules, tz, now))


@lru_cache(maxsize=4096)
def _kinds_due(
    deadline: dt.datetime,
    cutoff: dt.datetime | None,
    draft: bool,
    rules: Reminders,
    tz: ZoneInfo,
    now: dt.datetime,
) -> tuple[str, ...]:
    """The same test as `PlannedReminder.due`, once per cohort deadline rather than per person."""
    times = _send_times(deadline, cutoff, draft, rules, tz)
    due = (k for k, _, at, expires in times if at <= now and (expires is None or now < expires))
    return tuple(dict.fromkeys(due))


def plan_tutor_digests(
    items_by_tutor: Mapping[str | int, Sequence[DigestItem]],
    now: dt.datetime,
    rules: Reminders,
    tz: ZoneInfo,
) -> list[PlannedDigest]:
    """At most one digest per tutor per local day (the key holds the day), never an empty one."""
    day = local(now, tz).date()
    send_at = into_window(at_wall_clock(day, rules.digest_at, tz), rules, tz)
    digests = []
    for tutor, items in items_by_tutor.items():
        unique = tuple(dict.fromkeys(items))
        if unique:
            key = f"d-{key_part(tutor)}-{day:%Y%m%d}"
            digests.append(PlannedDigest(key, tutor, day, send_at, unique))
    return digests


def own_dates_matter(
    base_deadline: dt.datetime | None,
    submitted: bool,
    submitted_at: dt.datetime | None,
    released: bool,
    answered: bool,
    now: dt.datetime,
    rules: Reminders,
) -> bool:
    """Whether a student's own dates (an override only Moodle knows) can change an outcome now,
    judged on the assignment's dates: work handed in after them (late, unless an override
    says otherwise), or not handed in and within the reminder horizon or past the deadline
    (a reminder, a draft warning or overdue status). A released mark is final: once its pair
    has an answer it keeps it, and is not asked again."""
    if (released and answered) or base_deadline is None:
        return False
    if submitted:
        return submitted_at is not None and submitted_at > base_deadline
    return now >= base_deadline - rules.horizon


def is_tutor(roles: Sequence[str], rules: Reminders) -> bool:
    """Tutors hold one of the configured roles (editingteacher or teacher by default)."""
    return any(role in rules.tutor_roles for role in roles)
