"""What the push needs of Moodle, behind one seam: send, settle, save progression, update
profile values, and say what `check` finds of the profile fields.

Two writers talk to a site, chosen once per run by the path selection (`moodle_sync.paths`):
`core_writer.CoreWrites` (core web services) and `plugin_writer.PluginWrites`
(local_cetadsync). Nothing else in the push knows which one it holds.

A dry run goes through exactly the same planning, claiming and recording as a real run (in a
transaction that is rolled back at the end) with `DryRunWrites` in front of the run's writer:
reads still reach Moodle (settling rows in doubt asks what was sent), but nothing is written
there, and every message and profile update that would have been is kept to be reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.messages import OutgoingMessage
from moodle_sync.client.models import MessageResult, Result
from moodle_sync.client.users import UserUpdate

if TYPE_CHECKING:
    from moodle_sync.cohort.facts import Evaluation

__all__ = ["DryRunWrites", "InDoubtReport", "MoodleWrites", "SiteWrites"]


@dataclass
class InDoubtReport:
    """What settling found; ``still_in_doubt`` lists the keys nobody can vouch for yet."""

    checked: int = 0
    found_sent: list[str] = field(default_factory=list)
    returned_to_planned: list[str] = field(default_factory=list)
    still_in_doubt: list[str] = field(default_factory=list)
    pages_read: int = 0
    covered: bool = False  # Moodle's answer reached back past the earliest batch start


class MoodleWrites(Protocol):
    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        """Send one batch; each answer names its message by `clientmsgid` (the outbox key)."""
        ...

    def settle(self, sessions: sessionmaker[Session], now: dt.datetime) -> InDoubtReport:
        """Settle the outbox rows left ``sending``, from what Moodle says was sent."""
        ...

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        """Write the progression profile fields; the accepted users' ids."""
        ...

    def save_progression(
        self,
        evaluation: Evaluation,
        sessions: sessionmaker[Session],
        now: dt.datetime,
        run_id: int | None,
        only_user: int | None,
        resend: bool,
    ) -> int:
        """Store each participant's progression record in Moodle; how many were sent."""
        ...


class SiteWrites(MoodleWrites, Protocol):
    """A writer to a real site (a dry run's is not one): it also proves the profile fields."""

    def field_problems(
        self, userid: int, functions: Sequence[str], fields: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """What `check` finds wrong with the progression fields, and what it cannot check."""
        ...


@dataclass
class DryRunWrites:
    """Accepts every write and remembers it, calling nothing; reads go to `live`."""

    live: MoodleWrites
    messages: list[OutgoingMessage] = field(default_factory=list)
    updates: list[UserUpdate] = field(default_factory=list)

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        start = len(self.messages)
        self.messages.extend(messages)
        return [
            MessageResult(msgid=start + i + 1, clientmsgid=m.clientmsgid)
            for i, m in enumerate(messages)
        ]

    def settle(self, sessions: sessionmaker[Session], now: dt.datetime) -> InDoubtReport:
        return self.live.settle(sessions, now)

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        self.updates.extend(updates)
        return Result([u.user_id for u in updates])

    def save_progression(
        self,
        evaluation: Evaluation,
        sessions: sessionmaker[Session],
        now: dt.datetime,
        run_id: int | None,
        only_user: int | None,
        resend: bool,
    ) -> int:
        """A dry run reports no progression records: they change nothing a person is told."""
        return 0
