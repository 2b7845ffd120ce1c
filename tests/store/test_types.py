"""UTCDateTime on SQLite: the fast path stores the text SQLAlchemy's DATETIME stores."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, select, text

from moodle_sync.store.types import UTCDateTime

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 7, 1, 12, 30, 5, 123456, tzinfo=LONDON),  # BST: stored as 11:30:05 UTC
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        None,
    ],
)
def test_stored_text_and_value_read_back_match_sqlalchemys(when: datetime | None) -> None:
    engine = create_engine("sqlite://")
    meta = MetaData()
    ours = Table("ours", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    plain = Table("plain", meta, Column("id", Integer, primary_key=True), Column("at", DateTime))
    meta.create_all(engine)
    naive_utc = None if when is None else when.astimezone(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(ours.insert(), [{"id": 1, "at": when}])
        connection.execute(plain.insert(), [{"id": 1, "at": naive_utc}])
        stored = [connection.scalar(text(f"SELECT at FROM {t}")) for t in ("ours", "plain")]
        back = connection.scalar(select(ours.c.at))
    assert stored[0] == stored[1]
    assert back == when and (back is None or back.tzinfo is UTC)


def test_a_naive_datetime_is_refused() -> None:
    engine = create_engine("sqlite://")
    meta = MetaData()
    ours = Table("ours", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    meta.create_all(engine)
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as connection:
        connection.execute(ours.insert(), [{"id": 1, "at": datetime(2026, 1, 1)}])
