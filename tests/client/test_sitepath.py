"""One value decides the plugin path or the core path, from site info's functions."""

from __future__ import annotations

from moodle_sync.client.models import SiteInfo
from moodle_sync.client.registry import FUNCTIONS, PLUGIN_FUNCTIONS
from moodle_sync.client.sitepath import SitePath

CORE_NAMES = [spec.name for spec in FUNCTIONS]
PLUGIN_NAMES = [spec.name for spec in PLUGIN_FUNCTIONS]


def _info(functions: list[str]) -> SiteInfo:
    return SiteInfo(sitename="s", siteurl="u", userid=3, username="cetad_sync",
                    functions=functions)  # fmt: skip


def test_every_plugin_function_on_the_service_is_the_plugin_path() -> None:
    path = SitePath.from_site_info(_info(CORE_NAMES + PLUGIN_NAMES))
    assert (path.plugin, path.userid, path.name) == (True, 3, "plugin")
    assert path.describe().startswith("path: plugin")


def test_a_core_only_service_is_the_core_path_and_says_what_the_plugin_would_add() -> None:
    line = SitePath.from_site_info(_info(CORE_NAMES)).describe()
    assert line.startswith("path: core") and "local_cetadsync would add" in line
    assert "\n" not in line


def test_a_service_with_only_some_plugin_functions_stays_on_core() -> None:
    assert not SitePath.from_site_info(_info(CORE_NAMES + PLUGIN_NAMES[:2])).plugin


def test_a_plugin_older_than_save_profile_values_stays_on_core() -> None:
    """Before 2026120700 the plugin path wrote profile values with core_user_update_users,
    which the plugin's role no longer holds: an older plugin is not the plugin path."""
    newer = ("local_cetadsync_save_profile_values", "local_cetadsync_get_profile_fields")
    older = [n for n in PLUGIN_NAMES if n not in newer]
    assert len(older) == 7
    assert not SitePath.from_site_info(_info(CORE_NAMES + older)).plugin


def test_plugin_functions_are_never_required() -> None:
    from moodle_sync.client.registry import missing_functions

    assert missing_functions(CORE_NAMES) == []
