"""Disposable real Moodle sites for the live tests, one per version: build once, reset fast.

    python -m tests.live.site build [VERSION...] [--phpunit] [--jobs N]   # or `make live-site`
    python -m tests.live.site reset [VERSION...]    # back to the starting data (snapshot)
    python -m tests.live.site rebuild [VERSION...]  # from scratch (new source, changed scripts)
    python -m tests.live.site start | stop | status [VERSION...]

The versions and their sources are tests/live/versions.py's (``MOODLE_SRC``: a tarball, a
checkout, or a folder of tarballs, default ``../shared/moodle/source`` beside the clone); no
VERSION means every one found. A second build reuses a built site; ``--phpunit`` also
initialises Moodle's own PHPUnit in it (tests/live/phpunit.py), ``--jobs`` builds several
versions at once. Each version lives under ``var/live/<version>/`` (gitignored): the code
(``moodle/``), serving both the site (tables ``mdl_``) and Moodle's PHPUnit (tables ``phpu_``, in
a database of their own), the data roots, the PHP built-in server's log, and ``site.json``. A
PostgreSQL cluster of its own (``var/live/pg``) serves every version unless
``MOODLE_SYNC_TEST_POSTGRES_URL`` names a server.

``site.json`` (mode 0600) holds the site's tokens, **for the tests only**: a throwaway site on
a loopback port, never a real one. Nothing the project commits holds a token.

The site is set up from the project's own truth (``tests/live/php/configure.php``): an external
service with exactly the registry's functions and a system role with exactly its capabilities,
then the sandbox's default scenario is loaded with Moodle's data generator
(``tests/live/php/load_scenario.php``), its dates resolved against ``anchor``: the last 10:00
Europe/London before the build, so ``run --now <anchor>`` sees the cohort as the sandbox does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from tests.live.versions import PRIMARY, Version

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "live"
PHP_DIR = Path(__file__).resolve().parent / "php"
PHP = ["php", "-d", "max_input_vars=5000", "-d", "memory_limit=512M"]
# One name per clone and version: CI and several checkouts may share one PostgreSQL server.
DB_PREFIX = f"moodle_live_{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"
# This checkout's plugins and where each goes in a site's code; a missing folder is skipped.
PLUGINS = {"local_cetadsync": "local/cetadsync", "block_cetadsync": "blocks/cetadsync"}
SERVICE, ADMIN_SERVICE, ROLE = "cetad_sync", "live_tests_admin", "cetad_sync_integration"
STUDENT_FUNCTIONS = [
    "core_webservice_get_site_info",
    "core_message_get_messages",
    "core_message_get_conversations",
    "core_message_get_conversation_messages",
]
ADMIN_PASSWORD = "Live-tests-admin-1"  # a loopback throwaway site; the admin uses tokens


class LiveSiteError(RuntimeError):
    """Building, starting or calling the live site failed; the message says what to do."""


class MoodleError(LiveSiteError):
    """A web-service call answered with Moodle's exception envelope."""

    def __init__(self, function: str, answer: dict[str, Any]) -> None:
        self.function, self.errorcode = function, answer.get("errorcode")
        self.answer = answer
        super().__init__(f"{function} failed: {answer.get('errorcode')}: {answer.get('message')}")


# --- the site's database server ------------------------------------------------------------


