"""The live tier: tests against a real Moodle site (see tests/live/site.py).

The site is the one `make live-site` built (var/live/site.json), or the one whose state file
MOODLE_SYNC_LIVE_SITE names. Without one every live test is skipped with the reason;
MOODLE_SYNC_REQUIRE_LIVE=1 turns that into a failure, which is how CI (`.ci/run`) runs.

Fixtures: `live_site` (session; the contract the plugin's tests use too: url, admin_token,
token, dirroot, dataroot, php, reset(), call(), php_cli(), upgrade()), `fresh_site` (the same
site reset to its starting data first), `cli` (runs `moodle-sync` against the site),
`plugin_site` (session: the site with this checkout's local_cetadsync, and block_cetadsync when
it exists, installed once for every test that needs them) and `browser` (tests/live/browser.py:
headless Chromium on the site).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from moodle_sync.client import registry
from tests.live.browser import browser  # noqa: F401  (the fixture, for every live test)
from tests.live.site import STATE_FILE, LiveSite, LiveSiteError

LIVE_ENV = "MOODLE_SYNC_LIVE_SITE"
REQUIRE_ENV = "MOODLE_SYNC_REQUIRE_LIVE"
ROOT = Path(__file__).resolve().parents[2]
# This checkout's plugins and where each goes in the site's code; a missing folder is skipped.
PLUGINS = {"local_cetadsync": "local/cetadsync", "block_cetadsync": "blocks/cetadsync"}

Cli = Callable[..., subprocess.CompletedProcess[str]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.live)


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"a live Moodle site is required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(f"no live Moodle site: {reason}; run `make live-site` or set {LIVE_ENV}")


@pytest.fixture(scope="session")
def live_site() -> LiveSite:
    """The built site, started, reset to its starting data, its role the registry's."""
    path = Path(os.environ.get(LIVE_ENV) or STATE_FILE)
    if not path.exists():
        unavailable(f"{path} does not exist")
    try:
        site = LiveSite.load(path)
        site.start()
        site.reset()
        if any(site.sync_role(registry.all_capabilities()).values()):
            site.snapshot()  # the registry changed since the build: resets keep its role
    except (LiveSiteError, OSError) as exc:
        unavailable(f"the site in {path} could not be started: {exc}")
    return site


@pytest.fixture(scope="session")
def plugin_site(live_site: LiveSite) -> Iterator[LiveSite]:
    """The live site with this checkout's plugins copied in and installed by Moodle's upgrade,
    once per session for the plugin's tests and the pages' browser tests alike.

    Afterwards the plugins' code is removed and the site reset, so that the tests of the core
    path, and a reset restoring a database without the plugins, never meet code that asks for
    an upgrade.
    """
    targets = [(ROOT / name, Path(live_site.dirroot) / to) for name, to in PLUGINS.items()
               if (ROOT / name).is_dir()]  # fmt: skip
    for source, target in targets:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
    live_site.reset()  # what earlier tests sent must not enter upgrade()'s new snapshot
    live_site.upgrade()
    yield live_site
    for _, target in targets:
        shutil.rmtree(target, ignore_errors=True)
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
