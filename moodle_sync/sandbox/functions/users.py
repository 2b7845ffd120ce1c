"""core_user_get_users_by_field and core_user_update_users (custom profile fields)."""

from __future__ import annotations

import re
from typing import Any

from moodle_sync.sandbox.errors import WsError
from moodle_sync.sandbox.functions.base import Call, WsFunction, profile_url
from moodle_sync.sandbox.model import User
from moodle_sync.sandbox.params import Desc, ListOf, Scalar, Struct, invalid

CODING_ERROR = "Coding error detected, it must be fixed by a programmer"
_SEARCHABLE = ("id", "idnumber", "username", "email")
_EDITABLE = ("firstname", "lastname", "email", "idnumber", "department", "institution", "city")
_OPTIONAL_TEXT = [
    "username",
    "auth",
    "password",
    "firstname",
    "lastname",
    "email",
    "city",
    "country",
    "timezone",
    "description",
    "firstnamephonetic",
    "lastnamephonetic",
    "middlename",
    "alternatename",
    "interests",
    "idnumber",
    "institution",
    "department",
    "phone1",
    "phone2",
    "address",
    "lang",
    "calendartype",
    "theme",
]


def user_details(call: Call, user: User) -> dict[str, Any]:
    """`user_get_user_details` as this function returns it; empty optional fields are absent."""
    entry: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "email": user.email,
    }
    entry |= {
        k: getattr(user, k) for k in ("department", "institution", "idnumber") if getattr(user, k)
    }
    entry |= {
        "firstaccess": 0,
        "lastaccess": 0,
        "auth": user.auth,
        "suspended": user.suspended,
        "confirmed": True,
        "lang": "en",
        "theme": "",
        "timezone": "99",
        "mailformat": 1,
    }
    entry |= {k: getattr(user, k) for k in ("city", "country") if getattr(user, k)}
    entry |= {
        "profileimageurlsmall": profile_url(call.state, "f2"),
        "profileimageurl": profile_url(call.state, "f1"),
    }
    fields = [
        {"type": kind, "value": value, "displayvalue": value, "name": name, "shortname": short}
        for short, (name, kind) in call.state.profile_fields.items()
        if (value := user.customfields.get(short))
    ]
    if fields:  # a user with no values has no customfields key at all (trap 11)
        entry["customfields"] = fields
    return entry


def _matches(user: User, field: str, values: list[str]) -> bool:
    return str(getattr(user, field)) in values


def get_users_by_field(call: Call) -> list[dict[str, Any]]:
    field, values = call.params["field"], call.params["values"]
    if field not in _SEARCHABLE:
        raise WsError("coding_exception", "codingerror", f"{CODING_ERROR}: Invalid field requested")
    if field == "id" and any(not re.fullmatch(r"-?\d+", v) for v in values):
        raise invalid("values => Invalid external api parameter: the value is not an integer")
    if field == "username" and any(v != v.lower() for v in values):
        raise invalid("values => Invalid external api parameter: username must be lower case")
    visible = [
        u
        for u in sorted(call.state.users.values(), key=lambda u: u.id)
        if _matches(u, field, values)
        and (u.id == call.token.userid or call.token.can("moodle/user:viewdetails"))
    ]
    return [user_details(call, u) for u in visible]


def _apply(call: Call, user: User, changes: dict[str, Any]) -> None:
    for key in _EDITABLE:
        if key in changes:
            setattr(user, key, changes[key])
    for field in changes.get("customfields", []):
        if field["type"] not in call.state.profile_fields:
            continue  # unknown shortnames are silently ignored
        if field["value"] == "":
            user.customfields.pop(field["type"], None)
        else:
            user.customfields[field["type"]] = field["value"]


def update_users(call: Call) -> dict[str, Any]:
    call.require("moodle/user:update", "Update user profiles")
    warnings = []
    with call.state.lock:
        for changes in call.params["users"]:
            user = call.state.users.get(changes["id"])
            if user is None:
                warnings.append(
                    {
                        "item": "user",
                        "itemid": changes["id"],
                        "warningcode": "invaliduserid",
                        "message": "Invalid user ID",
                    }
                )
                continue
            _apply(call, user, changes)
    return {"warnings": warnings}


_PAIR_RAW = Struct({"type": Scalar("raw"), "value": Scalar("raw")})
_UPDATE_FIELDS: dict[str, Desc] = {"id": Scalar("int")}
_UPDATE_FIELDS |= {name: Scalar("raw", "optional") for name in _OPTIONAL_TEXT}
_UPDATE_USER = Struct(
    _UPDATE_FIELDS
    | {
        "suspended": Scalar("bool", "optional"),
        "maildisplay": Scalar("int", "optional"),
        "userpicture": Scalar("int", "optional"),
        "mailformat": Scalar("int", "optional"),
        "customfields": ListOf(
            Struct({"type": Scalar("alphanumext"), "value": Scalar("raw")}), "optional"
        ),
        "preferences": ListOf(_PAIR_RAW, "optional"),
    }
)

FUNCTIONS = [
    WsFunction(
        "core_user_get_users_by_field",
        Struct({"field": Scalar("alpha"), "values": ListOf(Scalar("raw"))}),
        get_users_by_field,
    ),
    WsFunction("core_user_update_users", Struct({"users": ListOf(_UPDATE_USER)}), update_users),
]
