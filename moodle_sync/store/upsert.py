"""Idempotent bulk writes: `INSERT ... ON CONFLICT DO UPDATE` on SQLite and PostgreSQL.

One statement compiled once and executed for the whole batch (SQLAlchemy's "insertmanyvalues"
sends it in large multi-row chunks), instead of a round trip per row; rerunning a sync with
the same data changes nothing, which is what makes a crashed run safe to repeat.

On SQLite the same statement goes straight to the driver's `executemany` with each value
converted once by its column type: SQLAlchemy's per-row parameter handling was a third of a
first sync's CPU (100,000 rows). Tables whose columns have Python-side defaults keep the
SQLAlchemy path, which applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase, Session

from moodle_sync.store.types import UTCDateTime


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
    statement = insert_for(dialect)(table)
    changed = {
        name: statement.excluded[name]
        for name in rows[0]
        if update and name not in keys and name not in keep_on_update
    }
    if dialect == "sqlite" and _plain_columns(table, rows[0]):
        _sqlite_executemany(session, table, rows, keys, list(changed))
        return
    if changed:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=changed)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, list(rows))


def insert_for(dialect: str) -> Callable[[Any], Any]:
    """`INSERT ... ON CONFLICT` for this database. Only its own dialect is imported:
    PostgreSQL's cost every command on SQLite about 30 ms of start-up."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _plain_columns(table: Table, row: Mapping[str, Any]) -> bool:
    """No column would get a Python-side default or onupdate value that raw SQL would miss."""
    return all(
        column.onupdate is None and (column.name in row or column.default is None)
        for column in table.columns
    )


def _sqlite_executemany(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    changed: Sequence[str],
) -> None:
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = list(rows[0])
    convert = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    action = (
        "DO UPDATE SET " + ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in changed)
        if changed
        else "DO NOTHING"
    )
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) {action}"
    )
    dates = {name for name in names if isinstance(table.c[name].type, UTCDateTime)}
    columns = [_converted([row[name] for row in rows], c, name in dates)
               for name, c in zip(names, convert, strict=True)]  # fmt: skip
    session.connection().exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _converted(values: list[Any], convert: Callable[[Any], Any] | None, repeats: bool) -> list[Any]:
    """A column's values as the driver takes them. A datetime column repeats its values (every
    row's seen-at is the run's start, many records share a second): each distinct one is
    converted once, which took a first sync's 280,000 conversions to a few thousand."""
    if convert is None:
        return values
    if not repeats:
        return list(map(convert, values))
    once = {value: convert(value) for value in set(values)}
    return list(map(once.__getitem__, values))
