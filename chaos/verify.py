"""What must hold once the faulty side's clean run is over, checked against its twin.

The stores are compared by their live content (what Moodle has now, and what the service
decided and remembers), never by ids or timestamps the runs themselves stamped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from moodle_sync.cohort.facts import evaluate_store
from moodle_sync.push.outbox import SendWindow
from moodle_sync.push.profile import wanted_values
from moodle_sync.rules.policy import Programme
from moodle_sync.settings import PushSettings
from moodle_sync.store import tables

REF = re.compile(r"Ref: ([A-Za-z0-9_-]+)")
View = dict[str, set[tuple[Any, ...]]]


@dataclass
class Messages:
    expected: int = 0  # what the twin delivered
    delivered: int = 0  # distinct expected keys the faulty side delivered
    duplicated: int = 0  # keys delivered more than once
    lost: int = 0  # expected, not delivered, not in doubt
    in_doubt: int = 0  # rows still `sending` after the clean run
    unexpected: int = 0  # delivered, though the twin never sent them


@dataclass
class Verdict:
    messages: Messages = field(default_factory=Messages)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Delivered:
    """One message Moodle delivered, by either path."""

    keys: list[str]  # the `Ref: <key>` markers its text carries
    to: int
    at: int  # the site's clock when it was stored


def deliveries(state: dict[str, Any]) -> list[Delivered]:
    """Everything the sandbox delivered: core's messages, and the plugin's notifications,
    which it stores apart (one per idempotency key)."""
    found = [Delivered(REF.findall(m["text"]), m["useridto"], m["timecreated"])
             for m in state["messages"]]  # fmt: skip
    return found + [Delivered(REF.findall(n["fullmessage"]), n["userid"], n["timesent"])
                    for n in state.get("notifications", [])]  # fmt: skip


def received(state: dict[str, Any]) -> Counter[str]:
    """Deliveries counted by the `Ref: <key>` marker each one carries."""
    return Counter(key for d in deliveries(state) for key in d.keys)


def count_messages(twin: Counter[str], faulty: Counter[str], in_doubt: set[str]) -> Messages:
    expected, got = set(twin), set(faulty)
    return Messages(
        expected=len(expected),
        delivered=len(expected & got),
        duplicated=sum(1 for n in faulty.values() if n > 1),
        lost=len(expected - got - in_doubt),
        in_doubt=len(in_doubt),
        unexpected=len(got - expected),
    )


def keyed_by_another_key(state: dict[str, Any]) -> list[str]:
    """Notifications whose idempotency key is not the outbox key their text carries: the
    plugin's exactly-once holds only when the key is the message's own."""
    return [f"notification {n['idempotencykey']!r} carries {REF.findall(n['fullmessage'])}"
            for n in state.get("notifications", [])
            if REF.findall(n["fullmessage"]) != [n["idempotencykey"]]]  # fmt: skip


def outside_the_window(state: dict[str, Any], programme: Programme) -> list[str]:
    """Messages Moodle received outside the send window (by the site's own clock)."""
    window = SendWindow(programme.reminders, programme.timezone)
    return [
        f"{d.keys} delivered outside the send window, at {d.at}"
        for d in deliveries(state)
        if not window.is_open(datetime.fromtimestamp(d.at, UTC))
    ]


def sent_after_the_reason_had_gone(state: dict[str, Any]) -> list[str]:
    """Reminders delivered after the student had already handed the work in."""
    handed_in = {(s["assignment"], s["userid"]): s["timemodified"]
                 for s in state["submissions"] if s["status"] == "submitted"}  # fmt: skip
    problems = []
    for key, user, assignment, at in _reminders(state):
        submitted = handed_in.get((assignment, user))
        if submitted is not None and submitted < at:
            problems.append(f"reminder {key} delivered at {at}, "
                            f"after the work was handed in at {submitted}")  # fmt: skip
    return problems


def sent_after_the_student_left(
    state: dict[str, Any], left_at: dict[tuple[int, int], int], course_of: dict[int, int]
) -> list[str]:
    """Reminders delivered after the student was suspended in or unenrolled from the
    assignment's course (`left_at`: (user, course) -> the site time of the change)."""
    problems = []
    for key, user, assignment, at in _reminders(state):
        left = left_at.get((user, course_of.get(assignment, 0)))
        if left is not None and left < at:
            problems.append(f"reminder {key} delivered at {at}, after "
                            f"the student left the course at {left}")  # fmt: skip
    return problems


def _reminders(state: dict[str, Any]) -> Iterator[tuple[str, int, int, int]]:
    """(key, student, assignment, delivered at) of every reminder Moodle received."""
    for delivered in deliveries(state):
        for key in delivered.keys:
            if key.startswith("r-"):
                user, assignment = (int(part) for part in key.split("-")[1:3])
                yield key, user, assignment, delivered.at


def two_digests_in_a_day(state: dict[str, Any], programme: Programme) -> list[str]:
    """A tutor gets at most one digest per local day, counted by when Moodle delivered them."""
    days: Counter[tuple[int, str]] = Counter()
    for delivered in deliveries(state):
        if any(key.startswith("d-") for key in delivered.keys):
            at = datetime.fromtimestamp(delivered.at, UTC)
            days[(delivered.to, f"{at.astimezone(programme.timezone):%Y-%m-%d}")] += 1
    return [f"tutor {tutor} got {n} digests on {day}" for (tutor, day), n in days.items() if n > 1]


def store_view(session: Session) -> View:
    """The store's live content: rows still in Moodle, outbox decisions, pushed statuses."""

    def rows(table: Any) -> list[Any]:
        return list(session.scalars(select(table)))

    live = {a.id for a in rows(tables.Assignment) if a.deleted_at is None}
    return {
        "enrolments": {(e.course_id, e.user_id, e.status) for e in rows(tables.Enrolment)
                       if e.ended_at is None},
        "assignments": {(a.id, a.course_id, a.name, a.due_at, a.cutoff_at)
                        for a in rows(tables.Assignment) if a.id in live},
        "submissions": {(s.assignment_id, s.user_id, s.status, s.time_modified)
                        for s in rows(tables.Submission) if s.assignment_id in live},
        "user_flags": {(f.assignment_id, f.user_id, f.extension_due_at, f.workflow_state)
                       for f in rows(tables.UserFlags) if f.assignment_id in live},
        "grades": {(g.assignment_id, g.user_id, mark(g.grade))
                   for g in rows(tables.Grade) if g.assignment_id in live},
        # A cancelled row reached nobody: a faulty world may plan and cancel one its twin
        # never needed (held while Moodle could not confirm an own date, then overtaken by
        # the override). Every row that was or will be sent is compared.
        "outbox": {(m.key, m.recipient_id, m.state) for m in rows(tables.OutboxMessage)
                   if m.state not in ("sending", "cancelled")},
        "profile_values": {(p.user_id, p.field, p.value) for p in rows(tables.ProfileValue)},
    }  # fmt: skip


def compare_stores(twin: View, faulty: View) -> list[str]:
    problems = []
    for name, rows in twin.items():
        missing, extra = sorted(rows - faulty[name]), sorted(faulty[name] - rows)
        if missing or extra:
            problems.append(f"store {name}: missing {missing[:3]}, extra {extra[:3]}")
    return problems


def stale_statuses(
    session: Session, programme: Programme, push: PushSettings, now: datetime,
    fields: dict[str, dict[str, str]],
) -> list[str]:  # fmt: skip
    """Participants whose profile fields in Moodle differ from what the rules say now."""
    problems = []
    evaluation = evaluate_store(session, programme, now, push.interrupted_users)
    for uid, wanted in wanted_values(evaluation, push).items():
        shown = fields.get(str(uid), {})
        if any(shown.get(k) != v for k, v in wanted.items()):
            problems.append(f"stale status for user {uid}: Moodle {shown}, rules {wanted}")
    return problems


def integrity(session: Session) -> list[str]:
    result = session.execute(text("PRAGMA integrity_check")).scalar_one()
    return [] if result == "ok" else [f"PRAGMA integrity_check: {result}"]


def in_doubt_keys(session: Session) -> set[str]:
    query = select(tables.OutboxMessage.key).where(tables.OutboxMessage.state == "sending")
    return set(session.scalars(query))


def mark(grade: Decimal | float | None) -> float | None:
    """A grade as a comparable number (Moodle's -1 and None both mean not graded)."""
    return None if grade is None or grade == -1 else round(float(grade), 5)
