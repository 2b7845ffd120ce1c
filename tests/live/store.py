"""What a run stored, normalised for comparison: no first/last-seen times, no run ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

PULLED = ("courses", "users", "enrolments", "assignments", "submissions", "grades",
          "user_flags", "due_date_overrides")  # fmt: skip
VOLATILE = ("first_seen_at", "last_seen_at", "checked_at", "pushed_at", "run_id", "updated_at",
            "planned_at", "sending_started_at", "sent_at", "moodle_message_id", "id",
            "enrolments_digest")  # fmt: skip


def stored_rows(
    database: Path, tables: tuple[str, ...] = PULLED
) -> dict[str, set[tuple[Any, ...]]]:
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        meta = sa.MetaData()
        meta.reflect(engine, only=list(tables))
        with engine.connect() as connection:
            return {name: {tuple(sorted((k, v) for k, v in row._mapping.items()
                                        if k not in VOLATILE or _is_key(name, k)))
                           for row in connection.execute(sa.select(meta.tables[name]))}
                    for name in tables}  # fmt: skip
    finally:
        engine.dispose()


def _is_key(table: str, column: str) -> bool:
    """Moodle's own ids are data (the same on both sites), the outbox's row id is not."""
    return column == "id" and table in PULLED


def differences(left: dict[str, set[Any]], right: dict[str, set[Any]]) -> dict[str, Any]:
    return {name: {"only_left": sorted(left[name] - right[name], key=repr)[:5],
                   "only_right": sorted(right[name] - left[name], key=repr)[:5],
                   "counts": (len(left[name]), len(right[name]))}
            for name in left if left[name] != right[name]}  # fmt: skip


def own_dates(rows: set[tuple[Any, ...]]) -> dict[tuple[int, int], tuple[Any, Any]]:
    """due_date_overrides rows as (assignment, user) -> (own due, own cut-off), None where it
    is the assignment's: the core path stores an answer for each open pair it asked, the
    plugin path a row only for a student whose dates are their own."""
    out = {}
    for row in rows:
        r = dict(row)
        out[(r["assignment_id"], r["user_id"])] = (
            r["due_at"] if r["due_overridden"] else None,
            r["cutoff_at"] if r["cutoff_overridden"] else None,
        )
    return out
