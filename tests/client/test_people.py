"""Site info, courses, enrolments and users from recorded answers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import responses

from moodle_sync.client import Requester
from moodle_sync.client.courses import get_courses_by_field
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.client.site import get_site_info
from moodle_sync.client.users import UserUpdate, get_users_by_field, update_users
from moodle_sync.errors import FatalError, SkippableError
from tests.client.conftest import recording, reply, sent_forms

Mock = responses.RequestsMock
PRIVATE_KEY = recording("core_webservice_get_site_info")["response"]["userprivateaccesskey"]


def test_site_info_keeps_the_function_list_but_never_the_private_access_key(
    req: Requester, moodle: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    reply(moodle, "core_webservice_get_site_info")
    info = get_site_info(req)
    assert (info.username, info.userid, info.release) == (
        "cetad_sync",
        3,
        "4.4dev (Build: 20231124)",
    )
    assert "mod_assign_get_participant" in info.functions
    assert PRIVATE_KEY not in info.model_dump_json()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("moodle_sync.client.requester").warning(req.redact(f"key {PRIVATE_KEY}"))
    assert PRIVATE_KEY not in caplog.text


def test_courses_by_idnumber_have_aware_dates(req: Requester, moodle: Mock) -> None:
    reply(moodle, "core_course_get_courses_by_field__idnumber")
    result = get_courses_by_field(req, "idnumber", ["CETAD-RAPL"])
    (course,) = result.data
    assert (course.id, course.idnumber, course.shortname, course.visible) == (
        2,
        "CETAD-RAPL",
        "RAPL",
        True,
    )
    assert course.startdate == datetime.fromtimestamp(1787883566, UTC)


def test_the_site_course_has_no_dates(req: Requester, moodle: Mock) -> None:
    reply(moodle, "core_course_get_courses_by_field__all")
    site = get_courses_by_field(req, "id", ["1"]).data[0]
    assert (site.id, site.startdate, site.enddate) == (1, None, None)


def test_a_course_field_moodle_does_not_know_is_refused(req: Requester) -> None:
    with pytest.raises(ValueError, match="'fullname'"):
        get_courses_by_field(req, "fullname", ["x"])


def test_a_suspended_enrolment_is_told_from_the_users_own_course_list(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "core_enrol_get_enrolled_users__suspended_in_lotc")
    users = {user.idnumber: user for user in get_enrolled_users(req, 5).items or ()}
    assert users["P1006"].status == "suspended"
    assert users["P1001"].status == "active" and users["T2001"].status == "active"
    assert [r.shortname for r in users["T2001"].roles] == ["editingteacher"]
    assert sum(user.status == "suspended" for user in users.values()) == 1


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("error__nonexistent_course_enrolled_users", SkippableError),
        ("error__missing_capability_enrolled_users", SkippableError),
        ("error__invalid_token", FatalError),
    ],
)
def test_enrolment_failures_say_whether_to_skip_the_course(
    req: Requester, moodle: Mock, name: str, cls: type[Exception]
) -> None:
    reply(moodle, name)
    with pytest.raises(cls):
        get_enrolled_users(req, 999999)


def test_users_carry_custom_fields_by_shortname_or_none_at_all(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "core_user_get_users_by_field__after_update")
    users = {user.id: user for user in get_users_by_field(req, "id", [8, 9, 10])}
    assert users[8].customfields == {
        "cetad_progression": "Progressing - Stage 2",
        "cetad_credits": "60",
    }
    assert users[10].customfields == {}
    assert sent_forms(moodle)[0][3:] == [
        ("field", "id"),
        ("values[0]", "8"),
        ("values[1]", "9"),
        ("values[2]", "10"),
    ]


def test_update_users_sends_the_recorded_form_once(req: Requester, moodle: Mock) -> None:
    rec = reply(moodle, "core_user_update_users__customfields")
    result = update_users(
        req,
        [
            UserUpdate(8, {"cetad_progression": "Progressing - Stage 2", "cetad_credits": "60"}),
            UserUpdate(9, {"cetad_progression": "Referred: resubmit OCVB"}),
        ],
    )
    assert sent_forms(moodle)[0][3:] == [(k, str(v)) for k, v in list(rec["params"].items())[3:]]
    assert (result.data, result.warnings) == ([8, 9], [])


def test_a_user_moodle_refused_to_update_is_a_warning_not_a_success(
    req: Requester, moodle: Mock
) -> None:
    reply(moodle, "core_user_update_users__nonexistent_user")
    result = update_users(req, [UserUpdate(999999, {"cetad_credits": "20"})])
    assert result.data == []
    assert [(w.itemid, w.warningcode) for w in result.warnings] == [(999999, "invaliduserid")]
