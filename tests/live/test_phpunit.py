"""The plugins' own PHPUnit tests, the Moodle way, on every Moodle version (tests/live/phpunit.py).

In the live site's code with the plugins installed (``plugin_site``): the plugins' test suites
(whatever ``*_test.php`` their ``tests/`` folders hold), then core's privacy provider tests
filtered to the plugins' cases (``test_table_coverage`` among them). A failure names the
version and the failing tests; a run of zero tests is a failure.
"""

from __future__ import annotations

import pytest

from tests.live.conftest import unavailable
from tests.live.phpunit import MoodlePhpUnit, PhpUnitUnavailable
from tests.live.site import PLUGINS, ROOT, LiveSite

pytestmark = [pytest.mark.live, pytest.mark.smoke]


@pytest.fixture(scope="session")
def phpunit(plugin_site: LiveSite) -> MoodlePhpUnit:
    """Moodle's PHPUnit in the site's code, initialised when needed (about 3 minutes)."""
    runner = MoodlePhpUnit(plugin_site)
    try:
        runner.ensure()
    except PhpUnitUnavailable as exc:
        unavailable(str(exc))
    return runner


def test_the_plugins_phpunit_suites_pass(phpunit: MoodlePhpUnit) -> None:
    report = phpunit.run_plugins()
    assert report.ok, report.explain()
    ran = {
        component
        for component, path in PLUGINS.items()
        if any(f"/{path}/tests/" in file for file in report.files)
    }
    tested = {
        component
        for component in PLUGINS
        if any((ROOT / component / "tests").glob("**/*_test.php"))
    }
    assert ran == tested, f"{report.summary()}: ran the tests of {ran}, not of all of {tested}"
    print(report.summary())


def test_cores_privacy_provider_tests_pass_with_the_plugins(phpunit: MoodlePhpUnit) -> None:
    report = phpunit.run_privacy()
    assert report.ok, report.explain()
    present = {component for component in PLUGINS if (ROOT / component).is_dir()}
    covered = {
        component for component in present if any(component in name for name in report.names)
    }
    assert covered == present, f"{report.summary()}: no privacy case for {present - covered}"
    print(report.summary())
