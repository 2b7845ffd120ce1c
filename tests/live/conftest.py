"""The live tier: tests against a real Moodle site (see tests/live/site.py).

The site is the one `make live-site` built (var/live/site.json), or the one whose state file
MOODLE_SYNC_LIVE_SITE names. Without one every live test is skipped with the reason;
MOODLE_SYNC_REQUIRE_LIVE=1 turns that into a failure, which is how CI (`.ci/run`) runs.

Fixtures: `live_site` (session; the contract the plugin's tests use too: url, admin_token,
token, dirroot, dataroot, php, reset(), call(), php_cli(), upgrade()), `fresh_site` (the same
site reset to its starting data first), and `cli` (runs `moodle-sync` against the site).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live.site import STATE_FILE, LiveSite, LiveSiteError

LIVE_ENV = "MOODLE_SYNC_LIVE_SITE"
REQUIRE_ENV = "MOODLE_SYNC_REQUIRE_LIVE"
ROOT = Path(__file__).resolve().parents[2]

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
    """The built site, started and reset to its starting data."""
    path = Path(os.environ.get(LIVE_ENV) or STATE_FILE)
    if not path.exists():
        unavailable(f"{path} does not exist")
    try:
        site = LiveSite.load(path)
        site.start()
        site.reset()
    except (LiveSiteError, OSError) as exc:
        unavailable(f"the site in {path} could not be started: {exc}")
    return site


@pytest.fixture
def fresh_site(live_site: LiveSite) -> LiveSite:
    live_site.reset()
    return live_site


@pytest.fixture
def cli_env(live_site: LiveSite, tmp_path: Path) -> dict[str, str]:
    """Settings for `moodle-sync` against the site: the programme, SQLite, the role's token."""
    config = tmp_path / "moodle-sync.toml"
    config.write_text(
        f'programme_file = "{ROOT / "config" / "programme.toml"}"\nlog_level = "WARNING"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "moodle-sync.db"}"\n'
        f'[push]\ntemplates_dir = "{ROOT / "config" / "templates"}"\n'
    )
    return {
        **os.environ,
        "MOODLE_SYNC_CONFIG": str(config),
        "MOODLE_SYNC_MOODLE__URL": live_site.url,
        "MOODLE_SYNC_MOODLE__TOKEN": live_site.token,
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Iterator[Cli]:
    """`cli("run", "--now", T, token=...)`: one `moodle-sync` command, output captured."""

    def run(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        env = cli_env | ({"MOODLE_SYNC_MOODLE__TOKEN": token} if token else {})
        return subprocess.run(
            [sys.executable, "-m", "moodle_sync", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    yield run
