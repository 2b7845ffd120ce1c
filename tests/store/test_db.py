"""The schema, its migrations and the idempotent writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from moodle_sync.store.db import create_db_engine, current_revision, head_revision, open_database
from moodle_sync.store.tables import Base, Course
from moodle_sync.store.upsert import upsert

BST = timezone(timedelta(hours=1))


def course(course_id: int, name: str, seen: datetime) -> dict[str, object]:
    return {
        "id": course_id,
        "idnumber": f"CETAD-{name}",
        "shortname": name,
        "fullname": f"Module {name}",
        "category_id": 2,
        "visible": True,
        "start_at": None,
        "end_at": None,
        "first_seen_at": seen,
        "last_seen_at": seen,
    }


def test_first_use_creates_every_table_at_the_head_revision(database_url: str) -> None:
    engine, _ = open_database(database_url)
    tables = set(inspect(engine).get_table_names())
    assert {"courses", "users", "enrolments", "assignments", "submissions", "user_flags",
            "grades", "sync_runs", "bookmarks", "outbox"} <= tables  # fmt: skip
    assert current_revision(engine) == head_revision(engine)


def test_migrations_match_the_models_exactly(database_url: str) -> None:
    engine, _ = open_database(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_opening_twice_is_harmless(database_url: str) -> None:
    open_database(database_url)
    engine, _ = open_database(database_url)
    assert current_revision(engine) == head_revision(engine)


def test_datetimes_come_back_aware_and_in_utc_whatever_was_stored(database_url: str) -> None:
    _, sessions = open_database(database_url)
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=BST)
    with sessions.begin() as session:
        upsert(session, Course, [course(2, "RAPL", summer)])
    with sessions() as session:
        stored = session.scalars(select(Course)).one()
    assert stored.first_seen_at == summer
    assert stored.first_seen_at.tzinfo == UTC
    assert stored.first_seen_at.hour == 8


def test_upsert_updates_in_place_and_keeps_first_seen(database_url: str) -> None:
    _, sessions = open_database(database_url)
    first, later = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    with sessions.begin() as session:
        upsert(session, Course, [course(2, "RAPL", first), course(3, "MPC", first)])
    renamed = course(2, "RAPL", later) | {"fullname": "Prior learning"}
    with sessions.begin() as session:
        upsert(session, Course, [renamed], keep_on_update=("first_seen_at",))
    with sessions() as session:
        rows = {row.id: row for row in session.scalars(select(Course))}
    assert len(rows) == 2
    assert rows[2].fullname == "Prior learning"
    assert (rows[2].first_seen_at, rows[2].last_seen_at) == (first, later)


def test_upsert_splits_large_batches_under_the_variable_limit(database_url: str) -> None:
    _, sessions = open_database(database_url)
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [course(i, f"C{i}", seen) for i in range(1, 5001)]
    with sessions.begin() as session:
        upsert(session, Course, rows)
        upsert(session, Course, rows)
    with sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM courses")) == 5000


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_head_read_from_the_files_is_alembics_and_so_is_the_current_revision(
    database_url: str,
) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from moodle_sync.store.db import alembic_config, script_head

    engine, _ = open_database(database_url)
    assert script_head() == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        assert (
            current_revision(engine)
            == MigrationContext.configure(connection).get_current_revision()
        )
