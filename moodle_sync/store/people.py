"""How a person is named to support staff: "Amelia Hughes (p1001)", never a bare id."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from moodle_sync.errors import ScopeError
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


def find_user(session: Session, who: str) -> User:
    """A stored user by Moodle id, username or email."""
    query = select(User).where(or_(User.username == who, User.email == who))
    if who.isdigit():
        query = select(User).where(User.id == int(who))
    users = list(session.scalars(query))
    if len(users) != 1:
        found = "no stored user" if not users else f"{len(users)} stored users"
        raise ScopeError(
            [
                f"{found} match {who!r}: give a Moodle user id, a username or an email "
                "(the store knows the users of the programme's courses after a sync)"
            ]
        )
    return users[0]
