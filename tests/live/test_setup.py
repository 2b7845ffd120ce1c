"""local_cetadsync's set-up on a real Moodle: what cli/setup.php refuses, and what its role can do.

The site is tests/live/conftest.py's `plugin_site`: the scenario's site, whose progression
fields were made by hand before the plugin (editable, visible to everyone), with the plugin
installed by Moodle's upgrade. Each test uses its own integration user, so the tests of
tests/live/test_plugin.py keep theirs.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.client.registry import role_capabilities
from tests.live.conftest import cli_for

pytestmark = pytest.mark.live

HELPER = Path(__file__).resolve().parent / "php/cetadsync_fixture.php"
FIELDS = ("cetad_progression", "cetad_credits")


@pytest.fixture(scope="module")
def site(plugin_site: Any) -> Any:
    return plugin_site


def setup(site: Any, *args: str) -> Any:
    """Run cli/setup.php as the guide says (as the web server's user, in Moodle's folder)."""
    return site.php_cli(str(Path(site.dirroot) / "local/cetadsync/cli/setup.php"), *args)


def token_of(output: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith("Token (shown once)")]
    return line.rsplit(" ", 1)[1]


def helper(site: Any, *args: Any) -> Any:
    done = site.php_cli(str(HELPER), str(site.dirroot), *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def worker(site: Any) -> dict[str, Any]:
    """A new integration user made by setup.php, and its token."""
    username = f"cetad_role_{uuid.uuid4().hex[:6]}"
    done = setup(site, f"--username={username}")
    assert done.returncode == 0, done.stdout + done.stderr
    [[userid, auth]] = site.sql("SELECT id, auth FROM mdl_user WHERE username = %s", username)
    return {"username": username, "id": userid, "auth": auth, "token": token_of(done.stdout),
            "output": done.stdout}  # fmt: skip


def test_the_fields_made_by_hand_before_are_locked_and_not_shown_to_everyone(site: Any) -> None:
    """Installing the plugin on a site whose fields a student could edit locks them, in place."""
    rows = site.sql("SELECT shortname, locked, visible, categoryid FROM mdl_user_info_field "
                    "WHERE shortname = ANY(%s) ORDER BY shortname", list(FIELDS))  # fmt: skip
    assert [(name, locked, visible) for name, locked, visible, _ in rows] == [
        ("cetad_credits", 1, 3), ("cetad_progression", 1, 3)]  # fmt: skip
    [[name]] = site.sql("SELECT name FROM mdl_user_info_category WHERE id = %s", rows[0][3])
    assert name == "CETAD", "the fields stay where the site made them"


def test_setup_refuses_the_administrator_and_prints_no_token(site: Any) -> None:
    done = setup(site, "--username=admin")
    assert done.returncode == 3
    assert "site administrator" in done.stderr and "Token" not in done.stdout


def test_setup_refuses_a_teachers_account_unless_told_and_then_says_its_roles(site: Any) -> None:
    made = helper(site, "data", uuid.uuid4().hex[:8])
    teacher = made["users"]["teacher"]
    [[username]] = site.sql("SELECT username FROM mdl_user WHERE id = %s", teacher)
    refused = setup(site, f"--username={username}")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "exists and is not the integration user" in refused.stderr
    assert "(editingteacher)" in refused.stderr and "--use-existing-account" in refused.stderr
    assert not site.sql(
        "SELECT 1 FROM mdl_role_assignments ra JOIN mdl_role r ON r.id = ra.roleid "
        "WHERE r.shortname = 'cetadsyncworker' AND ra.userid = %s", teacher)  # fmt: skip
    used = setup(site, f"--username={username}", "--use-existing-account")
    assert used.returncode == 0, used.stdout + used.stderr
    assert "It keeps every role it has" in used.stdout and "(editingteacher)" in used.stdout


def test_a_new_integration_user_cannot_log_in_and_its_role_is_the_plugin_paths(
    site: Any, worker: dict[str, Any]
) -> None:
    assert worker["auth"] == "webservice"
    rows = site.sql("SELECT rc.capability FROM mdl_role_capabilities rc JOIN mdl_role r "
                    "ON r.id = rc.roleid WHERE r.shortname = 'cetadsyncworker' "
                    "AND rc.permission = 1 ORDER BY 1")  # fmt: skip
    assert [row[0] for row in rows] == role_capabilities("plugin")
    assert "works from any address and never expires" in worker["output"]


def test_the_setup_token_runs_the_plugin_path_and_cannot_change_a_teacher(
    site: Any, worker: dict[str, Any], tmp_path: Path
) -> None:
    """A `run` with the token setup.php made pulls and pushes everything (reminders sent as
    notifications, profile values written through the plugin), and that token cannot do
    what moodle/user:update allowed: change a teacher's email."""
    now = datetime.fromtimestamp(site.anchor, UTC).isoformat(timespec="minutes")
    done = cli_for(site, tmp_path / "moodle-sync.db")("run", "--now", now, "--json",
                                                      token=worker["token"])  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    profiles = report["profiles"]
    assert profiles["pushed"] > 0 and profiles["failed"] == {}, profiles
    written = site.sql("SELECT COUNT(*) FROM mdl_user_info_data d JOIN mdl_user_info_field f "
                       "ON f.id = d.fieldid WHERE f.shortname = 'cetad_progression' "
                       "AND d.data <> ''")  # fmt: skip
    assert written[0][0] >= profiles["pushed"]

    [[teacher, email]] = site.sql(
        "SELECT u.id, u.email FROM mdl_user u JOIN mdl_role_assignments ra ON ra.userid = u.id "
        "JOIN mdl_role r ON r.id = ra.roleid WHERE r.shortname = 'editingteacher' "
        "AND u.deleted = 0 ORDER BY u.id LIMIT 1")  # fmt: skip
    with pytest.raises(Exception) as refused:
        site.call("core_user_update_users", token=worker["token"],
                  users=[{"id": teacher, "email": "taken.over@example.com"}])  # fmt: skip
    assert "accessexception" in str(getattr(refused.value, "errorcode", refused.value))
    assert site.sql("SELECT email FROM mdl_user WHERE id = %s", teacher) == [(email,)]
    answer = site.call("local_cetadsync_save_profile_values", token=worker["token"],
                       users=[{"userid": teacher, "fields": [
                           {"shortname": "cetad_progression", "value": "On track"}]}])  # fmt: skip
    assert [w["warningcode"] for w in answer["warnings"]] == ["notastudent"]


