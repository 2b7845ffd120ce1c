"""The generated benchmark site: exact counts, a realistic shape, and a sandbox that keeps up."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests

from moodle_sync.sandbox import INTEGRATION_TOKEN, start_sandbox
from moodle_sync.sandbox.generate import generate_site
from moodle_sync.sandbox.scenario import read_scenario
from tests.sandbox.conftest import NOW

SMALL = {"courses": 10, "enrolments": 400, "assignments": 40, "submissions": 1_200}


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    return generate_site(**SMALL, seed=1).scenario


def test_counts_are_exactly_the_ones_asked_for(small: dict[str, Any]) -> None:
    courses = [c for c in small["courses"] if c["format"] != "site"]
    got = [len(courses), len(small["enrolments"]), len(small["assignments"])]
    assert [*got, len(small["submissions"])] == list(SMALL.values())


def test_the_scenario_loads_with_the_bundled_tokens(small: dict[str, Any]) -> None:
    assert read_scenario(small).tokens == read_scenario().tokens


def test_submissions_are_by_students_of_the_assignments_course(small: dict[str, Any]) -> None:
    course_of = {a["id"]: a["courseid"] for a in small["assignments"]}
    students = {(e["userid"], e["courseid"]) for e in small["enrolments"] if e["role"] == "student"}
    pairs = [(s["assignment"], s["userid"]) for s in small["submissions"]]
    assert len(set(pairs)) == len(pairs)
    assert all((user, course_of[a]) in students for a, user in pairs)


def test_every_submission_status_occurs(small: dict[str, Any]) -> None:
    statuses = Counter(s["status"] for s in small["submissions"])
    assert set(statuses) == {"new", "draft", "submitted", "reopened"}


def test_flags_hold_extensions_and_every_marking_workflow_state(small: dict[str, Any]) -> None:
    flags = small["userflags"]
    assert any(f.get("extensionduedate") for f in flags)
    assert {f.get("workflowstate") for f in flags} >= {"released", "inmarking", "readyforrelease"}


def test_grades_are_only_for_submitted_work(small: dict[str, Any]) -> None:
    status = {(s["assignment"], s["userid"]): s["status"] for s in small["submissions"]}
    assert small["grades"]
    assert {status[g["assignment"], g["userid"]] for g in small["grades"]} == {"submitted"}


def test_every_course_is_listed_for_the_programme_and_has_students_and_work() -> None:
    site = generate_site(**SMALL)
    courses = {c["idnumber"]: c["id"] for c in site.scenario["courses"] if c["idnumber"]}
    with_students = {e["courseid"] for e in site.scenario["enrolments"] if e["role"] == "student"}
    with_work = {a["courseid"] for a in site.scenario["assignments"]}
    assert sorted(site.course_idnumbers) == sorted(courses)
    assert set(courses.values()) == with_students == with_work


def test_the_same_seed_gives_the_same_site_and_another_seed_does_not() -> None:
    assert generate_site(**SMALL, seed=5) == generate_site(**SMALL, seed=5)
    assert generate_site(**SMALL, seed=5) != generate_site(**SMALL, seed=6)


def test_an_absolute_now_gives_epoch_dates() -> None:
    now = int(NOW.timestamp())
    site = generate_site(**SMALL, now=now).scenario
    assert all(isinstance(a["duedate"], int) for a in site["assignments"])
    assert max(s["timemodified"] for s in site["submissions"]) <= now


def test_more_submissions_than_pairs_is_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match="hold at most"):
        generate_site(courses=2, enrolments=10, assignments=2, submissions=100)


def _post(url: str, function: str, form: list[tuple[str, str]]) -> Any:
    data = [("wstoken", INTEGRATION_TOKEN), ("wsfunction", function)]
    reply = requests.post(url, data=[*data, ("moodlewsrestformat", "json"), *form], timeout=60)
    return reply.json()


def test_the_full_size_site_answers_its_biggest_reads_completely() -> None:
    """Speed is measured by `make bench`, not asserted here (no timed tests)."""
    site = generate_site().scenario
    with start_sandbox(now=NOW, scenario=site) as sandbox:
        url = f"{sandbox.url}/webservice/rest/server.php"
        ids = [(f"assignmentids[{i}]", str(i + 1)) for i in range(200)]
        subs = _post(url, "mod_assign_get_submissions", ids)
        users = _post(url, "core_enrol_get_enrolled_users", [("courseid", "2")])
    expected = sum(1 for s in site["submissions"] if s["assignment"] <= 200)
    assert sum(len(a["submissions"]) for a in subs["assignments"]) == expected
    assert len(users) == sum(1 for e in site["enrolments"] if e["courseid"] == 2)
