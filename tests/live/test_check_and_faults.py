"""`check` on the real site, and what a run does when the site is set up wrong or unwell.

Each test breaks the site one way (SQL on its database, or Moodle's own CLI), runs the command
and resets the site afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live.conftest import Cli
from tests.live.site import ROLE, SERVICE, LiveSite
from tests.live.test_run import anchor_iso, sent_by_integration_user


@pytest.fixture
def site(live_site: LiveSite) -> Iterator[LiveSite]:
    live_site.reset()
    yield live_site
    live_site.reset()


@pytest.mark.smoke
def test_check_passes_on_the_documented_role(site: LiveSite, cli: Cli) -> None:
    done = cli("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every function available" in done.stdout


def test_check_names_a_function_missing_from_the_service(site: LiveSite, cli: Cli) -> None:
    site.sql("DELETE FROM mdl_external_services_functions WHERE functionname = %s AND "
             "externalserviceid = (SELECT id FROM mdl_external_services WHERE shortname = %s)",
             "core_user_update_users", SERVICE)  # fmt: skip
    done = cli("check")
    assert done.returncode == 1
    assert "missing function: core_user_update_users" in done.stderr


def test_check_names_a_missing_profile_field(site: LiveSite, cli: Cli) -> None:
    site.sql("DELETE FROM mdl_user_info_field WHERE shortname = 'cetad_credits'")
    done = cli("check")
    assert done.returncode == 1
    assert "missing profile field" in done.stderr and "cetad_credits" in done.stderr


def test_check_names_a_missing_capability(site: LiveSite, cli: Cli) -> None:
    site.sql("DELETE FROM mdl_role_capabilities WHERE capability = 'moodle/user:update' AND "
             "roleid = (SELECT id FROM mdl_role WHERE shortname = %s)", ROLE)  # fmt: skip
    done = cli("check")
    assert done.returncode != 0
    assert "moodle/user:update" in done.stdout + done.stderr


def test_maintenance_mode_from_the_settings_stops_the_run_as_retriable(
    site: LiveSite, cli: Cli
) -> None:
    site.sql("UPDATE mdl_config SET value = '1' WHERE name = 'maintenance_enabled'")
    done = cli("run", "--now", anchor_iso(site))
    assert done.returncode != 0
    assert "maintenance" in (done.stdout + done.stderr).lower()
    assert sent_by_integration_user(site) == []  # the admin's token still works


def test_maintenance_mode_from_the_command_line_answers_503_and_stops_the_run(
    site: LiveSite, cli: Cli
) -> None:
    enabled = site.php_cli("admin/cli/maintenance.php", "--enable")
    assert enabled.returncode == 0, enabled.stderr
    # The page asks for Retry-After: 300 and the client honours it (up to 4 waits of 5 min);
    # one attempt is enough to see what the run says.
    done = cli("run", "--now", anchor_iso(site), env={"MOODLE_SYNC_MOODLE__MAX_ATTEMPTS": "1"})
    assert done.returncode != 0
    assert "maintenance" in (done.stdout + done.stderr).lower()


def test_a_revoked_token_stops_the_run_naming_the_fix(site: LiveSite, cli: Cli) -> None:
    site.sql("DELETE FROM mdl_external_tokens WHERE token = %s", site.token)
    done = cli("run", "--now", anchor_iso(site))
    assert done.returncode == 1
    assert "invalidtoken" in done.stderr and "MOODLE_SYNC_MOODLE__TOKEN" in done.stderr
