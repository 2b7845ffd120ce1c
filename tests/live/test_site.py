"""The live site itself: built as the admin guide says, and the fixture's contract."""

from __future__ import annotations

import pytest

from moodle_sync.client import registry
from tests.live.site import LiveSite, MoodleError


def test_the_service_holds_exactly_the_registrys_functions(live_site: LiveSite) -> None:
    info = live_site.call("core_webservice_get_site_info", token=live_site.token)
    assert sorted(f["name"] for f in info["functions"]) == sorted(
        s.name for s in registry.FUNCTIONS
    )
    assert info["username"] == "cetad_sync"


def test_an_exception_envelope_is_raised_with_its_errorcode(live_site: LiveSite) -> None:
    with pytest.raises(MoodleError) as refused:
        live_site.call("core_enrol_get_enrolled_users", courseid=999999)
    # Moodle 5.0 says invalidrecordunknown where 4.x says invalidrecord; the worker takes both.
    assert refused.value.errorcode in {"invalidrecord", "invalidrecordunknown"}


def test_php_cli_runs_with_the_sites_config(live_site: LiveSite) -> None:
    done = live_site.php_cli("admin/cli/cfg.php", "--name=enablewebservices")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_the_cohort_is_the_sandbox_scenarios(live_site: LiveSite) -> None:
    courses = live_site.call(
        "core_course_get_courses_by_field", field="idnumber", value="CETAD-MPC"
    )
    assert [c["shortname"] for c in courses["courses"]] == ["MPC"]
    assert live_site.ids["users"]["5"] == 5  # same ids as the sandbox on a fresh site


def test_the_fixture_keeps_its_contract(live_site: LiveSite) -> None:
    assert (live_site.dirroot / "version.php").exists() and live_site.dataroot.is_dir()
    assert live_site.php[0] == "php" and "max_input_vars=5000" in live_site.php
    assert live_site.url.startswith("http://127.0.0.1:")


def test_upgrade_with_nothing_new_keeps_the_site_and_its_snapshot(live_site: LiveSite) -> None:
    live_site.reset()  # upgrade() retakes the snapshot: not with what earlier tests sent
    live_site.upgrade()
    live_site.reset()
    assert live_site.call("core_webservice_get_site_info", token=live_site.token)["userid"] == 3
