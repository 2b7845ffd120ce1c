"""The function registry, the check against site info, and the admin guide built from it."""

from __future__ import annotations

from pathlib import Path

from moodle_sync.client import registry
from moodle_sync.client.registry import FUNCTIONS, missing_functions, render_admin_guide
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