def test_check_names_a_field_a_student_can_edit_and_setup_locks_it(
    site: Any, worker: dict[str, Any], tmp_path: Path
) -> None:
    check = cli_for(site, tmp_path / "moodle-sync.db")
    site.sql("UPDATE mdl_user_info_field SET locked = 0 WHERE shortname = 'cetad_progression'")
    found = check("check", "--json", token=worker["token"])
    problems = json.loads(found.stdout)["problems"]
    assert any("'cetad_progression' is not locked" in p for p in problems), problems
    fixed = setup(site, f"--username={worker['username']}")
    assert "Locked profile field cetad_progression" in fixed.stdout
    again = json.loads(check("check", "--json", token=worker["token"]).stdout)["problems"]
    assert not any("not locked" in p for p in again), again


def test_a_new_token_revokes_the_old_one_when_asked(site: Any, worker: dict[str, Any]) -> None:
    old = setup(site, f"--username={worker['username']}", "--new-token")
    assert old.returncode == 0 and "older token(s)" in old.stdout
    first = token_of(old.stdout)
    rotated = setup(site, f"--username={worker['username']}", "--new-token",
                    "--revoke-old-tokens", "--ip-restriction=127.0.0.1")  # fmt: skip
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "Revoked" in rotated.stdout and "never expires" not in rotated.stdout
    with pytest.raises(Exception) as gone:
        site.call("core_webservice_get_site_info", token=first)
    assert "invalidtoken" in str(getattr(gone.value, "errorcode", gone.value))
    info = site.call("core_webservice_get_site_info", token=token_of(rotated.stdout))
    assert info["username"] == worker["username"]
