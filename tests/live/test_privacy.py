"""Privacy on the real site (issue 21, item 7): a deletion by Moodle's privacy API is healed by
the worker's next run, and "My progress" shows the student her record again.

The worker runs on the plugin's path (`cli/setup.php`'s token) over the sandbox's cohort as
loaded into the site; the deletion is core_privacy's, through tests/live/php/privacy_fixture.php,
as an approved deletion request makes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.live.browser import Browser
from tests.live.conftest import cli_for

HELPER = Path(__file__).resolve().parent / "php/privacy_fixture.php"
AMELIA, USERNAME, PASSWORD = 5, "p1001", "Live-test-1"  # tests/live/php/load_scenario.php
NO_RECORD = "no progression has been recorded for you yet"


def _helper(site: Any, *args: Any) -> Any:
    done = site.php_cli(str(HELPER), str(site.dirroot), *args)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def token(plugin_site: Any) -> str:
    """A token of the plugin's service, for an integration user of this module's own."""
    script = str(Path(plugin_site.dirroot) / "local/cetadsync/cli/setup.php")
    done = plugin_site.php_cli(script, "--username=cetad_privacy_sync", "--new-token")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("Token (shown once")]
    assert len(lines) == 1, done.stdout
    return lines[0].rsplit(" ", 1)[1]


def my_progress(browser: Browser) -> str:
    if browser.username != USERNAME:
        browser.logout()
        browser.login(USERNAME, PASSWORD)
    browser.get("/local/cetadsync/myprogress.php")
    return browser.text.lower()


def test_a_privacy_deletion_is_healed_by_the_next_run(
    plugin_site: Any, token: str, browser: Browser, tmp_path: Path
) -> None:
    now = datetime.fromtimestamp(plugin_site.anchor, UTC).isoformat(timespec="minutes")
    cli = cli_for(plugin_site, tmp_path / "moodle-sync.db")
    first = cli("run", "--now", now, token=token)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    status = _helper(plugin_site, "record", AMELIA)["status"]
    assert status, "the run stored no record for p1001"
    assert NO_RECORD not in my_progress(browser)

    before = _helper(plugin_site, "record", AMELIA)["epoch"]
    assert _helper(plugin_site, "delete", AMELIA)["contexts"] > 0
    assert _helper(plugin_site, "record", AMELIA) == {"status": "", "epoch": before + 1}
    assert NO_RECORD in my_progress(browser), "the deletion took her record away"

    again = cli("run", "--now", now, token=token)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert _helper(plugin_site, "record", AMELIA)["status"] == status, "restored by the next run"
    page = my_progress(browser)
    assert NO_RECORD not in page
    assert browser.one('[data-region="credits"]').text.strip()
