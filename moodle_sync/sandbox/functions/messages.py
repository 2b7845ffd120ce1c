"""core_message_send_instant_messages and core_message_get_messages.

Messages are answered one by one: a refusal is `msgid: -1` with a human `errormessage` inside a
successful call. Text is stored as HTML, so `hello` comes back as `<p>hello</p>`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moodle_sync.sandbox.errors import WsError
from moodle_sync.sandbox.functions.base import Call, WsFunction, profile_url
from moodle_sync.sandbox.model import Message, User
from moodle_sync.sandbox.params import ListOf, Scalar, Struct, invalid

MAX_BYTES = 4096
_TAGS = re.compile(r"<[^>]+>")
_NO_DELETE = {"candeletemessagesforallusers": False}


def as_html(text: str) -> str:
    """How Moodle formats stored text for display: plain text gains a paragraph."""
    return text if text.lstrip().startswith("<") else f"<p>{text}</p>"


def _shares_course(call: Call, user: User) -> bool:
    mine = {e.courseid for e in call.state.user_enrolments(call.token.userid)}
    return any(e.courseid in mine for e in call.state.user_enrolments(user.id))


def _refusal(call: Call, touserid: int, text: str) -> str | None:
    """Why one message can't be sent, in Moodle's words, or None."""
    user = call.state.users.get(touserid)
    if user is None:
        return f"You cannot send a message to a user ID ({touserid}) that doesn't exist."
    if len(text.encode()) > MAX_BYTES:
        return "The message is longer than the maximum allowed."
    anyone = call.token.can("moodle/site:readallmessages") or call.token.can(
        "moodle/site:messageanyuser"
    )
    if user.id != call.token.userid and not anyone and not _shares_course(call, user):
        return (
            f"You can't message {user.fullname} due to their message preferences. "
            "Try adding them as a contact."
        )
    return None


def get_member_info(call: Call) -> list[dict[str, Any]]:
    """Moodle's message/classes/helper.php get_member_info, privacy info included."""
    p = call.params
    if p["referenceuserid"] != call.token.userid and not call.token.can(
        "moodle/site:readallmessages"
    ):
        raise WsError("moodle_exception", "generalexceptionmessage",
                      "You do not have permission to perform this action.")  # fmt: skip
    sender = call.token.can("moodle/site:sendmessage")
    members = []
    for userid in p["userids"]:
        user = call.state.users.get(userid)
        if user is None:
            continue  # Moodle's query simply finds no row
        allowed = sender and _refusal(call, userid, "") is None
        members.append({
            "id": user.id, "fullname": user.fullname,
            "profileurl": f"{call.state.site.url}/user/profile.php?id={user.id}",
            "profileimageurl": profile_url(call.state, "f1"),
            "profileimageurlsmall": profile_url(call.state, "f2"),
            "isonline": False, "showonlinestatus": False, "isblocked": False, "iscontact": False,
            "isdeleted": False,
            "canmessageevenifblocked": allowed if p["includeprivacyinfo"] else None,
            "canmessage": allowed if p["includeprivacyinfo"] else None,
            "requirescontact": False if p["includeprivacyinfo"] else None,
            "contactrequests": [],
        })  # fmt: skip
    return members


def _conversation(call: Call, touserid: int) -> int:
    pair = {call.token.userid, touserid}
    for m in call.state.messages:
        if {m.useridfrom, m.useridto} == pair:
            return m.conversationid
    return max((m.conversationid for m in call.state.messages), default=0) + 1


def _store(call: Call, msg: dict[str, Any]) -> Message:
    raw, fmt = msg["text"], msg["textformat"]
    stored = Message(
        id=call.state.next_id("messages"),
        useridfrom=call.token.userid,
        useridto=msg["touserid"],
        text=as_html(raw),
        fullmessage=_TAGS.sub("", raw) + "\n" if _TAGS.search(raw) else raw,
        fullmessageformat=fmt,
        fullmessagehtml=raw if fmt == 1 else "",
        timecreated=call.state.clock(),
        conversationid=_conversation(call, msg["touserid"]),
        clientmsgid=msg.get("clientmsgid"),
    )
    call.state.messages.append(stored)
    return stored


