"""Users and the custom profile fields moodle-sync writes progression status into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from moodle_sync.client.envelope import reading_answer
from moodle_sync.client.models import Result, User, parse_warnings
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester

__all__ = ["USER_FIELDS", "UserUpdate", "get_users_by_field", "update_users"]

USER_FIELDS = ("id", "idnumber", "username", "email")


@dataclass(frozen=True)
class UserUpdate:
    """New custom-field values for one user; ``""`` clears a value."""

    user_id: int
    customfields: Mapping[str, str]


def get_users_by_field(req: Requester, field: str, values: Sequence[str | int]) -> list[User]:
    """Calls: core_user_get_users_by_field, chunked.

    Users that do not exist or that the token cannot see are silently absent: compare the
    answer with what you asked for.
    """
    if field not in USER_FIELDS:
        raise ValueError(f"user field {field!r} is not one of {USER_FIELDS}")
    answer = req.call_batched("core_user_get_users_by_field", "values", values, {"field": field})
    with reading_answer("core_user_get_users_by_field"):
        return [User.model_validate(raw) for raw in answer]


def update_users(req: Requester, updates: Sequence[UserUpdate]) -> Result[list[int]]:
    """Calls: core_user_update_users (a write: sent once per chunk, never retried).

    ``data`` is the ids Moodle raised no warning for. Moodle silently ignores an unknown field
    shortname, so check the fields exist first (``moodle-sync check``).
    """
    rows = [_row(update) for update in updates]
    chunks = chunk_rows(
        rows,
        "users",
        fixed=None,
        budget=req.settings.max_input_vars,
        max_rows=req.settings.max_ids_per_call,
    )
    warnings = []
    for chunk in chunks:
        answer = req.call("core_user_update_users", {"users": chunk}, write=True)
        with reading_answer("core_user_update_users", write=True):
            warnings.extend(parse_warnings(answer))
    refused = {w.itemid for w in warnings if w.item == "user"}
    return Result([u.user_id for u in updates if u.user_id not in refused], warnings)


def _row(update: UserUpdate) -> dict[str, object]:
    fields = [{"type": name, "value": value} for name, value in update.customfields.items()]
    return {"id": update.user_id, "customfields": fields}