@dataclass
class Database:
    """Where the site's database lives: its own cluster under var/live, or a named server."""

    host: str
    port: int
    user: str
    password: str = ""
    datadir: str = ""  # set when the cluster is ours to start and stop
    name: str = DB_PREFIX  # the site's database; its snapshot is name + "_snapshot"

    @property
    def snapshot(self) -> str:
        return f"{self.name}_snapshot"

    def connect(self, dbname: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            autocommit=True,
        )

    def execute(self, *statements: str) -> None:
        with self.connect() as connection:
            for statement in statements:
                connection.execute(statement)

    def recreate(self, name: str, template: str | None = None) -> None:
        """Drop ``name`` (closing its connections) and create it, empty or from a template.
        A test site's commits need not wait for the disk: installs commit one row at a time,
        and 1,000 such commits took 3-4 s here with the wait, 0.4-1 s without."""
        source = f' TEMPLATE "{template}"' if template else " TEMPLATE template0 ENCODING 'UTF8'"
        self.execute(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}"{source}',
            f'ALTER DATABASE "{name}" SET synchronous_commit = off',
        )

    def ensure_running(self) -> None:
        if not self.datadir:
            return
        pg_ctl = [*_as_postgres(), f"{_pg_bindir()}/pg_ctl", "-D", self.datadir]
        if subprocess.run([*pg_ctl, "status"], capture_output=True).returncode == 0:
            return
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([*pg_ctl, "-o", options, "-l", f"{self.datadir}/../log", "-w", "start"])

    def stop(self) -> None:
        if self.datadir:
            subprocess.run(
                [
                    *_as_postgres(),
                    f"{_pg_bindir()}/pg_ctl",
                    "-D",
                    self.datadir,
                    "-m",
                    "fast",
                    "stop",
                ],
                capture_output=True,
            )


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg_bindir() -> str:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        raise LiveSiteError(
            "no PostgreSQL under /usr/lib/postgresql: apt-get install postgresql, "
            "or set MOODLE_SYNC_TEST_POSTGRES_URL"
        )
    return str(versions[-1].parent)


