"""The admin guide's role, proved on a real site: it pulls what the administrator pulls.

A role can hide rows without any error or warning (../shared/moodle/README.md, trap 17). The
only proof is to pull the same site twice, once with the documented role's token and once with
the administrator's, and compare what was stored. Each capability known to hide data silently
is listed here with the rows it hides, so a registry that drops it fails naming it and the
symptom, whatever else differs.
"""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.client import registry
from tests.live.conftest import cli_for
from tests.live.site import LiveSite
from tests.live.store import differences, own_dates, stored_rows

SILENT_CAPABILITIES = {  # capability: (stored table that shows it, symptom without it)
    "moodle/course:viewsuspendedusers": (
        "submissions", "mod_assign_get_submissions silently leaves out the submissions of "
        "students whose enrolment is suspended"),
    "moodle/site:viewfullnames": (
        "users", "user records come back without firstname and lastname, so every reminder "
        "says 'Dear user N'"),
}  # fmt: skip


@pytest.fixture(scope="module")
def pulls(live_site: LiveSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The role's pull and the administrator's, stored in two databases."""
    rows = {}
    for who, token in (("role", live_site.token), ("admin", live_site.admin_token)):
        database = tmp_path_factory.mktemp(who) / "moodle-sync.db"
        done = cli_for(live_site, database)("sync", "--full", token=token)
        assert done.returncode == 0, f"{who}'s pull failed:\n{done.stdout}\n{done.stderr}"
        rows[who] = stored_rows(database)
    return rows


def test_the_documented_role_pulls_the_same_rows_as_the_admin(pulls: dict[str, Any]) -> None:
    """Own dates are compared as dates: the admin's token reaches the plugin's functions, and
    the plugin path keeps a row only for a student whose dates are their own, where the core
    path keeps its answer for every open pair it asked."""
    role, admin = dict(pulls["role"]), dict(pulls["admin"])
    role_own = own_dates(role.pop("due_date_overrides"))
    admin_own = own_dates(admin.pop("due_date_overrides"))
    diff = differences(role, admin)
    own = {pair: (dates, admin_own.get(pair, (None, None))) for pair, dates in role_own.items()
           if admin_own.get(pair, (None, None)) != dates}  # fmt: skip
    if own:
        diff["due_date_overrides"] = own
    named = [f"{cap} is needed: {symptom}" for cap, (table, symptom) in SILENT_CAPABILITIES.items()
             if table in diff]  # fmt: skip
    assert not diff, "\n".join(["the role's pull differs from the admin's:", *named, repr(diff)])


@pytest.mark.parametrize("capability", sorted(SILENT_CAPABILITIES))
def test_a_capability_that_hides_rows_silently_is_in_the_registry(
    capability: str, pulls: dict[str, Any]
) -> None:
    table, symptom = SILENT_CAPABILITIES[capability]
    assert capability in registry.all_capabilities(), (
        f"{capability} is missing from moodle_sync/client/registry.py (and so from the admin "
        f"guide): without it {symptom}"
    )
    assert pulls["role"][table] == pulls["admin"][table], f"without {capability}: {symptom}"
