"""upsert: insert new rows, update changed ones, keep the columns asked for; the same result on
SQLite (straight to the driver) and on PostgreSQL (through SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from moodle_sync.store.db import open_database
from moodle_sync.store.tables import User
from moodle_sync.store.upsert import upsert

SEEN = datetime(2026, 12, 1, 9, 30, 15, 250000, tzinfo=UTC)


def user(uid: int, name: str, seen: datetime) -> dict[str, object]:
    return {"id": uid, "username": f"u{uid}", "idnumber": None, "firstname": name,
            "lastname": "X", "email": None, "first_seen_at": seen,
            "last_seen_at": seen}  # fmt: skip


def test_upsert_inserts_updates_and_keeps_what_it_is_told(database_url: str) -> None:
    _engine, sessions = open_database(database_url)
    later = SEEN + timedelta(days=1)
    with sessions.begin() as session:
        upsert(session, User, [user(1, "Ann", SEEN), user(2, "Bob", SEEN)])
    with sessions.begin() as session:
        upsert(session, User, [user(1, "Anna", later), user(3, "Cy", later)],
               keep_on_update=["first_seen_at"])  # fmt: skip
        upsert(session, User, [user(2, "Robert", later)], update=False)
    with sessions() as session:
        rows = {u.id: u for u in session.scalars(select(User))}
    assert {i: r.firstname for i, r in rows.items()} == {1: "Anna", 2: "Bob", 3: "Cy"}
    assert (rows[1].first_seen_at, rows[1].last_seen_at) == (SEEN, later)
    assert rows[2].last_seen_at == SEEN and rows[3].first_seen_at == later
