"""How a person is named to support staff: "Amelia Hughes (p1001)", never a bare id."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from moodle_sync.store.tables import User

__all__ = ["name_of", "names"]


def name_of(user: User | None, user_id: int) -> str:
    if user is None:
        return f"user {user_id} (not in the store)"
    full = " ".join(part for part in (user.firstname, user.lastname) if part) or f"user {user_id}"
    return f"{full} ({user.username or user_id})"


def names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """Each id's display name, in one query."""
    wanted = set(user_ids)
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
    return {uid: name_of(found.get(uid), uid) for uid in wanted}