def database_server() -> Database:
    """The server named by MOODLE_SYNC_TEST_POSTGRES_URL, else a new cluster of our own."""
    if url := os.environ.get("MOODLE_SYNC_TEST_POSTGRES_URL"):
        parts = urlsplit(url)
        return Database(
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            parts.username or "postgres",
            parts.password or "",
        )
    pgdir = VAR / "pg"
    pgdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(pgdir, "postgres", "postgres")
    data = pgdir / "data"
    if not (data / "PG_VERSION").exists():
        _run(
            [
                *_as_postgres(),
                f"{_pg_bindir()}/initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
        )
    running = data / "postmaster.pid"  # left running by an earlier build: keep its port
    port = int(running.read_text().splitlines()[3]) if running.exists() else free_port()
    return Database("127.0.0.1", port, "postgres", datadir=str(data))


# --- the site -----------------------------------------------------------------------------


@dataclass
class LiveSite:
    """A built site: what the live tests (and the plugin's tests) use. See the module doc."""

    url: str
    admin_token: str
    token: str
    dirroot: Path
    dataroot: Path
    database: Database
    anchor: int  # epoch seconds the scenario's relative dates were resolved against
    no_capability_token: str = ""
    student_tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    php: list[str] = field(default_factory=lambda: list(PHP))
    timings: dict[str, float] = field(default_factory=dict)
    version: str = ""  # the label tests/live/versions.py gives it (4.5.6, 5.0.6+)
    release: str = ""  # as its version.php says: 4.5.6 (Build: 20250811)
    home: Path = VAR  # its folder under var/live: site.json, logs, PHPUnit's data root

    # -- the contract the plugin's tests rely on --

    def call(self, function: str, token: str | None = None, **params: Any) -> Any:
        """One REST call (the admin's token unless another is given); raises MoodleError."""
        data = [
            ("wstoken", token or self.admin_token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *flatten(params),
        ]
        answer = requests.post(f"{self.url}/webservice/rest/server.php", data=data, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        if isinstance(body, dict) and "exception" in body:
            raise MoodleError(function, body)
        return body

    def php_cli(self, script: Path | str, *args: object) -> subprocess.CompletedProcess[str]:
        """Run a PHP CLI script with the site's PHP settings, from the code directory.

        The script finds the site's config as ``getenv('MOODLE_DIRROOT') . '/config.php'``, or
        by its own path when it lives inside the code directory (a plugin's ``cli/`` script).
        """
        env = {**os.environ, "MOODLE_DIRROOT": str(self.dirroot)}
        return subprocess.run(
            [*self.php, str(script), *(str(arg) for arg in args)],
            cwd=self.dirroot,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def upgrade(self) -> None:
        """Install or upgrade plugins copied into dirroot, then let the admin call their
        functions. The snapshot is retaken, so reset() keeps the plugin: call reset() first
        when earlier tests may have changed the data, or the snapshot keeps their changes."""
        self._checked(
            self.php_cli("admin/cli/upgrade.php", "--non-interactive", "--allow-unstable")
        )
        self._checked(self.php_cli(PHP_DIR / "sync_admin_service.php", ADMIN_SERVICE))
        self._checked(self.php_cli("admin/cli/purge_caches.php"))
        self.snapshot()

    def sync_role(self, capabilities: list[str]) -> dict[str, list[str]]:
        """Give the integration user's role exactly these capabilities; says what changed."""
        done = self.php_cli(PHP_DIR / "sync_role.php", ROLE, *capabilities)
        changes: dict[str, list[str]] = json.loads(self._checked(done))
        return changes

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run SQL on the site's database (tables are prefixed mdl_), then empty its caches."""
        with self.database.connect(self.database.name) as connection:
            cursor = connection.execute(statement, params or None)
            rows = cursor.fetchall() if cursor.description else []
        self.purge_caches()
        return rows

    def purge_caches(self) -> None:
        for name in ("cache", "localcache"):
            shutil.rmtree(self.dataroot / name, ignore_errors=True)

    def reset(self) -> None:
        """Back to the starting data: the database from its snapshot, caches emptied."""
        started = time.monotonic()
        self.database.ensure_running()
        self.database.recreate(self.database.name, template=self.database.snapshot)
        for name in ("cache", "localcache", "sessions"):
            shutil.rmtree(self.dataroot / name, ignore_errors=True)
        (self.dataroot / "climaintenance.html").unlink(missing_ok=True)
        self.timings["last_reset_seconds"] = round(time.monotonic() - started, 2)

    # -- the rest --

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 80)

    def snapshot(self) -> None:
        self.database.recreate(self.database.snapshot, template=self.database.name)

    def _checked(self, done: subprocess.CompletedProcess[str]) -> str:
        if done.returncode != 0:
            raise LiveSiteError(
                f"{' '.join(map(str, done.args))} exited {done.returncode}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def answers(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url}/login/index.php", timeout=5).status_code < 500
        return False

    def start(self) -> None:
        """Start the database (when ours) and the PHP built-in server, unless running."""
        self.database.ensure_running()
        if self.answers():
            return
        log = (self.home / "php-server.log").open("ab")
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "2"}
        server = subprocess.Popen(
            [*self.php, "-S", f"127.0.0.1:{self.port}", "-t", str(self.dirroot)],
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
        (self.home / "php-server.pid").write_text(str(server.pid))
        deadline = time.monotonic() + 30
        while not self.answers():
            if server.poll() is not None or time.monotonic() > deadline:
                raise LiveSiteError(
                    f"the PHP server on port {self.port} did not start; "
                    f"see {self.home / 'php-server.log'}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the PHP server (the database cluster serves every version: stop_all())."""
        pidfile = self.home / "php-server.pid"
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pidfile.read_text()), signal.SIGTERM)
            pidfile.unlink()

    def add_plugins(self) -> list[Path]:
        """Copy this checkout's plugins into the code (replacing any older copy)."""
        targets = []
        for name, to in PLUGINS.items():
            if (ROOT / name).is_dir():
                target = self.dirroot / to
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(ROOT / name, target)
                targets.append(target)
        return targets

    def remove_plugins(self) -> None:
        for to in PLUGINS.values():
            shutil.rmtree(self.dirroot / to, ignore_errors=True)

    def save(self, path: Path | None = None) -> None:
        state = {k: v for k, v in self.__dict__.items() if k not in ("php",)}
        state |= {
            "dirroot": str(self.dirroot),
            "dataroot": str(self.dataroot),
            "home": str(self.home),
            "database": self.database.__dict__,
        }
        path = path or self.home / "site.json"
        path.touch(mode=0o600)
        os.chmod(path, 0o600)
        path.write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path | None = None) -> LiveSite:
        path = path or STATE_FILE
        state = json.loads(path.read_text())
        state |= {
            "dirroot": Path(state["dirroot"]),
            "dataroot": Path(state["dataroot"]),
            "home": Path(state.get("home") or path.parent),
            "database": Database(**state["database"]),
        }
        return cls(**state)


def home_of(version: Version | str) -> Path:
    """A version's folder under var/live: 5.0.6+ -> var/live/5.0.6plus."""
    slug = version.slug if isinstance(version, Version) else version.replace("+", "plus")
    return VAR / slug


def state_file(version: Version | str) -> Path:
    return home_of(version) / "site.json"


STATE_FILE = state_file(PRIMARY)  # the primary version's site (the benchmarks, the demo)


def flatten(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """PHP bracket syntax: lists become [i], dicts [key]; booleans 0/1 (Moodle refuses true)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            pairs += flatten(value, name)
        elif isinstance(value, list | tuple):
            pairs += flatten({str(i): item for i, item in enumerate(value)}, name)
        else:
            pairs.append((name, str(int(value)) if isinstance(value, bool) else str(value)))
    return pairs


# --- building ------------------------------------------------------------------------------


def build(version: Version, server: Database | None = None) -> LiveSite:
    """Build one version's site, or start and return the one already built."""
    home = home_of(version)
    if (home / "site.json").exists():
        site = LiveSite.load(home / "site.json")
        site.start()
        return site
    if version.source is None or version.problem:
        raise LiveSiteError(f"Moodle {version.label}: {version.problem or 'no source'}")
    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started - sum(timings.values()), 1)

    home.mkdir(parents=True, exist_ok=True)
    dirroot, dataroot = home / "moodle", home / "moodledata"
    unpack(version.source, dirroot, home)
    shutil.rmtree(dataroot, ignore_errors=True)
    lap("unpack_seconds")
    database = replace(server or database_server(), name=f"{DB_PREFIX}_{db_part(version)}")
    database.ensure_running()
    database.recreate(database.name)
    url = f"http://127.0.0.1:{free_port()}"
    site = LiveSite(
        url,
        "",
        "",
        dirroot,
        dataroot,
        database,
        anchor=anchor_before(datetime.now()),
        version=version.label,
        release=release_of(dirroot),
        home=home,
    )
    install(site)
    lap("install_seconds")
    scenario = write_json(home / "scenario.json", scenario_export(site.anchor))
    site.ids = json.loads(site._checked(site.php_cli(PHP_DIR / "load_scenario.php", scenario)))
    lap("scenario_seconds")
    setup = write_json(home / "setup.json", setup_export())
    tokens = json.loads(site._checked(site.php_cli(PHP_DIR / "configure.php", setup)))
    site.token, site.admin_token = tokens["token"], tokens["admin_token"]
    site.no_capability_token, site.student_tokens = (
        tokens["no_capability_token"],
        tokens["student_tokens"],
    )
    lap("configure_seconds")
    site.snapshot()
    site.timings = timings | {"build_seconds": round(time.monotonic() - started, 1)}
    site.save()
    site.start()
    return site


def db_part(version: Version) -> str:
    """A version's part of its database names: 5.0.6+ -> 5_0_6plus."""
    return re.sub(r"[^a-z0-9]", "_", version.slug.lower())


def release_of(dirroot: Path) -> str:
    found = re.search(r"\$release\s*=\s*'([^']+)'", (dirroot / "version.php").read_text())
    return found.group(1) if found else ""


def unpack(source: Path, dirroot: Path, scratch_in: Path) -> None:
    """The Moodle code from a tarball or a checkout into dirroot; a tarball that cannot be
    read fails naming it."""
    if not source.exists():
        raise LiveSiteError(
            f"MOODLE_SRC {str(source)!r} does not exist: give a Moodle tarball, "
            "an unpacked checkout or a folder of tarballs"
        )
    shutil.rmtree(dirroot, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(
            source, dirroot, symlinks=True, ignore=shutil.ignore_patterns(".git", "config.php")
        )
        return
    with tempfile.TemporaryDirectory(dir=scratch_in) as scratch:
        done = subprocess.run(
            ["tar", "-xf", str(source), "-C", scratch], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise LiveSiteError(f"cannot unpack {source}: {done.stderr.strip()[-1000:]}")
        tops = [p for p in Path(scratch).iterdir() if p.is_dir()]
        if len(tops) != 1:
            raise LiveSiteError(f"{source} does not unpack to one folder (found {len(tops)})")
        tops[0].rename(dirroot)
    if not (dirroot / "version.php").exists():
        raise LiveSiteError(
            f"{source} does not hold a Moodle code tree (no version.php at its top)"
        )


def install(site: LiveSite) -> None:
    db = site.database
    site._checked(
        site.php_cli(
            "admin/cli/install.php",
            "--non-interactive",
            "--agree-license",
            "--allow-unstable",
            f"--wwwroot={site.url}",
            f"--dataroot={site.dataroot}",
            "--dbtype=pgsql",
            f"--dbhost={db.host}",
            f"--dbport={db.port}",
            f"--dbname={db.name}",
            f"--dbuser={db.user}",
            f"--dbpass={db.password}",
            "--prefix=mdl_",
            "--fullname=CETAD Test Moodle",
            "--shortname=CETADTEST",
            "--adminuser=admin",
            f"--adminpass={ADMIN_PASSWORD}",
            "--adminemail=admin@example.ac.uk",
            "--lang=en",
        )
    )
    config = site.dirroot / "config.php"
    text = config.read_text()
    extra = "$CFG->noemailever = true;  // a test site: messages are never emailed\n"
    config.write_text(
        text.replace(
            "require_once(__DIR__ . '/lib/setup.php');",
            extra + "require_once(__DIR__ . '/lib/setup.php');",
        )
    )


def anchor_before(moment: datetime) -> int:
    """The last 10:00 Europe/London at or before ``moment``: the cohort's 'now'."""
    london = ZoneInfo("Europe/London")
    local = moment.astimezone(london)
    ten = local.replace(hour=10, minute=0, second=0, microsecond=0)
    return int((ten if ten <= local else ten - timedelta(days=1)).timestamp())


def scenario_export(anchor: int) -> dict[str, Any]:
    """The sandbox's default scenario with every date resolved against ``anchor``."""
    from moodle_sync.sandbox.scenario import read_scenario, resolve

    scenario = read_scenario().model_dump()
    dates = (
        "startdate",
        "enddate",
        "allowsubmissionsfromdate",
        "duedate",
        "cutoffdate",
        "gradingduedate",
        "extensionduedate",
    )
    for table in ("courses", "assignments", "userflags", "overrides"):
        scenario[table] = [
            row | {k: resolve(row.get(k), anchor) for k in dates if k in row}
            for row in scenario[table]
        ]
    for table in ("submissions", "grades"):
        scenario[table] = [
            row | {"timemodified": resolve(row.get("timemodified", "+0s"), anchor)}
            for row in scenario[table]
        ]
    return scenario | {"anchor": anchor}


def setup_export() -> dict[str, Any]:
    """What configure.php sets up, from the registry the admin guide is generated from."""
    from moodle_sync.client import registry
    from moodle_sync.sandbox.scenario import read_scenario

    users = read_scenario().users
    return {
        "functions": [spec.name for spec in registry.FUNCTIONS],
        "capabilities": registry.all_capabilities(),
        "service": SERVICE,
        "admin_service": ADMIN_SERVICE,
        "role": ROLE,
        "integration_user": "cetad_sync",
        "no_capability_user": "cetad_nocap",
        "student_functions": STUDENT_FUNCTIONS,
        "students": [u["username"] for u in users if u.get("idnumber", "").startswith("P")],
    }


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, indent=1))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise LiveSiteError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    from tests.live.matrix import main as every_version

    return every_version(argv)


if __name__ == "__main__":
    sys.exit(main())
