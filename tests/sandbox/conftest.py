"""A sandbox per test module, reset before each test, and a small REST caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from moodle_sync.sandbox import INTEGRATION_TOKEN, Sandbox, start_sandbox

NOW = datetime(2026, 11, 26, 2, 19, 26, tzinfo=UTC)
Rest = Callable[..., requests.Response]


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with start_sandbox(now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running: Sandbox) -> Sandbox:
    running.reset()
    return running


@pytest.fixture
def rest(sandbox: Sandbox) -> Rest:
    """POST one call; the reserved variables go first, as a well-behaved client sends them."""

    def call(function: str, token: str = INTEGRATION_TOKEN, **params: Any) -> requests.Response:
        data = [("wstoken", token), ("wsfunction", function), ("moodlewsrestformat", "json")]
        data += [(k, str(v)) for k, v in params.items()]
        url = f"{sandbox.url}/webservice/rest/server.php"
        return requests.post(url, data=data, timeout=10)

    return call
