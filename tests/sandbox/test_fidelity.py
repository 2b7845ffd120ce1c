"""Fidelity: for every recording of a function the sandbox implements, the sandbox's answer to
the same call has the real answer's structure (keys, JSON types, error codes, warning codes,
HTTP status, XML-ness). Values may differ.

Each recording is replayed on a freshly reset site at the recorded site's own "now", after any
recordings it depends on (an update before the read that shows it), so order does not matter.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from moodle_sync.sandbox import (
    ADMIN_TOKEN,
    NO_CAPABILITY_TOKEN,
    NO_MESSAGING_TOKEN,
    RECORDED_ROLE_TOKEN,
    Sandbox,
    start_sandbox,
)
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.sandbox.functions import REGISTRY

# Copied from ../shared/moodle/recordings (see its README), so the suite runs in any clone.
RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "moodle" / "recordings"
# generated_at of ../shared/moodle/recordings-dataset.json, the recorded site's "now".
RECORDED_NOW = datetime.fromtimestamp(1795659566, UTC)
TOKENS = {
    "TOKEN-INTEGRATION-USER": RECORDED_ROLE_TOKEN,
    "TOKEN-NO-CAPABILITY": NO_CAPABILITY_TOKEN,
    "TOKEN-ADMIN": ADMIN_TOKEN,
}
# Recorded while the integration role still lacked moodle/site:readallmessages.
TOKEN_OVERRIDES = {"core_message_send_instant_messages__noncontact_blocked": NO_MESSAGING_TOKEN}
# Protocol-level cases: answered before any function runs, so the sandbox implements them too.
PROTOCOL_CASES = {
    "error__missing_wsfunction",
    "error__unknown_function",
    "error__function_not_in_service",
    "core_grades_get_grades__missing",
}
# Recordings whose site state was produced by earlier recorded calls.
REPLAY_FIRST = {
    "core_user_get_users_by_field__after_update": ["core_user_update_users__customfields"],
    "core_user_get_users_by_field__after_clear": [
        "core_user_update_users__customfields",
        "core_user_update_users__clear_field",
    ],
    "core_message_get_messages__sent_by_integration_user": ["core_message_send_instant_messages"],
    "mod_assign_get_user_flags__after_extension": ["mod_assign_save_user_extensions"],
    "mod_assign_get_participant__a2_u5": ["mod_assign_save_user_extensions"],
}
MAINTENANCE_ON = {
    "maintenance__config_enabled_site_info",
    "maintenance__config_enabled_get_grades",
    "maintenance__config_enabled_admin_token",
}
# CLI maintenance is an HTML 503 sent before Moodle boots: a transport fault, injected.
CLI_MAINTENANCE = {
    "maintenance__cli_enabled_site_info",
    "maintenance__cli_enabled_site_info_xml",
    "maintenance__cli_enabled_admin_token",
}
# The only recordings not reproduced, and why.
SKIPPED: dict[str, str] = {}


def _load(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"{case}.json").read_text())
    return data


MISSING = "(no recordings)"


def _cases() -> list[Any]:
    """Every replayable recording; a missing folder is one failing case, never zero cases."""
    cases = list(_replayable())
    return cases or [pytest.param(MISSING, id="recordings-missing")]


def _replayable() -> Iterator[Any]:
    for path in sorted(RECORDINGS.glob("*.json")):
        case, function = path.stem, _load(path.stem)["function"]
        if function in REGISTRY or case in PROTOCOL_CASES | CLI_MAINTENANCE:
            marks = [pytest.mark.skip(reason=SKIPPED[case])] if case in SKIPPED else []
            yield pytest.param(case, id=case, marks=marks)


def expand(params: dict[str, Any], case: str) -> list[tuple[str, str]]:
    """The recorded variables in order; `x[0..5999]: "1..6000"` ranges are unfolded."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        ranged = re.fullmatch(r"(\w+)\[0\.\.(\d+)\]", key)
        if ranged:
            first, _, _last = str(value).partition("..")
            prefix, start = re.fullmatch(r"(\D*)(\d+)", first).groups()  # type: ignore[union-attr]
            count = int(ranged.group(2)) + 1
            pairs += [
                (f"{ranged.group(1)}[{i}]", f"{prefix}{int(start) + i}") for i in range(count)
            ]
        elif key == "wstoken":
            pairs.append((key, TOKEN_OVERRIDES.get(case, TOKENS.get(str(value), str(value)))))
        else:
            pairs.append((key, str(value)))
    return pairs


def replay(sandbox: Sandbox, case: str) -> requests.Response:
    recording = _load(case)
    pairs = expand(recording["params"], case)
    url = f"{sandbox.url}/webservice/rest/server.php"
    if recording.get("method") == "GET":
        return requests.get(url, params=pairs, timeout=30)
    return requests.post(url, data=pairs, timeout=30)


def shape(value: Any) -> Any:
    """A value's structure: object keys, list element structures, scalar JSON types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(shape(v), sort_keys=True) for v in value})
    return "null" if value is None else type(value).__name__


def warning_codes(value: Any) -> list[str]:
    if isinstance(value, dict) and isinstance(value.get("warnings"), list):
        return sorted({w["warningcode"] for w in value["warnings"]})
    return []


def assert_same_xml(real: str, ours: str) -> None:
    real_root, our_root = ET.fromstring(real), ET.fromstring(ours)
    assert our_root.tag == real_root.tag
    if real_root.tag == "EXCEPTION":
        assert our_root.get("class") == real_root.get("class")
        assert our_root.findtext("ERRORCODE") == real_root.findtext("ERRORCODE")
        return
    real_keys = {k.get("name"): k for k in real_root.findall("./SINGLE/KEY")}
    our_keys = {k.get("name") for k in our_root.findall("./SINGLE/KEY")}
    # XML prints every declared key, absent ones as null: only those may be missing here.
    missing = {n for n in set(real_keys) - our_keys if real_keys[n].find("VALUE[@null]") is None}
    assert not missing and our_keys <= set(real_keys)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    if not any(RECORDINGS.glob("*.json")):
        pytest.fail(
            f"no recordings in {RECORDINGS}: copy them from ../shared/moodle/recordings "
            "(tests/fixtures/moodle/recordings/README.md says which)"
        )
    with start_sandbox(now=RECORDED_NOW) as running:
        yield running


@pytest.mark.parametrize("case", list(_cases()))
def test_sandbox_answers_like_the_recorded_moodle(sandbox: Sandbox, case: str) -> None:
    sandbox.reset()
    sandbox.state.set_maintenance(case in MAINTENANCE_ON)
    cli_down = FaultPlan(rules=[FaultRule(kind=FaultKind.CLI_MAINTENANCE)])
    sandbox.set_faults(cli_down if case in CLI_MAINTENANCE else None)
    for earlier in REPLAY_FIRST.get(case, []):
        replay(sandbox, earlier).raise_for_status()
    recording = _load(case)
    response = replay(sandbox, case)

    assert response.status_code == recording["http_status"]
    if "html" in recording.get("content_type", ""):
        assert response.headers["Content-Type"] == recording["content_type"]
        assert response.text == recording["response"]
        return
    if "xml" in recording.get("content_type", ""):
        assert response.headers["Content-Type"].startswith("application/xml")
        assert_same_xml(recording["response"], response.text)
        return
    ours, real = response.json(), recording["response"]
    if isinstance(real, dict) and "exception" in real:
        assert (ours.get("exception"), ours.get("errorcode")) == (
            real["exception"],
            real["errorcode"],
        )
    assert shape(ours) == shape(real)
    assert warning_codes(ours) == warning_codes(real)
