"""local_cetadsync_send_notifications on a real Moodle: what a token holder sends cannot put
markup into anyone's notifications, nor a link away from the site.

Uses the ``plugin_site`` fixture of tests/live/conftest.py, as tests/live/test_plugin.py does;
each test makes its own users (tests/live/php/cetadsync_fixture.php), so nothing needs a reset.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.live

HELPER = Path(__file__).resolve().parent / "php/cetadsync_fixture.php"
SEND = "local_cetadsync_send_notifications"
HOSTILE = "Hello <script>alert('x')</script>\n<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def site(plugin_site: Any) -> Any:
    return plugin_site


@pytest.fixture(scope="module")
def token(site: Any) -> str:
    """A token of the integration user that cli/setup.php makes (the worker's)."""
    script = str(Path(site.dirroot) / "local/cetadsync/cli/setup.php")
    done = site.php_cli(script, "--username=cetad_plugin_sync", "--new-token")
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("Token (shown once")]
    return line.rsplit(" ", 1)[1]


@pytest.fixture(scope="module")
def student(site: Any) -> int:
    done = site.php_cli(str(HELPER), str(site.dirroot), "data", uuid.uuid4().hex[:8])
    assert done.returncode == 0, done.stderr
    made: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return int(made["users"]["active"])


def _note(key: str, userid: int, **extra: Any) -> dict[str, Any]:
    """A notification as the worker sends it: plain text only."""
    return {"idempotencykey": key, "provider": "studentreminder", "touserid": userid,
            "subject": "Essay due", "fullmessage": "Your essay is due on Friday.",
            "smallmessage": "Essay due", **extra}  # fmt: skip


def _stored(site: Any, messageid: int) -> dict[str, Any]:
    columns = ("fullmessage", "fullmessagehtml", "contexturl", "component")
    [row] = site.sql(f"SELECT {', '.join(columns)} FROM mdl_notifications WHERE id = %s", messageid)
    return dict(zip(columns, row, strict=True))


def test_script_in_the_text_is_stored_escaped(site: Any, token: str, student: int) -> None:
    key = f"xss-{uuid.uuid4().hex}"
    answer = site.call(SEND, token=token, notifications=[_note(key, student, fullmessage=HOSTILE)])
    [result] = answer["results"]
    assert (result["status"], result["errorcode"]) == ("sent", "")
    stored = _stored(site, result["messageid"])
    assert stored["component"] == "local_cetadsync" and stored["fullmessage"] == HOSTILE
    html = stored["fullmessagehtml"]
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "<img" not in html
    assert html.replace("<br />", "").count("<") == 0, html


def test_html_from_the_caller_is_refused(site: Any, token: str, student: int) -> None:
    key = f"html-{uuid.uuid4().hex}"
    hostile = _note(key, student, fullmessagehtml="<img src=x onerror=alert(1)>")
    with pytest.raises(Exception) as error:
        site.call(SEND, token=token, notifications=[hostile])
    assert "invalidparameter" in str(getattr(error.value, "errorcode", None) or error.value)
    delivered = site.call("local_cetadsync_get_delivered", token=token, idempotencykeys=[key])
    assert delivered["results"][0]["status"] == "unknown"


def test_a_context_link_away_from_the_site_fails_only_its_own_notification(
    site: Any, token: str, student: int
) -> None:
    run = uuid.uuid4().hex[:8]
    batch = [
        _note(f"here-{run}", student, contexturl="/mod/assign/view.php?id=1",
              contexturlname="Essay"),
        _note(f"away-{run}", student, contexturl="https://evil.example/mod/assign/view.php?id=1"),
        _note(f"full-{run}", student, contexturl=f"{site.url}/course/view.php?id=1"),
    ]  # fmt: skip
    results = site.call(SEND, token=token, notifications=batch)["results"]
    assert [(r["status"], r["errorcode"]) for r in results] == [
        ("sent", ""), ("failed", "invalidcontexturl"), ("sent", "")]  # fmt: skip
    assert _stored(site, results[0]["messageid"])["contexturl"] == (
        f"{site.url}/mod/assign/view.php?id=1"
    )
    delivered = site.call("local_cetadsync_get_delivered", token=token,
                          idempotencykeys=[n["idempotencykey"] for n in batch])  # fmt: skip
    assert [r["status"] for r in delivered["results"]] == ["sent", "unknown", "sent"]


def test_a_suspended_account_receives_nothing(site: Any, token: str) -> None:
    done = site.php_cli(str(HELPER), str(site.dirroot), "data", uuid.uuid4().hex[:8])
    assert done.returncode == 0, done.stderr
    userid = int(json.loads(done.stdout.strip().splitlines()[-1])["users"]["grouped"])
    site.sql("UPDATE mdl_user SET suspended = 1 WHERE id = %s", userid)
    answer = site.call(SEND, token=token, notifications=[_note(f"susp-{uuid.uuid4().hex}", userid)])
    [result] = answer["results"]
    assert (result["status"], result["errorcode"]) == ("failed", "invaliduser")
