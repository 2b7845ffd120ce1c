"""Personal messages from the integration user, and a way to see what it already sent."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from moodle_sync.client.envelope import reading_answer
from moodle_sync.client.models import MessageResult, SentMessage
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.errors import InDoubtError

__all__ = [
    "OutgoingMessage",
    "can_message",
    "get_messages",
    "refusal_hint",
    "send_instant_messages",
]

MAX_TEXT_BYTES = 4096
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]+")
FORMAT_HTML = 1


@dataclass(frozen=True)
class OutgoingMessage:
    """One message; ``clientmsgid`` (``[A-Za-z0-9_-]``) is echoed back to match answers."""

    touserid: int
    text: str
    clientmsgid: str | None = None
    textformat: int = FORMAT_HTML
    subject: str = ""  # for a notification (local_cetadsync); core messages have none
    plain: str = ""  # the plain-text body, for a notification
    provider: str = "studentreminder"  # local_cetadsync's message provider

    def __post_init__(self) -> None:
        if self.clientmsgid is not None and not _CLIENT_ID.fullmatch(self.clientmsgid):
            raise ValueError(f"clientmsgid {self.clientmsgid!r}: only [A-Za-z0-9_-] is allowed")
        if len(self.text.encode()) > MAX_TEXT_BYTES:
            raise ValueError(f"message to user {self.touserid} exceeds {MAX_TEXT_BYTES} bytes")

    def as_param(self) -> dict[str, object]:
        """Moodle's field order; ``clientmsgid`` omitted when unset."""
        return {
            "touserid": self.touserid,
            "text": self.text,
            "textformat": self.textformat,
            "clientmsgid": self.clientmsgid,
        }


def send_instant_messages(
    req: Requester, messages: Sequence[OutgoingMessage]
) -> list[MessageResult]:
    """Calls: core_message_send_instant_messages (a write: never retried).

    One result per message, in input order; a refused message has ``ok == False`` and
    Moodle's ``errormessage``. If a chunk's outcome is unknown, ``InDoubtError`` is raised
    with ``.completed`` holding the results of the chunks sent before it.
    """
    rows = [message.as_param() for message in messages]
    results: list[MessageResult] = []
    chunks = chunk_rows(
        rows,
        "messages",
        fixed=None,
        budget=req.settings.max_input_vars,
        max_rows=req.settings.max_ids_per_call,
    )
    for chunk in chunks:
        try:
            answer = req.call("core_message_send_instant_messages", {"messages": chunk}, write=True)
            with reading_answer("core_message_send_instant_messages", write=True):
                parsed = [MessageResult.model_validate(raw) for raw in answer]
        except InDoubtError as exc:
            exc.completed = list(results)
            raise
        results.extend(parsed)
    return results


def get_messages(
    req: Requester, useridfrom: int, *, limitfrom: int = 0, limitnum: int = 50
) -> list[SentMessage]:
    """Calls: core_message_get_messages for what ``useridfrom`` sent to anyone, newest first.

    Used to settle an in-doubt send: was the message delivered after all?
    """
    params = {
        "useridto": 0,
        "useridfrom": useridfrom,
        "type": "conversations",
        "read": 2,
        "newestfirst": True,
        "limitfrom": limitfrom,
        "limitnum": limitnum,
    }
    answer = req.call("core_message_get_messages", params)
    with reading_answer("core_message_get_messages"):
        return [SentMessage.model_validate(raw) for raw in answer["messages"]]


def can_message(req: Requester, sender: int, recipients: Sequence[int]) -> dict[int, bool]:
    """Calls: core_message_get_member_info with privacy info: whether ``sender`` may message
    each recipient (Moodle's own can_send_message), without sending anything."""
    params = {"referenceuserid": sender, "userids": list(recipients),
              "includecontactrequests": False, "includeprivacyinfo": True}  # fmt: skip
    answer = req.call("core_message_get_member_info", params)
    with reading_answer("core_message_get_member_info"):
        return {int(member["id"]): bool(member.get("canmessage")) for member in answer}


def refusal_hint(errormessage: str) -> str:
    """The likely cause of Moodle refusing a message, and what an administrator does about it."""
    if "message preferences" in errormessage:
        return (
            "students' messaging privacy blocks the integration user, who shares no course "
            "with them: give its role moodle/site:readallmessages (and moodle/site:sendmessage)"
        )
    if "doesn't exist" in errormessage:
        return "the recipient was deleted in Moodle; the next run pulls the change"
    return "see Moodle's reason above; `moodle-sync check` names missing capabilities"
