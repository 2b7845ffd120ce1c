"""Fault injection: each kind answers as the real failure does, decided by a seeded plan."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
import requests

from moodle_sync.sandbox import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from tests.sandbox.conftest import NOW, Rest

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "moodle" / "recordings"
SITE_INFO = "core_webservice_get_site_info"
SEND = "core_message_send_instant_messages"
ONE_MESSAGE = {"messages[0][touserid]": 6, "messages[0][text]": "hello"}


@pytest.fixture
def faulty(sandbox: Sandbox) -> Iterator[Sandbox]:
    yield sandbox
    sandbox.set_faults(None)


def always(kind: FaultKind, function: str = "*", **options: object) -> FaultPlan:
    return FaultPlan(
        rules=[FaultRule.model_validate({"kind": kind, "function": function} | options)]
    )


def state(sandbox: Sandbox) -> dict[str, object]:
    body: dict[str, object] = requests.get(f"{sandbox.url}/sandbox/state", timeout=5).json()
    return body


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        (FaultKind.HTTP_500, 500, "text/plain"),
        (FaultKind.HTTP_502, 502, "text/plain"),
        (FaultKind.HTTP_503, 503, "text/plain"),
        (FaultKind.CLI_MAINTENANCE, 503, "text/html"),
        (FaultKind.LOGIN_PAGE, 200, "text/html"),
    ],
)
def test_non_json_answers_have_the_status_and_type_of_the_real_failure(
    faulty: Sandbox, rest: Rest, kind: FaultKind, status: int, content_type: str
) -> None:
    faulty.set_faults(always(kind))
    reply = rest(SITE_INFO)
    assert (reply.status_code, reply.headers["Content-Type"].split(";")[0]) == (
        status,
        content_type,
    )
    with pytest.raises(ValueError):
        reply.json()


def test_cli_maintenance_is_the_recorded_page_with_retry_after(faulty: Sandbox, rest: Rest) -> None:
    recording = json.loads((RECORDINGS / "maintenance__cli_enabled_site_info.json").read_text())
    faulty.set_faults(always(FaultKind.CLI_MAINTENANCE))
    reply = rest(SITE_INFO)
    assert (reply.text, reply.headers["Retry-After"]) == (recording["response"], "300")


def test_sitemaintenance_is_the_recorded_envelope_in_a_200(faulty: Sandbox, rest: Rest) -> None:
    recording = json.loads((RECORDINGS / "maintenance__config_enabled_site_info.json").read_text())
    faulty.set_faults(always(FaultKind.SITE_MAINTENANCE))
    reply = rest(SITE_INFO)
    assert (reply.status_code, reply.json()) == (200, recording["response"])


def test_a_truncated_answer_is_the_first_half_of_the_real_one(faulty: Sandbox, rest: Rest) -> None:
    whole = rest(SITE_INFO).content
    faulty.set_faults(always(FaultKind.TRUNCATED))
    cut = rest(SITE_INFO)
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(ValueError):
        cut.json()


def test_a_reset_connection_answers_nothing(faulty: Sandbox, rest: Rest) -> None:
    faulty.set_faults(always(FaultKind.RESET))
    with pytest.raises(requests.ConnectionError):
        rest(SITE_INFO)


def test_a_hang_outlasts_the_client_read_timeout(faulty: Sandbox) -> None:
    faulty.set_faults(FaultPlan(hang_seconds=30, rules=[FaultRule(kind=FaultKind.HANG)]))
    data = {"wstoken": INTEGRATION_TOKEN, "wsfunction": SITE_INFO, "moodlewsrestformat": "json"}
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{faulty.url}/webservice/rest/server.php", data=data, timeout=(5, 0.3))
    assert time.monotonic() - started < 5


def test_a_revoked_token_is_invalid_from_that_call_on(faulty: Sandbox, rest: Rest) -> None:
    faulty.set_faults(always(FaultKind.REVOKE_TOKEN, after_calls=1, times=1))
    codes = [rest(SITE_INFO).json().get("errorcode") for _ in range(3)]
    assert codes == [None, "invalidtoken", "invalidtoken"]


def test_an_inaccessible_course_warns_and_refuses_from_then_on(faulty: Sandbox, rest: Rest) -> None:
    faulty.set_faults(always(FaultKind.COURSE_INACCESSIBLE, courseid=6, times=1))
    users = rest("core_enrol_get_enrolled_users", courseid=6).json()
    submissions = rest("mod_assign_get_submissions", **{"assignmentids[0]": 6}).json()
    other = rest("core_enrol_get_enrolled_users", courseid=5).json()
    assert users["errorcode"] == "errorcoursecontextnotvalid"
    assert [(w["itemid"], w["warningcode"]) for w in submissions["warnings"]] == [(6, "1")]
    assert isinstance(other, list) and other


def test_an_inaccessible_course_defaults_to_the_course_the_call_reads(
    faulty: Sandbox, rest: Rest
) -> None:
    faulty.set_faults(always(FaultKind.COURSE_INACCESSIBLE, times=1))
    rest("mod_assign_get_submissions", **{"assignmentids[0]": 4})  # assignment 4 is in course 4
    assert rest("core_enrol_get_enrolled_users", courseid=4).json()["errorcode"] == (
        "errorcoursecontextnotvalid"
    )


def test_a_lost_answer_stores_the_message_but_tells_the_client_nothing(
    faulty: Sandbox, rest: Rest
) -> None:
    faulty.set_faults(always(FaultKind.LOST_ANSWER))
    site = rest(SITE_INFO)  # a read: lost_answer only fires on writes
    with pytest.raises(requests.ConnectionError):
        rest(SEND, **ONE_MESSAGE)
    assert site.json()["username"] == "cetad_sync"
    assert [m["text"] for m in faulty.state.snapshot()["messages"]] == ["<p>hello</p>"]


def test_a_slow_answer_stores_the_message_and_times_the_client_out(faulty: Sandbox) -> None:
    faulty.set_faults(FaultPlan(hang_seconds=30, rules=[FaultRule(kind=FaultKind.SLOW_ANSWER)]))
    data = {"wstoken": INTEGRATION_TOKEN, "wsfunction": SEND, "moodlewsrestformat": "json",
            **ONE_MESSAGE}  # fmt: skip
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{faulty.url}/webservice/rest/server.php", data=data, timeout=(5, 0.3))
    assert [m["text"] for m in faulty.state.snapshot()["messages"]] == ["<p>hello</p>"]


# The caller, a process of its own: it sends one message and prints the answer.
CALLER = """
import sys, requests
data = {"wstoken": sys.argv[2], "wsfunction": sys.argv[3], "moodlewsrestformat": "json",
        "messages[0][touserid]": "6", "messages[0][text]": "hello"}
