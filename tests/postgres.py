"""A real PostgreSQL server for the tests.

The one named by MOODLE_SYNC_TEST_POSTGRES_URL, else a throwaway cluster started from the
local PostgreSQL binaries (Debian keeps them in /usr/lib/postgresql/<version>/bin). Without
either the PostgreSQL tests skip with the reason; with MOODLE_SYNC_REQUIRE_POSTGRES=1 that is
a failure instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

URL_ENV = "MOODLE_SYNC_TEST_POSTGRES_URL"
REQUIRE_ENV = "MOODLE_SYNC_REQUIRE_POSTGRES"


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(f"no PostgreSQL server: {reason}; set {URL_ENV} or install postgresql")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an admin URL of a server that may create databases."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("no initdb under /usr/lib/postgresql/*/bin")
    with throwaway_cluster(Path(found[-1]).parent) as url:
        yield url


@contextmanager
def throwaway_cluster(bindir: Path) -> Iterator[str]:
    workdir = Path(tempfile.mkdtemp(prefix="moodle-sync-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:  # initdb and pg_ctl refuse to run as root
        shutil.chown(workdir, "postgres", "postgres")
    data, port = workdir / "data", free_port()
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8"])  # fmt: skip
        run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
             "-l", str(workdir / "log"), "-w", "start"])  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        unavailable(f"could not start a throwaway cluster with {bindir}: {exc}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m",
                        "immediate", "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(workdir, ignore_errors=True)


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
