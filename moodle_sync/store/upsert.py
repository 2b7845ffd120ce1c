"""Idempotent bulk writes: `INSERT ... ON CONFLICT DO UPDATE` on SQLite and PostgreSQL.

One statement compiled once and executed for the whole batch (SQLAlchemy's "insertmanyvalues"
sends it in large multi-row chunks), instead of a round trip per row; rerunning a sync with
the same data changes nothing, which is what makes a crashed run safe to repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def upsert(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keep_on_update: Sequence[str] = (),
    *,
    update: bool = True,
) -> None:
    """Insert `rows`, or update them in place when their primary key already exists.

    Every row must have the same keys. Columns named in `keep_on_update` (for example
    `first_seen_at`) keep their stored value; with `update=False` existing rows are left
    exactly as they are.
    """
    if not rows:
        return
    table: Table = model.__table__  # type: ignore[assignment]
    keys = [column.name for column in table.primary_key.columns]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    changed = {
        name: statement.excluded[name]
        for name in rows[0]
        if update and name not in keys and name not in keep_on_update
    }
    if changed:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=changed)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, list(rows))