print(requests.post(sys.argv[1] + "/webservice/rest/server.php", data=data, timeout=10).text)
"""


@pytest.mark.parametrize(
    ("kind", "stored"),
    [(FaultKind.KILL_BEFORE, 0), (FaultKind.KILL_DURING, 1), (FaultKind.KILL_AFTER, 1)],
)
def test_a_kill_fault_sigkills_the_calling_process_around_its_call(
    faulty: Sandbox, kind: FaultKind, stored: int
) -> None:
    faulty.set_faults(always(kind, SEND))
    caller = [sys.executable, "-c", CALLER, faulty.url, INTEGRATION_TOKEN, SEND]
    done = subprocess.run(caller, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (-signal.SIGKILL, "")
    deadline = time.monotonic() + 5  # kill_during: the call runs on after its caller died
    while len(faulty.state.snapshot()["messages"]) < stored and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(faulty.state.snapshot()["messages"]) == stored
    assert state(faulty)["faults"] == {kind.value: 1}


def test_a_kill_fault_spares_a_caller_in_the_sandbox_process(faulty: Sandbox, rest: Rest) -> None:
    faulty.set_faults(always(FaultKind.KILL_AFTER, SEND))
    with pytest.raises(requests.ConnectionError):
        rest(SEND, **ONE_MESSAGE)
    assert len(faulty.state.snapshot()["messages"]) == 1


def test_lost_answer_on_a_named_read_function_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="lost_answer is for write functions"):
        FaultRule(kind=FaultKind.LOST_ANSWER, function=SITE_INFO)


def test_after_calls_and_times_bound_a_rule_to_its_function(faulty: Sandbox, rest: Rest) -> None:
    faulty.set_faults(always(FaultKind.HTTP_503, SITE_INFO, after_calls=2, times=2))
    statuses = [rest(SITE_INFO).status_code for _ in range(5)]
    other = rest("core_enrol_get_enrolled_users", courseid=5)
    assert statuses == [200, 200, 503, 503, 200]
    assert other.status_code == 200


def _pattern(sandbox: Sandbox, rest: Rest, seed: int) -> list[int]:
    rule = FaultRule(kind=FaultKind.HTTP_500, probability=0.5)
    sandbox.set_faults(FaultPlan(seed=seed, rules=[rule]))
    return [rest(SITE_INFO).status_code for _ in range(24)]


def test_the_same_seed_injects_the_same_faults(faulty: Sandbox, rest: Rest) -> None:
    first, again, other = (
        _pattern(faulty, rest, 7),
        _pattern(faulty, rest, 7),
        _pattern(faulty, rest, 8),
    )
    assert first == again
    assert first != other
    assert 0 < first.count(500) < 24


def test_every_injected_fault_is_counted_in_the_state(faulty: Sandbox, rest: Rest) -> None:
    rules = [
        FaultRule(kind=FaultKind.HTTP_502, times=2),
        FaultRule(kind=FaultKind.SITE_MAINTENANCE, times=1),
    ]
    faulty.set_faults(FaultPlan(rules=rules))
    for _ in range(4):
        rest(SITE_INFO)
    assert state(faulty)["faults"] == {"http_502": 2, "sitemaintenance": 1}


def test_latency_is_added_to_every_answer(faulty: Sandbox, rest: Rest) -> None:
    faulty.set_faults(FaultPlan(latency_ms=150))
    started = time.monotonic()
    rest(SITE_INFO)
    assert time.monotonic() - started >= 0.15
    assert state(faulty)["faults"] == {}


def test_a_plan_posted_over_http_is_installed_and_an_empty_one_clears_it(
    faulty: Sandbox, rest: Rest
) -> None:
    url = f"{faulty.url}/sandbox/faults"
    plan = {"seed": 3, "rules": [{"kind": "http_500", "function": SITE_INFO, "times": 1}]}
    assert requests.post(url, json=plan, timeout=5).status_code == 200
    assert rest(SITE_INFO).status_code == 500
    requests.post(url, json={}, timeout=5)
    assert faulty.faults is None


def test_a_bad_plan_over_http_is_a_400_naming_the_field(faulty: Sandbox) -> None:
    plan = {"rules": [{"kind": "http_500", "probability": 2}]}
    reply = requests.post(f"{faulty.url}/sandbox/faults", json=plan, timeout=5)
    assert reply.status_code == 400
    assert "rules.0.probability" in reply.json()["error"]


def test_start_sandbox_takes_a_plan() -> None:
    plan = always(FaultKind.HTTP_502, times=1)
    with start_sandbox(now=NOW, faults=plan) as sandbox:
        data = {"wstoken": INTEGRATION_TOKEN, "wsfunction": SITE_INFO}
        url = f"{sandbox.url}/webservice/rest/server.php"
        statuses = [requests.post(url, data=data, timeout=5).status_code for _ in range(2)]
    assert statuses == [502, 200]


def test_the_command_line_sandbox_reads_a_plan_file(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(always(FaultKind.HTTP_502, times=1).model_dump_json())
    command = [sys.executable, "-m", "moodle_sync.sandbox", "--port", "0", "--faults", str(plan)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        url = process.stderr.readline().split()[-1]  # "Sandbox Moodle at http://..."
        data = {"wstoken": INTEGRATION_TOKEN, "wsfunction": SITE_INFO}
        rest_url = f"{url}/webservice/rest/server.php"
        statuses = [requests.post(rest_url, data=data, timeout=5).status_code for _ in range(2)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert statuses == [502, 200]
