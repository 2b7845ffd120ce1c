"""Idempotent bulk writes: `INSERT ... ON CONFLICT DO UPDATE` on SQLite and PostgreSQL.

One statement per batch instead of a round trip per row; rerunning a sync with the same data
changes nothing, which is what makes a crashed run safe to repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

# SQLite allows 32,766 bound variables per statement; keep batches well below it.
MAX_VARIABLES = 30_000


def upsert(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keep_on_update: Sequence[str] = (),
) -> None:
    """Insert `rows`, or update them in place when their primary key already exists.

    Columns named in `keep_on_update` (for example `first_seen_at`) keep their stored value.
    """
    if not rows:
        return
    table: Table = model.__table__  # type: ignore[assignment]
    keys = [column.name for column in table.primary_key.columns]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    per_row = max(len(rows[0]), 1)
    size = max(MAX_VARIABLES // per_row, 1)
    for start in range(0, len(rows), size):
        statement = insert(table).values(list(rows[start : start + size]))
        changed = {
            name: statement.excluded[name]
            for name in rows[0]
            if name not in keys and name not in keep_on_update
        }
        if changed:
            statement = statement.on_conflict_do_update(index_elements=keys, set_=changed)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        session.execute(statement)
