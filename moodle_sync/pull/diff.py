"""Compare what Moodle returned with what is stored, and write only what changed.

Most of a nightly run is unchanged data (every enrolment and every extension is re-read in
full); writing only new and changed rows keeps such a run nearly write-free, and the counts
it returns are the sync-run ledger's read / inserted / updated / unchanged figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.orm import DeclarativeBase, Session

from moodle_sync.store.upsert import upsert

K = TypeVar("K", bound=Hashable)
Row = Mapping[Any, Any]  # str keys; RowMapping types its keys more loosely


@dataclass
class StreamCounts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0

    def add(self, other: StreamCounts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def stored_rows(
    session: Session,
    model: type[DeclarativeBase],
    where: ColumnElement[bool],
    key: Sequence[str],
    columns: Sequence[str],
) -> dict[Any, Row]:
    """The stored rows matching `where`, keyed like the incoming ones (a tuple of the `key`
    columns, or the one value of a one-column key), with just the `columns` a diff reads:
    a nightly run re-reads every enrolment, and decoding columns nobody compares (every row's
    seen-at times) was a third of that read."""
    table: Table = model.__table__  # type: ignore[assignment]
    names = list(dict.fromkeys([*key, *columns]))
    result = session.execute(select(*(table.c[name] for name in names)).where(where)).mappings()
    if len(key) == 1:
        return {row[key[0]]: row for row in result}
    return {tuple(row[name] for name in key): row for row in result}


def write_changes(
    session: Session,
    model: type[DeclarativeBase],
    incoming: Mapping[K, Row],
    stored: Mapping[K, Row],
    compare: Sequence[str],
    keep_on_update: Sequence[str] = (),
) -> StreamCounts:
    """Upsert the new and changed rows only; count every row read."""
    counts = StreamCounts(read=len(incoming))
    changed = []
    for key, row in incoming.items():
        before = stored.get(key)
        if before is None:
            counts.inserted += 1
        elif any(before[column] != row[column] for column in compare):
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        changed.append(row)
    upsert(session, model, changed, keep_on_update=keep_on_update)
    return counts
