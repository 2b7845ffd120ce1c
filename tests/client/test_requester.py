"""The requester: what it sends, when it retries, when it refuses to, and what it never leaks."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from moodle_sync.client import Requester
from moodle_sync.client.politeness import RateLimiter
from moodle_sync.errors import (
    FatalError,
    InDoubtError,
    RequestTooLargeError,
    RetriableError,
    SkippableError,
)
from tests.client.conftest import ENDPOINT, TOKEN, MakeRequester, reply, sent_forms

Mock = responses.RequestsMock


def _fail(mock: Mock, status: int = 502, headers: dict[str, str] | None = None) -> None:
    mock.add(
        responses.POST,
        ENDPOINT,
        body="<html>proxy error</html>",
        status=status,
        content_type="text/html",
        headers=headers,
    )


def test_a_call_posts_the_token_first_and_returns_parsed_json(req: Requester, moodle: Mock) -> None:
    rec = reply(moodle, "core_course_get_courses_by_field__idnumber")
    answer = req.call(
        "core_course_get_courses_by_field", {"field": "idnumber", "value": "CETAD-RAPL"}
    )
    assert answer == rec["response"]
    assert sent_forms(moodle)[0] == [
        ("wstoken", TOKEN),
        ("wsfunction", "core_course_get_courses_by_field"),
        ("moodlewsrestformat", "json"),
        ("field", "idnumber"),
        ("value", "CETAD-RAPL"),
    ]
    assert moodle.calls[0].request.url == ENDPOINT  # never the token in the URL
    assert req.stats.calls == 1


def test_a_read_is_retried_with_backoff_until_it_succeeds(
    req: Requester, moodle: Mock, sleeps: list[float]
) -> None:
    _fail(moodle)
    _fail(moodle, 429)
    reply(moodle, "core_webservice_get_site_info")
    assert req.call("core_webservice_get_site_info")["username"] == "cetad_sync"
    assert (len(moodle.calls), req.stats.retries, len(sleeps)) == (3, 2, 2)
    assert all(0 <= s <= 60 for s in sleeps)


def test_retry_after_from_the_maintenance_page_is_honoured(
    req: Requester, moodle: Mock, sleeps: list[float]
) -> None:
    reply(moodle, "maintenance__cli_enabled_site_info", headers={"Retry-After": "120"})
    reply(moodle, "core_webservice_get_site_info")
    req.call("core_webservice_get_site_info")
    assert sleeps[0] >= 120


def test_a_read_gives_up_after_max_attempts(make_requester: MakeRequester, moodle: Mock) -> None:
    req = make_requester(max_attempts=3)
    for _ in range(3):
        reply(moodle, "maintenance__config_enabled_get_grades")
    with pytest.raises(RetriableError, match="sitemaintenance"):
        req.call("mod_assign_get_grades", {"assignmentids": [1]})
    assert len(moodle.calls) == 3


def test_the_run_wide_retry_budget_stops_a_retry_storm(
    make_requester: MakeRequester, moodle: Mock
) -> None:
    req = make_requester(max_attempts=5, retry_budget=2)
    for _ in range(4):
        _fail(moodle)
    with pytest.raises(RetriableError):
        req.call("f")  # 1 attempt + 2 retries: the budget is spent
    with pytest.raises(RetriableError):
        req.call("f")  # no retries left at all
    assert (len(moodle.calls), req.stats.retries) == (4, 2)


@pytest.mark.parametrize(
    "name", ["error__invalid_token", "error__nonexistent_course_enrolled_users"]
)
def test_fatal_and_skippable_errors_are_not_retried(
    req: Requester, moodle: Mock, name: str
) -> None:
    reply(moodle, name)
    with pytest.raises((FatalError, SkippableError)):
        req.call("core_enrol_get_enrolled_users", {"courseid": 999999})
    assert len(moodle.calls) == 1


def test_a_read_timeout_on_a_read_is_retried(req: Requester, moodle: Mock) -> None:
    moodle.add(responses.POST, ENDPOINT, body=requests.exceptions.ReadTimeout("read timed out"))
    reply(moodle, "core_webservice_get_site_info")
    assert req.call("core_webservice_get_site_info")["userid"] == 3


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection reset by peer"),
    ],
)
def test_a_write_with_an_unknown_outcome_is_in_doubt_and_never_resent(
    req: Requester, moodle: Mock, failure: Exception
) -> None:
    moodle.add(responses.POST, ENDPOINT, body=failure)
    with pytest.raises(InDoubtError, match="not resent"):
        req.call("core_message_send_instant_messages", {"messages": [{"touserid": 5}]}, write=True)
    assert (len(moodle.calls), req.stats.in_doubt, req.stats.retries) == (1, 1, 0)


def test_a_write_answered_by_a_server_error_is_in_doubt(req: Requester, moodle: Mock) -> None:
    _fail(moodle, 502)
    with pytest.raises(InDoubtError) as caught:
        req.call("core_user_update_users", {"users": [{"id": 8}]}, write=True)
    assert caught.value.http_status == 502
    assert len(moodle.calls) == 1


@pytest.mark.parametrize(
    "queue",
    [
        lambda m: reply(m, "maintenance__config_enabled_get_grades"),
        lambda m: _fail(m, 429),
        lambda m: m.add(responses.POST, ENDPOINT, body=requests.exceptions.ConnectTimeout("x")),
    ],
    ids=["sitemaintenance", "429", "connect-timeout"],
)
def test_a_write_that_surely_did_not_run_is_retriable_but_sent_once(
    req: Requester, moodle: Mock, queue: Any
) -> None:
    queue(moodle)
    with pytest.raises(RetriableError) as caught:
        req.call("core_user_update_users", {"users": [{"id": 8}]}, write=True)
    assert not isinstance(caught.value, InDoubtError)
    assert len(moodle.calls) == 1


def test_the_token_is_redacted_from_errors_and_logs(
    req: Requester, moodle: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    leak = requests.exceptions.ConnectionError(f"failed POST with wstoken={TOKEN}")
    for _ in range(5):
        moodle.add(responses.POST, ENDPOINT, body=leak)
    with caplog.at_level(logging.DEBUG), pytest.raises(RetriableError) as caught:
        req.call("core_webservice_get_site_info")
    assert TOKEN not in str(caught.value) and "[REDACTED]" in str(caught.value)
    assert caplog.records and not any(TOKEN in r.getMessage() for r in caplog.records)


def test_a_request_over_the_budget_is_refused_before_sending(
    make_requester: MakeRequester, moodle: Mock
) -> None:
    req = make_requester(max_input_vars=50)
    with pytest.raises(RequestTooLargeError):
        req.call("mod_assign_get_submissions", {"assignmentids": list(range(60))})
    assert len(moodle.calls) == 0


def test_long_id_lists_are_chunked_under_both_limits_and_merged(
    make_requester: MakeRequester, moodle: Mock
) -> None:
    req = make_requester(max_input_vars=10, max_ids_per_call=4, max_concurrent_requests=2)

    def echo(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        from urllib.parse import parse_qsl

        ids = [int(v) for k, v in parse_qsl(str(request.body)) if k.startswith("assignmentids")]
        answer = {
            "assignments": [{"assignmentid": i, "grades": []} for i in ids],
            "warnings": [{"item": "assignment", "itemid": ids[0], "warningcode": "3"}],
        }
        return 200, {}, json.dumps(answer)

    moodle.add_callback(responses.POST, ENDPOINT, callback=echo)
    merged = req.call_batched(
        "mod_assign_get_grades", "assignmentids", list(range(1, 12)), {"since": 5}
    )
    forms = sent_forms(moodle)
    assert sorted(len(form) for form in forms) == [7, 8, 8]  # 3 reserved + since + <= 4 ids
    assert all(len(form) <= 10 for form in forms)
    assert [a["assignmentid"] for a in merged["assignments"]] == list(range(1, 12))
    assert [w["itemid"] for w in merged["warnings"]] == [1, 5, 9]


def test_map_runs_on_a_bounded_pool_and_keeps_input_order(
    make_requester: MakeRequester,
) -> None:
    req = make_requester(max_concurrent_requests=3)
    active, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def work(n: int) -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            if active[0] == 3:
                release.set()
        release.wait(2)
        with lock:
            active[0] -= 1
        return n * n

    assert req.map(work, range(8)) == [n * n for n in range(8)]
    assert peak[0] == 3


def test_the_rate_limit_spaces_request_starts() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert waits == [0.25, 0.5]
    unlimited = RateLimiter(0, clock=lambda: now[0], sleep=sleep)
    unlimited.acquire()
    assert waits == [0.25, 0.5]


def _refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, ENDPOINT, reason))  # type: ignore[arg-type]


def test_a_site_that_never_answered_and_refuses_is_one_fatal_error(
    req: Requester, moodle: Mock
) -> None:
    moodle.add(responses.POST, ENDPOINT, body=_refused())
    with pytest.raises(FatalError, match=r"cannot connect to .* check moodle\.url") as caught:
        req.call("core_webservice_get_site_info")
    assert (caught.value.errorcode, len(moodle.calls), req.stats.retries) == ("unreachable", 1, 0)


def test_a_refusal_after_the_site_answered_is_retried(req: Requester, moodle: Mock) -> None:
    reply(moodle, "core_webservice_get_site_info")
    req.call("core_webservice_get_site_info")
    moodle.add(responses.POST, ENDPOINT, body=_refused())
    reply(moodle, "core_webservice_get_site_info")
    assert req.call("core_webservice_get_site_info")["userid"] == 3
    assert req.stats.retries == 1
