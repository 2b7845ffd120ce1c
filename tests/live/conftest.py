"""The live tier: tests against real Moodle sites, one per version (see tests/live/site.py).

Each site is the one `make live-site` built for that version (var/live/<version>/site.json),
or the one whose state file MOODLE_SYNC_LIVE_SITE names. The versions are
tests/live/versions.py's: every test runs on the primary one (4.5.6), and the smoke set (marker
`smoke`: check, a whole run on the core path and on the plugin's, the pages as a student and as
a tutor, Moodle's PHPUnit) on every other; each test's id names its version. A version without
a source or a built site skips with the reason; MOODLE_SYNC_REQUIRE_LIVE=1 turns that into a
failure, which is how CI (`.ci/run`) runs.

Fixtures: `moodle_version` (the version's label), `live_site` (session, per version; the
contract the plugin's tests use too: url, admin_token, token, dirroot, dataroot, php, reset(),
call(), php_cli(), upgrade()), `fresh_site` (the same site reset to its starting data first),
`cli` (runs `moodle-sync` against the site), `plugin_site` (session: the site with this
checkout's local_cetadsync, and block_cetadsync when it exists, installed once for every test
that needs them, Moodle's PHPUnit included) and `browser` (tests/live/browser.py: headless
Chromium on the site).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from moodle_sync.client import registry
from tests.live.browser import browser  # noqa: F401  (the fixture, for every live test)
from tests.live.matrix import BUILDING
from tests.live.site import LiveSite, LiveSiteError, home_of, state_file
from tests.live.versions import Version, discover, primary

LIVE_ENV = "MOODLE_SYNC_LIVE_SITE"
REQUIRE_ENV = "MOODLE_SYNC_REQUIRE_LIVE"
ROOT = Path(__file__).resolve().parents[2]

Cli = Callable[..., subprocess.CompletedProcess[str]]


def tier_versions() -> dict[str, Version]:
    """The versions this run tests: the one site MOODLE_SYNC_LIVE_SITE names, else all found."""
    if given := os.environ.get(LIVE_ENV):
        path = Path(given)
        label = json.loads(path.read_text()).get("version") if path.exists() else None
        return {label or "site": Version(label or "site", path)}
    return {v.label: v for v in discover()}


VERSIONS = tier_versions()
PRIMARY = primary(list(VERSIONS.values()))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every live test on the primary version; the smoke set on every version."""
    if "moodle_version" in metafunc.fixturenames:
        smoke = metafunc.definition.get_closest_marker("smoke") is not None
        labels = list(VERSIONS) if smoke else [PRIMARY]
        metafunc.parametrize("moodle_version", labels, indirect=True, scope="session")


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by version
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the live tests, and run them last, so that the sites can build meanwhile."""
    here = Path(__file__).parent
    live = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in live:
        item.add_marker(pytest.mark.live)
    chosen = set(live)
    items[:] = [item for item in items if item not in chosen] + live


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"a live Moodle site is required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(f"no live Moodle site: {reason}")


@pytest.fixture(scope="session")
def moodle_version(request: pytest.FixtureRequest) -> str:
    label: str = request.param
    return label


def _state(version: Version) -> Path:
    """The version's site.json, or the reason it cannot be used; waits for a build under way
    (.ci/run builds the sites while the tests that need none run)."""
    if os.environ.get(LIVE_ENV):
        path = Path(os.environ[LIVE_ENV])
        if not path.exists():
            unavailable(f"{path} ({LIVE_ENV}) does not exist")
        return path
    wait_for_build(home_of(version))
    path = state_file(version)  # a site built earlier serves even when its source is gone
    if not path.exists() and version.problem:
        unavailable(f"Moodle {version.label}: {version.problem}")
    if not path.exists():
        failed = home_of(version) / "build-error.txt"
        why = (
            f"its build failed: {failed.read_text()[:1500]}"
            if failed.exists()
            else f"run `make live-site V={version.label}`"
        )
        unavailable(f"Moodle {version.label} has no site built ({path} is missing); {why}")
    return path


def wait_for_build(home: Path, limit: float = 5400) -> None:
    """Until the build of this version (matrix.py's marker file) ends or its builder dies."""
    marker, deadline = home / BUILDING, time.monotonic() + limit
    while marker.exists() and time.monotonic() < deadline:
        try:
            os.kill(int(marker.read_text() or 0), 0)
        except (ValueError, OSError):  # no builder any more (or the marker just went)
            return
        time.sleep(2)
    if marker.exists():
        unavailable(f"the build in {home} still runs after {limit:.0f} s")


@pytest.fixture(scope="session")
def live_site(moodle_version: str) -> LiveSite:
    """The version's built site, started, reset to its starting data, its role the registry's;
    no plugin code in it yet (a session that ended early may have left some)."""
    path = _state(VERSIONS[moodle_version])
    try:
        site = LiveSite.load(path)
        site.remove_plugins()
        site.start()
        site.reset()
        if any(site.sync_role(registry.all_capabilities()).values()):
            site.snapshot()  # the registry changed since the build: resets keep its role
    except (LiveSiteError, OSError) as exc:
        unavailable(f"the Moodle {moodle_version} site in {path} could not be started: {exc}")
    return site


@pytest.fixture(scope="session")
def plugin_site(live_site: LiveSite) -> Iterator[LiveSite]:
    """The live site with this checkout's plugins copied in and installed by Moodle's upgrade,
    once per session for the plugin's tests, the pages' browser tests and Moodle's PHPUnit.

    Afterwards the plugins' code is removed and the site reset, so that the tests of the core
    path, and a reset restoring a database without the plugins, never meet code that asks for
    an upgrade.
    """
    live_site.add_plugins()
    live_site.reset()  # what earlier tests sent must not enter upgrade()'s new snapshot
    live_site.upgrade()
    yield live_site
    live_site.remove_plugins()
    live_site.reset()


@pytest.fixture
def fresh_site(live_site: LiveSite) -> LiveSite:
    live_site.reset()
    return live_site


@pytest.fixture
def cli(live_site: LiveSite, tmp_path: Path) -> Cli:
    """`cli("run", "--now", T, token=...)`: one `moodle-sync` command against the site, output
    captured, with the role's token (unless told) and the test's own SQLite database."""
    return cli_for(live_site, tmp_path / "moodle-sync.db")


def cli_for(site: LiveSite, database: Path) -> Cli:
    """`moodle-sync` against the site: the project's programme and templates, SQLite."""
    config = database.with_suffix(".toml")
    config.write_text(
        f'programme_file = "{ROOT / "config" / "programme.toml"}"\nlog_level = "WARNING"\n'
        f'[database]\nurl = "sqlite:///{database}"\n'
        f'[push]\ntemplates_dir = "{ROOT / "config" / "templates"}"\n'
    )
    base = {**os.environ, "MOODLE_SYNC_CONFIG": str(config), "MOODLE_SYNC_MOODLE__URL": site.url}

    def run(
        *args: str, token: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = base | {"MOODLE_SYNC_MOODLE__TOKEN": token or site.token} | (env or {})
        command = [sys.executable, "-m", "moodle_sync", *args]
        return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    return run
