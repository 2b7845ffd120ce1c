"""Time the Moodle client against the sandbox at zero added latency.

The client path (encoding, envelope check, retries wrapper, rate limiter, pydantic models) is
compared in the same run with a bare loop that posts the same forms through a
``requests.Session`` (keep-alive, like the client) and only decodes the JSON. The ratio and the
per-call difference are the client's own overhead. Prints one JSON object.
Run: .venv/bin/python benchmarks/bench_client.py [--rounds N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from requests.models import Response

from moodle_sync.client import Requester
from moodle_sync.client.assignments import get_grades, get_submissions, get_user_flags
from moodle_sync.client.enrolments import get_enrolled_users
from moodle_sync.client.params import build_form
from moodle_sync.client.site import get_site_info
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, start_sandbox
from moodle_sync.settings import MoodleSettings

COURSES = [2, 3, 4, 5, 6, 7]


def workload(assignment_ids: list[int]) -> list[tuple[str, dict[str, Any]]]:
    """One round: the calls a pull makes, each a single request."""
    calls: list[tuple[str, dict[str, Any]]] = [("core_webservice_get_site_info", {})]
    calls += [("core_enrol_get_enrolled_users", {"courseid": c}) for c in COURSES]
    for function in ("mod_assign_get_submissions", "mod_assign_get_grades"):
        calls.append((function, {"assignmentids": assignment_ids}))
    calls.append(("mod_assign_get_user_flags", {"assignmentids": assignment_ids}))
    return calls


def client_round(req: Requester, assignment_ids: list[int]) -> None:
    get_site_info(req)
    for course in COURSES:
        get_enrolled_users(req, course)
    get_submissions(req, assignment_ids)
    get_grades(req, assignment_ids)
    get_user_flags(req, assignment_ids)


def bare_round(session: requests.Session, endpoint: str, forms: list[Any]) -> None:
    for form in forms:
        session.post(endpoint, data=form, timeout=(5, 60)).json()


class CannedAdapter(HTTPAdapter):
    """Answers each form body with the bytes the sandbox gave for it: no network at all."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        super().__init__()
        self.answers = answers

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        response = Response()
        response.status_code = 200
        response._content = self.answers[str(request.body)]
        response.headers["Content-Type"] = "application/json"
        response.request, response.url = request, str(request.url)
        return response


def canned_session(session: requests.Session, endpoint: str, forms: list[Any]) -> requests.Session:
    answers = {}
    for form in forms:
        prepared = session.prepare_request(requests.Request("POST", endpoint, data=form))
        answers[str(prepared.body)] = session.send(prepared).content
    canned = requests.Session()
    canned.mount("http://", CannedAdapter(answers))
    return canned


def best_of(runs: int, work: Callable[[], None]) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def measure(
    req: Requester,
    session: requests.Session,
    forms: list[Any],
    ids: list[int],
    rounds: int,
    runs: int,
) -> tuple[float, float]:
    """Best-of-``runs`` seconds for ``rounds`` rounds: (client, bare), warmed up first."""
    endpoint = req.settings.endpoint
    client_round(req, ids)
    bare_round(session, endpoint, forms)

    def bare() -> None:
        for _ in range(rounds):
            bare_round(session, endpoint, forms)

    def client() -> None:
        for _ in range(rounds):
            client_round(req, ids)

    baseline = best_of(runs, bare)
    return best_of(runs, client), baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="rounds over HTTP")
    parser.add_argument("--offline-rounds", type=int, default=200, help="rounds, no network")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with start_sandbox() as sb:
        settings = MoodleSettings(
            url=sb.url, token=SecretStr(INTEGRATION_TOKEN), max_requests_per_second=0
        )
        ids = sorted(sb.state.assignments)
        forms = [build_form(INTEGRATION_TOKEN, f, p, 900) for f, p in workload(ids)]
        with Requester(settings) as req, requests.Session() as session:
            seconds, baseline = measure(req, session, forms, ids, args.rounds, args.runs)
            canned = canned_session(session, settings.endpoint, forms)
        with Requester(settings, session=canned) as req:
            offline, offline_base = measure(req, canned, forms, ids, args.offline_rounds, args.runs)
    n, n_offline = args.rounds * len(forms), args.offline_rounds * len(forms)
    report = {
        "name": f"client_pull_{n}_calls_sandbox",
        "seconds": round(seconds, 4),
        "baseline_name": "bare_requests_session_post_json",
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "overhead_ms_per_call": round((seconds - baseline) / n * 1000, 3),
        "offline_calls": n_offline,
        "offline_seconds": round(offline, 4),
        "offline_baseline_seconds": round(offline_base, 4),
        "offline_ratio": round(offline / offline_base, 2),
        "offline_overhead_ms_per_call": round((offline - offline_base) / n_offline * 1000, 3),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
