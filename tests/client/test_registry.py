"""The function registry, the check against site info, and the admin guide built from it."""

from __future__ import annotations

from pathlib import Path

from moodle_sync.client import registry
from moodle_sync.client.registry import FUNCTIONS, missing_functions, render_admin_guide
from moodle_sync.sandbox.scenario import load_scenario
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, PLUGIN_TOKEN
from tests.client.conftest import recording

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "admin-guide.md"
CLIENT = Path(registry.__file__).parent


# Added after the recordings were made (check's proof that students can be messaged).
NEWER_THAN_THE_RECORDINGS = {"core_message_get_member_info"}


def _available() -> list[str]:
    functions = recording("core_webservice_get_site_info")["response"]["functions"]
    return [item["name"] for item in functions] + sorted(NEWER_THAN_THE_RECORDINGS)


def test_the_recorded_service_has_every_function_we_use_but_the_newer_ones() -> None:
    recorded = _available()[: -len(NEWER_THAN_THE_RECORDINGS)]
    assert {spec.name for spec in missing_functions(recorded)} == NEWER_THAN_THE_RECORDINGS


def test_missing_functions_are_named_with_their_purpose() -> None:
    available = [name for name in _available() if name != "core_user_update_users"]
    (missing,) = missing_functions(available)
    assert (missing.name, missing.kind) == ("core_user_update_users", "write")
    assert "moodle/user:update" in missing.capabilities


def test_every_function_called_in_the_client_is_registered_and_vice_versa() -> None:
    source = "".join(p.read_text() for p in CLIENT.glob("*.py") if p.name != "registry.py")
    registered = {spec.name for spec in FUNCTIONS}
    called = {name for name in registered if f'"{name}"' in source}
    assert called == registered
    assert source.count("Calls: ") >= len(registered) - 1  # docstrings name what they call


def test_the_admin_guide_holds_the_current_generated_section() -> None:
    guide = GUIDE.read_text()
    assert render_admin_guide() in guide
    for spec in FUNCTIONS:
        assert f"`{spec.name}`" in guide
    assert "`moodle/site:readallmessages`" in guide


def test_the_plugin_role_can_neither_take_accounts_over_nor_read_conversations() -> None:
    """The role cli/setup.php makes holds what the plugin path calls need, and nothing only
    the by-hand path needs; the by-hand role keeps what core's functions ask for."""
    plugin, core = registry.role_capabilities("plugin"), registry.role_capabilities("core")
    powerful = {"moodle/user:update", "moodle/site:readallmessages"}
    assert powerful <= set(core) and not powerful & set(plugin)
    called = {spec.name for spec in registry.functions_for("plugin")}
    assert not {"core_user_update_users", "core_message_send_instant_messages",
                "core_message_get_messages"} & called  # fmt: skip
    specs = registry.functions_for("plugin")
    needed = {cap for spec in specs for cap in spec.capabilities}
    silent = {cap.name for spec in specs for cap in spec.silent}
    assert needed | silent | {"webservice/rest:use"} == set(plugin)


def test_each_path_needs_its_own_functions() -> None:
    plugin_service = [spec.name for spec in registry.functions_for("plugin")]
    assert missing_functions(plugin_service, "plugin") == []
    assert {s.name for s in missing_functions(plugin_service)} >= {"core_user_update_users"}
    without = [n for n in plugin_service if n != "local_cetadsync_save_profile_values"]
    assert [s.name for s in missing_functions(without, "plugin")] == [
        "local_cetadsync_save_profile_values"]  # fmt: skip


def test_the_sandbox_integration_token_has_exactly_the_documented_capabilities() -> None:
    """The twin may not be more lenient than a site set up from the admin guide."""
    token = load_scenario().tokens[INTEGRATION_TOKEN]
    assert sorted(token.capabilities) == registry.all_capabilities()


def test_the_sandbox_plugin_token_has_exactly_the_role_setup_makes() -> None:
    token = load_scenario().tokens[PLUGIN_TOKEN]
    assert sorted(token.capabilities) == registry.role_capabilities("plugin")
