"""What the push writes to Moodle, behind one seam: the live site, or a dry run's record.

A dry run goes through exactly the same planning, claiming and recording as a real run (in a
transaction that is rolled back at the end); only here does it differ: nothing reaches
Moodle, and every message and profile update that would have is kept to be reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from moodle_sync.client import Requester
from moodle_sync.client.messages import OutgoingMessage, send_instant_messages
from moodle_sync.client.models import MessageResult, Result
from moodle_sync.client.users import UserUpdate, update_users


class MoodleWrites(Protocol):
    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]: ...

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]: ...


@dataclass
class LiveWrites:
    """Calls: core_message_send_instant_messages, core_user_update_users."""

    requester: Requester

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        return send_instant_messages(self.requester, messages)

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        return update_users(self.requester, updates)


@dataclass
class DryRunWrites:
    """Accepts everything and remembers it; calls nothing."""

    messages: list[OutgoingMessage] = field(default_factory=list)
    updates: list[UserUpdate] = field(default_factory=list)

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        start = len(self.messages)
        self.messages.extend(messages)
        return [
            MessageResult(msgid=start + i + 1, clientmsgid=m.clientmsgid)
            for i, m in enumerate(messages)
        ]

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        self.updates.extend(updates)
        return Result([u.user_id for u in updates])
