"""The client against the sandbox Moodle over real HTTP on a loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from moodle_sync.client import Requester
from moodle_sync.client.assignments import get_assignments, get_submissions, get_user_flags
from moodle_sync.client.courses import get_courses_by_field
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.client.messages import OutgoingMessage, get_messages, send_instant_messages
from moodle_sync.client.registry import missing_functions
from moodle_sync.client.site import get_site_info
from moodle_sync.client.users import UserUpdate, get_users_by_field, update_users
from moodle_sync.errors import FatalError, SkippableError
from moodle_sync.sandbox.dispatch import Reply
from moodle_sync.sandbox.server import (
    INTEGRATION_TOKEN,
    NO_CAPABILITY_TOKEN,
    PARTIAL_SERVICE_TOKEN,
    Sandbox,
    start_sandbox,
)
from moodle_sync.settings import MoodleSettings

LOTC = 5
Connect = Callable[..., Requester]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as sb:
        yield sb


@pytest.fixture
def connect(sandbox: Sandbox, sleeps: list[float]) -> Iterator[Connect]:
    made: list[Requester] = []

    def make(token: str = INTEGRATION_TOKEN, **options: Any) -> Requester:
        settings = MoodleSettings(url=sandbox.url, token=SecretStr(token), **options)
        made.append(Requester(settings, sleep=sleeps.append))
        return made[-1]

    yield make
    for req in made:
        req.close()
    sandbox.server.fault_hook = None
    sandbox.reset()


def test_the_integration_token_has_every_function_and_a_partial_one_does_not(
    connect: Connect,
) -> None:
    assert missing_functions(get_site_info(connect()).functions) == []
    partial = get_site_info(connect(PARTIAL_SERVICE_TOKEN))
    assert {spec.name for spec in missing_functions(partial.functions)} == {
        "core_message_send_instant_messages",
        "mod_assign_get_user_flags",
    }


def test_a_wrong_token_is_fatal(connect: Connect) -> None:
    with pytest.raises(FatalError) as caught:
        get_site_info(connect("not-a-token"))
    assert caught.value.errorcode == "invalidtoken"


def test_a_course_the_token_cannot_see_is_skippable(connect: Connect) -> None:
    with pytest.raises(SkippableError):
        get_enrolled_users(connect(NO_CAPABILITY_TOKEN), LOTC)


def test_a_full_read_of_the_programme(connect: Connect) -> None:
    req = connect()
    courses = get_courses_by_field(req, "idnumber", ["CETAD-RAPL", "CETAD-LOTC", "NOPE"]).data
    assert [c.shortname for c in courses] == ["RAPL", "LOTC"]
    users = {u.idnumber: u.status for u in get_enrolled_users(req, LOTC).items or ()}
    assert users["P1006"] == "suspended" and users["P1001"] == "active"
    assignments = get_assignments(req, [c.id for c in courses])
    assert assignments.data and assignments.warnings == []
    ids = [a.id for a in assignments.data]
    assert get_submissions(req, ids).data
    assert get_user_flags(req, ids).data


def test_an_enrolment_answer_the_caller_holds_is_not_read_again(connect: Connect) -> None:
    req = connect()
    first = get_enrolled_users(req, LOTC)
    assert first.items and first.count == len(first.items)
    again = get_enrolled_users(req, LOTC, known=first.digest)
    assert (again.digest, again.count, again.items) == (first.digest, first.count, None)
    assert get_enrolled_users(req, LOTC, known="another answer").items == first.items


def test_chunked_lookups_merge_across_calls(connect: Connect) -> None:
    req = connect(max_input_vars=12, max_ids_per_call=3)
    ids = [u.id for u in get_enrolled_users(req, LOTC).items or ()]
    calls_before = req.stats.calls
    users = get_users_by_field(req, "id", ids)
    assert sorted(u.id for u in users) == sorted(ids)
    assert req.stats.calls - calls_before == -(-len(ids) // 3)


def test_profile_fields_written_are_read_back(connect: Connect) -> None:
    req = connect()
    result = update_users(req, [UserUpdate(8, {"cetad_progression": "Progressing - Stage 2"})])
    assert (result.data, result.warnings) == ([8], [])
    (user,) = get_users_by_field(req, "id", [8])
    assert user.customfields["cetad_progression"] == "Progressing - Stage 2"


def test_sent_messages_can_be_listed_afterwards(connect: Connect) -> None:
    req = connect()
    (result,) = send_instant_messages(req, [OutgoingMessage(5, "Reminder: due soon", "t-1")])
    assert result.ok
    sent = get_messages(req, get_site_info(req).userid)
    assert sent[0].id == result.msgid and sent[0].useridto == 5


def test_a_maintenance_answer_is_retried_until_the_site_is_back(
    connect: Connect, sandbox: Sandbox
) -> None:
    page = Reply(503, "text/html", b"<html><title>Site under maintenance</title></html>")
    queue = [page, page]
    sandbox.server.fault_hook = lambda method, path: queue.pop() if queue else None
    req = connect()
    assert get_site_info(req).username == "cetad_sync"
    assert req.stats.retries == 2
