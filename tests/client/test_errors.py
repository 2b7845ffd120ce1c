"""The error envelope: every recorded failure becomes the error class that says what to do."""

from __future__ import annotations

import json
import logging

import pytest

from moodle_sync.client.envelope import check_response
from moodle_sync.errors import (
    FatalError,
    InDoubtError,
    MoodleError,
    MoodleSyncError,
    NotMoodleError,
    RetriableError,
    SkippableError,
)
from tests.client.conftest import recording


def _check(name: str, headers: dict[str, str] | None = None) -> object:
    rec = recording(name)
    body = rec["response"]
    text = body if isinstance(body, str) else json.dumps(body)
    function = rec["function"] or "?"
    return check_response(function, rec["http_status"], headers or {}, text)


@pytest.mark.parametrize(
    ("name", "cls", "errorcode"),
    [
        ("error__invalid_token", FatalError, "invalidtoken"),
        ("error__function_not_in_service", FatalError, "accessexception"),
        ("error__missing_capability_update_users", FatalError, "nopermissions"),
        ("error__invalid_param_type", FatalError, "invalidparameter"),
        ("mod_assign_get_assignments__bool_true_string", FatalError, "invalidparameter"),
        ("error__nonexistent_course_enrolled_users", SkippableError, "invalidrecord"),
        ("error__unknown_function", SkippableError, "invalidrecord"),
        ("error__missing_capability_enrolled_users", SkippableError, "errorcoursecontextnotvalid"),
        ("error__missing_capability_course_completion", SkippableError, "requireloginerror"),
        ("mod_assign_get_participant__a5_u10", SkippableError, "usernotincourse"),
        ("maintenance__config_enabled_get_grades", RetriableError, "sitemaintenance"),
        ("maintenance__cli_enabled_site_info", RetriableError, "climaintenance"),
        ("xml__error_invalid_token", FatalError, "invalidtoken"),
        ("batch__6000_ids_token_last", FatalError, "invalidtoken"),
    ],
)
def test_recorded_failures_map_to_what_the_caller_should_do(
    name: str, cls: type[MoodleError], errorcode: str
) -> None:
    rec = recording(name)
    with pytest.raises(cls) as caught:
        _check(name)
    assert type(caught.value) is cls
    assert caught.value.errorcode == errorcode
    assert caught.value.function == (rec["function"] or "?")
    assert caught.value.http_status == rec["http_status"]


def test_error_carries_moodles_message_and_tells_the_fix() -> None:
    with pytest.raises(FatalError) as caught:
        _check("error__invalid_token")
    assert caught.value.moodle_message == "Invalid token - token not found"
    text = str(caught.value)
    assert "core_webservice_get_site_info" in text and "'invalidtoken'" in text
    assert "MOODLE_SYNC_MOODLE__TOKEN" in text


def test_an_error_envelope_is_an_error_whatever_the_http_status() -> None:
    body = json.dumps({"exception": "moodle_exception", "errorcode": "upgraderunning"})
    for status in (200, 404, 500):
        with pytest.raises(RetriableError, match="upgraderunning"):
            check_response("f", status, {}, body)


def test_debuginfo_goes_to_the_debug_log_only(caplog: pytest.LogCaptureFixture) -> None:
    body = {
        "exception": "invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
        "debuginfo": 'courseids => Invalid external api parameter: the value is "abc"',
    }
    with caplog.at_level(logging.DEBUG), pytest.raises(FatalError) as caught:
        check_response("mod_assign_get_assignments", 200, {}, json.dumps(body))
    assert "the value is" not in str(caught.value)
    assert [r.levelno for r in caplog.records if "the value is" in r.getMessage()] == [
        logging.DEBUG
    ]


def test_unknown_errorcodes_stop_the_run_rather_than_being_skipped() -> None:
    body = json.dumps({"exception": "Error", "message": "Attempt to assign property on null"})
    with pytest.raises(FatalError) as caught:
        check_response("core_course_get_courses_by_field", 200, {}, body)
    assert caught.value.errorcode == "Error"


def test_a_missing_capability_names_the_ids_the_function_needs() -> None:
    # Moodle names the capability by its display name only ("Update user profile").
    body = {"exception": "required_capability_exception", "errorcode": "nopermissions",
            "message": "Sorry, but you do not currently have permissions to do that "
                       "(Update user profile)."}  # fmt: skip
    with pytest.raises(FatalError) as caught:
        check_response("core_user_update_users", 200, {}, json.dumps(body))
    assert "moodle/user:update" in str(caught.value)


def test_a_database_write_race_is_retriable() -> None:
    # Seen on a real site (tests/live): a new integration user's first concurrent calls race
    # to insert one user preference; the losers answer dmlwriteexception, a retry succeeds.
    body = {"exception": "dml_write_exception", "errorcode": "dmlwriteexception",
            "message": "Error writing to database"}  # fmt: skip
    with pytest.raises(RetriableError):
        check_response("core_course_get_courses_by_field", 200, {}, json.dumps(body))


def test_the_maintenance_page_is_retriable_and_honours_retry_after() -> None:
    with pytest.raises(RetriableError) as caught:
        _check("maintenance__cli_enabled_site_info", headers={"Retry-After": "300"})
    assert caught.value.retry_after == 300.0
    assert "maintenance" in str(caught.value)


@pytest.mark.parametrize("status", [429, 500, 502, 504])
def test_overload_and_server_errors_are_retriable(status: int) -> None:
    with pytest.raises(RetriableError) as caught:
        check_response("f", status, {"Retry-After": "7"}, "<html>Bad gateway</html>")
    assert (caught.value.http_status, caught.value.retry_after) == (status, 7.0)


def test_an_html_login_page_is_not_a_moodle_endpoint_and_the_error_quotes_it() -> None:
    page = "<!DOCTYPE html><html><title>Log in to the site</title>" + "x" * 5000
    with pytest.raises(NotMoodleError) as caught:
        check_response("core_webservice_get_site_info", 200, {}, page)
    text = str(caught.value)
    assert "does not answer like a Moodle web-service endpoint" in text
    assert "Log in to the site" in text and len(text) < 600


def test_a_redirect_names_where_it_goes() -> None:
    with pytest.raises(NotMoodleError, match=r"https://moodle\.example\.test/login"):
        check_response("f", 303, {"Location": "https://moodle.example.test/login"}, "")


def test_an_empty_403_says_web_services_are_disabled() -> None:
    with pytest.raises(FatalError, match="web services or the REST protocol are disabled"):
        check_response("f", 403, {}, "")


def test_partial_data_with_warnings_is_returned_not_raised() -> None:
    answer = _check("error__missing_capability_get_submissions")
    assert answer == recording("error__missing_capability_get_submissions")["response"]


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (RetriableError, MoodleError),
        (FatalError, MoodleError),
        (SkippableError, MoodleError),
        (InDoubtError, MoodleError),
        (NotMoodleError, FatalError),
        (MoodleError, MoodleSyncError),
    ],
)
def test_the_tree_drawn_in_the_docstring(cls: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(cls, parent)
    import moodle_sync.errors as errors

    assert cls.__name__ in (errors.__doc__ or "")
