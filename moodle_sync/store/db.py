"""Engine, sessions and schema upgrades: the one place that opens the database.

The schema is owned by Alembic; `open_database` brings any database to the newest revision
before first use, so a fresh machine needs no separate setup step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # Alembic (with Mako) costs a few hundred ms: imported only to migrate
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs (psycopg2 is not a dependency)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str) -> Engine:
    """An engine with SQLite set up for a worker and readers at once (WAL, FK checks)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: no schema yet), read without Alembic."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version"))
            revision: str | None = found.scalar_one_or_none()
            return revision
    except (OperationalError, ProgrammingError):  # no alembic_version table
        return None


def head_revision(engine: Engine | None = None) -> str | None:
    """The newest migration's revision, read from the files (see `script_head`)."""
    return script_head()


@cache
def script_head() -> str | None:
    """The revision no other migration names as its `down_revision`.

    Read from the migration files' two assignments rather than through Alembic, so that a
    command on an up-to-date database never imports Alembic; a test checks it agrees.
    """
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for name, value in re.findall(
            r'^(revision|down_revision)\b[^=]*= *"([^"]+)"', source, re.M
        ):
            (revisions if name == "revision" else downs).add(value)
    heads = sorted(revisions - downs)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {heads}")
    return heads[0]


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Apply every pending migration; return the revisions before and after."""
    before = current_revision(engine)
    if before != head_revision(engine):
        from alembic import command

        migrator = _transactional_sqlite(engine)
        try:
            command.upgrade(alembic_config(migrator), "head")
        finally:
            if migrator is not engine:
                migrator.dispose()
    return before, current_revision(engine)


def _transactional_sqlite(engine: Engine) -> Engine:
    """For SQLite, an engine whose transactions really cover DDL.

    Python's sqlite3 commits before every CREATE/ALTER on its own, so a process killed
    mid-migration left tables without the revision that made them, and every later run failed
    with "table ... already exists". With the driver's own transaction handling off and an
    explicit BEGIN IMMEDIATE, a migration is all or nothing (and two first runs queue).
    """
    if engine.dialect.name != "sqlite":
        return engine
    migrator = create_engine(engine.url, connect_args={"timeout": 30})

    @event.listens_for(migrator, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, _record)
        dbapi_connection.isolation_level = None

    @event.listens_for(migrator, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return migrator


@contextmanager
def rolled_back(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions whose every commit is undone at the end (a dry run's push stage).

    One connection holds an outer transaction; each session commit only releases a savepoint
    inside it. SQLite's Python driver would let the first savepoint start (and its release
    commit) a real transaction, so on SQLite the connection opens the transaction itself.
    """
    scoped = engine
    if engine.dialect.name == "sqlite":
        scoped = create_engine(engine.url, connect_args={"timeout": 30})

        @event.listens_for(scoped, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, _record)
            dbapi_connection.isolation_level = None

        @event.listens_for(scoped, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    try:
        with scoped.connect() as connection:
            outer = connection.begin()
            try:
                yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                   expire_on_commit=False)  # fmt: skip
            finally:
                outer.rollback()
    finally:
        if scoped is not engine:
            scoped.dispose()


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Open the database, upgrading its schema first if it is behind."""
    engine = create_db_engine(url)
    upgrade(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
