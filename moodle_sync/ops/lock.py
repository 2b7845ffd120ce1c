"""One pipeline at a time, across processes and machines sharing the database.

PostgreSQL: a session-level advisory lock on a dedicated connection held for the whole run;
the server drops it the moment the holder's connection goes, so a crashed holder frees it at
once. The holder also writes its name into `pipeline_lock`, which `current_holder` shows
only while the advisory lock is really held. SQLite has no such lock, so it gets a lease:
the `pipeline_lock` row is taken by one atomic upsert that succeeds only if the row is
absent or expired, a heartbeat thread renews it every third of the lease, and a holder that
dies simply stops renewing, so its lease runs out after `worker.lock_lease_seconds`.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.errors import LockHeldError
from moodle_sync.settings import Settings
from moodle_sync.store.tables import PipelineLock
from moodle_sync.store.upsert import insert_for

log = logging.getLogger(__name__)
NAME = "pipeline"
ADVISORY_KEY = 0x4D53594E  # "MSYN"; under 2**31, so pg_locks shows it as objid with classid 0
POLL_SECONDS = 0.5
Clock = Callable[[], datetime]
HOLDER_PROCESS = re.compile(r"\(host (?P<host>[^,]+), pid (?P<pid>\d+)\)$")


@dataclass(frozen=True)
class LockHolder:
    """Who runs the pipeline now, and since when (`expires_at` is the SQLite lease's end)."""

    holder: str
    acquired_at: datetime
    expires_at: datetime | None = None

    def describe(self) -> str:
        return f"{self.holder} since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC"


def engine_of(target: Engine | sessionmaker[Session]) -> Engine:
    engine = target if isinstance(target, Engine) else target.kw["bind"]
    assert isinstance(engine, Engine), "the sessionmaker must be bound to an engine"
    return engine


def describe_process(command: str) -> str:
    return f"{command} (host {socket.gethostname()}, pid {os.getpid()})"


def died_here(holder: str) -> bool:
    """True if the holder ran on this machine and its process is gone (a crash, a SIGKILL).

    Its SQLite lease can then go at once instead of at expiry. A reused pid only errs the
    safe way: the lease is kept until it expires.
    """
    found = HOLDER_PROCESS.search(holder)
    if found is None or found["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(found["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, run by another user
        return False
    return False


@contextmanager
def pipeline_lock(
    target: Engine | sessionmaker[Session],
    settings: Settings,
    holder_description: str,
    *,
    clock: Clock = lambda: datetime.now(UTC),
) -> Iterator[Lease]:
    """Hold the pipeline lock for the block, waiting up to `worker.lock_wait_seconds`."""
    engine, worker = engine_of(target), settings.worker
    lease: Lease = (AdvisoryLock if engine.dialect.name == "postgresql" else SqliteLease)(
        engine, describe_process(holder_description), timedelta(seconds=worker.lock_lease_seconds),
        clock,
    )  # fmt: skip
    started = time.monotonic()
    while not lease.try_acquire():
        waited = time.monotonic() - started
        if waited >= worker.lock_wait_seconds:
            lease.release()
            holder = current_holder(engine, clock=clock)
            raise LockHeldError(holder.describe() if holder else None, waited)
        log.info("waiting for the pipeline lock, held by %s", current_holder(engine, clock=clock))
        time.sleep(min(POLL_SECONDS, worker.lock_wait_seconds - waited))
    log.info("pipeline lock taken by %s", lease.holder)
    try:
        yield lease
    finally:
        lease.release()


def current_holder(
    target: Engine | sessionmaker[Session], *, clock: Clock = lambda: datetime.now(UTC)
) -> LockHolder | None:
    """Who holds the pipeline lock now, or None (for waiting runners and `status`)."""
    engine = engine_of(target)
    with engine.connect() as connection:
        row = connection.execute(select(PipelineLock).where(PipelineLock.name == NAME)).first()
        if engine.dialect.name != "postgresql":
            if row is None or row.expires_at <= clock() or died_here(row.holder):
                return None
            return LockHolder(row.holder, row.acquired_at, row.expires_at)
        backend = connection.execute(text(ADVISORY_HOLDER), {"key": ADVISORY_KEY}).first()
    if backend is None:
        return None  # a row left by a holder that died is stale: the server freed the lock
    if row is None:  # taken a moment ago, its row not written yet
        return LockHolder(f"PostgreSQL backend pid {backend.pid}", backend.backend_start)
    return LockHolder(row.holder, row.acquired_at)


ADVISORY_HOLDER = """
SELECT l.pid, a.backend_start FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objsubid = 1
  AND l.objid = CAST(CAST(:key AS bigint) AS oid)
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class Lease(ABC):
    """One attempt to hold the lock; `lost` turns true if a SQLite lease was taken over."""

    def __init__(self, engine: Engine, holder: str, lease: timedelta, clock: Clock) -> None:
        self.engine, self.holder, self.lease, self.clock = engine, holder, lease, clock
        self.acquired_at: datetime | None = None
        self.lost = False

    @abstractmethod
    def try_acquire(self) -> bool: ...

    @abstractmethod
    def release(self) -> None: ...

    def mine(self) -> ColumnElement[bool]:
        return and_(
            PipelineLock.name == NAME,
            PipelineLock.holder == self.holder,
            PipelineLock.acquired_at == self.acquired_at,
        )


class SqliteLease(Lease):
    """The lease row, taken only when free or expired, renewed by a heartbeat thread."""

    def try_acquire(self) -> bool:
        now = self.clock().replace(microsecond=0)
        values = {"name": NAME, "holder": self.holder, "acquired_at": now,
                  "expires_at": now + self.lease}  # fmt: skip
        insert = insert_for("sqlite")(PipelineLock).values(values)
        upsert = insert.on_conflict_do_update(
            index_elements=[PipelineLock.name], set_=values, where=PipelineLock.expires_at <= now
        )
        with self.engine.begin() as connection:
            connection.execute(upsert)
            row = connection.execute(select(PipelineLock).where(PipelineLock.name == NAME)).one()
            stale = row.holder != self.holder and died_here(row.holder)
            if stale:  # expire it now, only if it is still that dead holder's
                same = (PipelineLock.holder == row.holder) & (
                    PipelineLock.acquired_at == row.acquired_at
                )
                connection.execute(update(PipelineLock).where(same).values(expires_at=now))
        if stale:
            return self.try_acquire()
        if (row.holder, row.acquired_at) != (self.holder, now):
            return False
        self.acquired_at = now
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name="lock-heartbeat", daemon=True)
        self._heartbeat.start()
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            try:
                renewed = self._renew()
            except Exception:  # a busy database now must not end the run; the next beat retries
                log.warning("could not renew the pipeline lease; retrying", exc_info=True)
                continue
            if not renewed:
                self.lost = True
                log.error("the pipeline lease of %s was taken over: this run stalled for "
                          "longer than worker.lock_lease_seconds", self.holder)  # fmt: skip
                return

    def _renew(self) -> bool:
        with self.engine.begin() as connection:
            renew = update(PipelineLock).where(self.mine())
            result = connection.execute(renew.values(expires_at=self.clock() + self.lease))
        return result.rowcount == 1

    def release(self) -> None:
        if self.acquired_at is None:
            return
        self._stop.set()
        self._heartbeat.join()
        with self.engine.begin() as connection:
            connection.execute(delete(PipelineLock).where(self.mine()))
        self.acquired_at = None


class AdvisoryLock(Lease):
    """`pg_try_advisory_lock` on a connection kept open (in autocommit) for the run."""

    connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        query = text("SELECT pg_try_advisory_lock(:key)")
        if not self.connection.execute(query, {"key": ADVISORY_KEY}).scalar_one():
            return False
        self.acquired_at = self.clock()
        values = {"name": NAME, "holder": self.holder, "acquired_at": self.acquired_at,
                  "expires_at": self.acquired_at + self.lease}  # fmt: skip
        insert = insert_for("postgresql")(PipelineLock).values(values)
        self.connection.execute(insert.on_conflict_do_update(index_elements=["name"], set_=values))
        return True

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            if self.acquired_at is not None:
                self.connection.execute(delete(PipelineLock).where(self.mine()))
                unlock = text("SELECT pg_advisory_unlock(:key)")
                self.connection.execute(unlock, {"key": ADVISORY_KEY})
        except Exception:
            self.connection.invalidate()  # closing the session is what frees the lock then
            raise
        finally:
            self.connection.close()
            self.connection, self.acquired_at = None, None