def send_instant_messages(call: Call) -> list[dict[str, Any]]:
    call.require("moodle/site:sendmessage", "Send messages to any user")
    results = []
    with call.state.lock:
        for msg in call.params["messages"]:
            echo = {"clientmsgid": msg["clientmsgid"]} if "clientmsgid" in msg else {}
            reason = _refusal(call, msg["touserid"], msg["text"])
            if reason is not None:
                results.append({"msgid": -1} | echo | {"errormessage": reason} | _NO_DELETE)
                continue
            m = _store(call, msg)
            sent = {
                "text": m.text,
                "timecreated": m.timecreated,
                "conversationid": m.conversationid,
                "useridfrom": m.useridfrom,
            }
            results.append({"msgid": m.id} | echo | sent | _NO_DELETE)
    return results


def _message_out(call: Call, m: Message) -> dict[str, Any]:
    sender, recipient = call.state.users[m.useridfrom], call.state.users[m.useridto]
    custom = {
        "notificationiconurl": profile_url(call.state, "f1"),
        "actionbuttons": {"send": "Send"},
        "placeholders": {"send": "Write a message..."},
        "courseid": 1,
    }
    return {
        "id": m.id,
        "useridfrom": m.useridfrom,
        "useridto": m.useridto,
        "subject": f"New message from {sender.fullname}",
        "text": m.text,
        "fullmessage": m.fullmessage,
        "fullmessageformat": m.fullmessageformat,
        "fullmessagehtml": m.fullmessagehtml,
        "smallmessage": m.fullmessagehtml or m.fullmessage,
        "notification": 0,
        "contexturl": "",
        "contexturlname": "",
        "timecreated": m.timecreated,
        "timeread": None,
        "usertofullname": recipient.fullname,
        "userfromfullname": sender.fullname,
        "customdata": json.dumps(custom, separators=(",", ":")),
    }


def get_messages(call: Call) -> dict[str, Any]:
    p = call.params
    if p["type"] not in ("notifications", "conversations", "both"):
        raise invalid(f"Invalid type {p['type']!r}")
    me = call.token.userid
    own = me in (p["useridto"], p["useridfrom"])
    if not own and not call.token.can("moodle/site:readallmessages"):
        raise WsError("moodle_exception", "accessdenied", "Access denied")
    found = [
        m
        for m in call.state.messages
        if p["type"] != "notifications"
        and p["read"] != 1  # the sandbox's messages are never read
        and (not p["useridfrom"] or m.useridfrom == p["useridfrom"])
        and (not p["useridto"] or m.useridto == p["useridto"])
    ]
    found.sort(key=lambda m: m.id, reverse=p["newestfirst"])
    start, size = p["limitfrom"], p["limitnum"]
    page = found[start : start + size] if size else found[start:]
    return {"messages": [_message_out(call, m) for m in page], "warnings": []}


FUNCTIONS = [
    WsFunction(
        "core_message_get_member_info",
        Struct(
            {
                "referenceuserid": Scalar("int"),
                "userids": ListOf(Scalar("int")),
                "includecontactrequests": Scalar("bool", "default", False),
                "includeprivacyinfo": Scalar("bool", "default", False),
            }
        ),
        get_member_info,
    ),
    WsFunction(
        "core_message_send_instant_messages",
        Struct(
            {
                "messages": ListOf(
                    Struct(
                        {
                            "touserid": Scalar("int"),
                            "text": Scalar("raw"),
                            "textformat": Scalar("int", "default", 0),
                            "clientmsgid": Scalar("alphanumext", "optional"),
                        }
                    )
                )
            }
        ),
        send_instant_messages,
    ),
    WsFunction(
        "core_message_get_messages",
        Struct(
            {
                "useridto": Scalar("int"),
                "useridfrom": Scalar("int", "default", 0),
                "type": Scalar("alpha", "default", "both"),
                "read": Scalar("int", "default", 1),
                "newestfirst": Scalar("bool", "default", True),
                "limitfrom": Scalar("int", "default", 0),
                "limitnum": Scalar("int", "default", 0),
            }
        ),
        get_messages,
    ),
]
