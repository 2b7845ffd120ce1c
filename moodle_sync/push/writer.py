"""What the push writes to Moodle, behind one seam: the live site, or a dry run's record.

A dry run goes through exactly the same planning, claiming and recording as a real run (in a
transaction that is rolled back at the end); only here does it differ: nothing reaches
Moodle, and every message and profile update that would have is kept to be reported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import Delivery, save_profile_values, send_notifications
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
class PluginWrites:
    """Calls: local_cetadsync_send_notifications (the outbox key as idempotency key: a key
    seen before sends nothing and answers with the original send),
    local_cetadsync_save_profile_values (students' two progression fields, nothing else: the
    role needs no moodle/user:update)."""

    requester: Requester

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        answers = send_notifications(self.requester, [notification(m) for m in messages])
        return [message_result(answer) for answer in answers]

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        return save_profile_values(self.requester, updates)


def notification(message: OutgoingMessage) -> dict[str, object]:
    """Plain text only: the plugin builds the notification's HTML from it, escaped, and refuses
    any HTML a caller sends (``fullmessagehtml`` is no parameter of the function)."""
    subject = message.subject or "CETAD"
    return {"idempotencykey": message.clientmsgid, "provider": message.provider,
            "touserid": message.touserid, "subject": subject,
            "fullmessage": message.plain or text_of(message.text),
            "smallmessage": subject}  # fmt: skip


def text_of(body: str) -> str:
    """The words of an HTML body, for a message planned without its own plain text: sent as
    HTML it would show its tags, escaped."""
    lines = re.sub(r"(?i)<br\s*/?>|</p>", "\n", body)
    return html.unescape(re.sub(r"<[^>]*>", "", lines)).strip()


def message_result(answer: Delivery) -> MessageResult:
    """sent (now or before) -> delivered; pending -> in doubt; failed -> refused with its code."""
    key = answer.idempotencykey
    if answer.status == "sent":
        return MessageResult(msgid=answer.messageid, clientmsgid=key)  # 0: stored, no id
    if answer.status == "failed":
        return MessageResult(clientmsgid=key, errormessage=f"local_cetadsync: {answer.errorcode}")
    return MessageResult(clientmsgid=key, pending=True)


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
