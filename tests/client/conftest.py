"""Recorded Moodle answers served through `responses`, and a requester that never sleeps."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from pydantic import SecretStr

from moodle_sync.client import Requester
from moodle_sync.settings import MoodleSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "moodle" / "recordings"
URL = "https://moodle.example.test"
ENDPOINT = URL + "/webservice/rest/server.php"
TOKEN = "tok-3f9a0c-secret"

MakeRequester = Callable[..., Requester]


def recording(name: str) -> dict[str, Any]:
    """One file of tests/fixtures/moodle/recordings (copied from ../shared/moodle/recordings)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def reply(
    mock: responses.RequestsMock, name: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Queue the recorded answer `name` for the next POST to the endpoint."""
    rec = recording(name)
    body = rec["response"]
    text = body if isinstance(body, str) else json.dumps(body)
    mock.add(
        responses.POST,
        ENDPOINT,
        body=text,
        status=rec["http_status"],
        content_type=rec.get("content_type", "application/json"),
        headers=headers,
    )
    return rec


def sent_forms(mock: responses.RequestsMock) -> list[list[tuple[str, str]]]:
    """The decoded form body of every request made, in order."""
    return [parse_qsl(str(call.request.body), keep_blank_values=True) for call in mock.calls]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_requester(sleeps: list[float]) -> Iterator[MakeRequester]:
    made: list[Requester] = []

    def make(**overrides: Any) -> Requester:
        options: dict[str, Any] = {"max_requests_per_second": 0, **overrides}
        settings = MoodleSettings(url=URL, token=SecretStr(TOKEN), **options)
        req = Requester(settings, sleep=sleeps.append)
        made.append(req)
        return req

    yield make
    for req in made:
        req.close()


@pytest.fixture
def req(make_requester: MakeRequester) -> Requester:
    return make_requester()


@pytest.fixture
def moodle() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
