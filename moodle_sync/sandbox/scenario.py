"""Load a sandbox scenario (JSON) into a live `SiteState`.

Dates in a scenario are offsets from the `now` the sandbox is started with, so the demo always
has upcoming and overdue work:

    "+7d"        seven days after now          "-9d5h9m39s"   that long before now
    "+0s"        now                            null           not set (Moodle's 0)

An offset is a sign followed by any of `<n>d`, `<n>h`, `<n>m`, `<n>s`, in that order. A bare
integer is an absolute epoch timestamp. The default scenario is `scenarios/cetad.json`; a
scenario may also be given already parsed, as a dict (generate.py builds large ones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from moodle_sync.sandbox import model
from moodle_sync.sandbox.state import SiteState

DEFAULT_SCENARIO = "cetad.json"
_OFFSET = re.compile(r"([+-])(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_UNITS = (86400, 3600, 60, 1)

RelDate = str | int | None
ScenarioSource = Path | Mapping[str, Any] | None


def resolve(value: RelDate, now: int) -> int:
    """Turn a scenario date into epoch seconds; None stays Moodle's "not set" 0."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    match = _OFFSET.fullmatch(value)
    if match is None or not any(match.groups()[1:]):
        raise ValueError(
            f"bad scenario date {value!r}: write an offset such as '+7d', '-2d3h' or '+0s'"
        )
    seconds = sum(int(n or 0) * unit for n, unit in zip(match.groups()[1:], _UNITS, strict=True))
    return now + seconds if match.group(1) == "+" else now - seconds


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioToken(_Row):
    token: str
    userid: int
    service: str
    capabilities: list[str]
    siteadmin: bool = False


class Scenario(_Row):
    """The file's shape; rows stay plain dicts until their dates are resolved."""

    description: str = ""
    site: dict[str, Any]
    profile_fields: list[dict[str, str]]
    categories: list[dict[str, Any]]
    courses: list[dict[str, Any]]
    users: list[dict[str, Any]]
    enrolments: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    submissions: list[dict[str, Any]]
    grades: list[dict[str, Any]]
    userflags: list[dict[str, Any]]
    overrides: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []  # {id, courseid, name, members, groupings}
    services: dict[str, list[str]]
    installed_functions: list[str] = []
    tokens: list[ScenarioToken]


def read_scenario(path: ScenarioSource = None) -> Scenario:
    """Parse a scenario file or dict (the bundled CETAD cohort when none is given)."""
    if isinstance(path, Mapping):
        return Scenario.model_validate(path)
    if path is None:
        text = resources.files("moodle_sync.sandbox").joinpath("scenarios", DEFAULT_SCENARIO)
        return Scenario.model_validate_json(text.read_text(encoding="utf-8"))
    return Scenario.model_validate_json(path.read_text(encoding="utf-8"))


def load_scenario(path: ScenarioSource = None, now: datetime | None = None) -> SiteState:
    """Build a fresh site from a scenario, with every relative date resolved against `now`."""
    sc = read_scenario(path)
    exact = (now or datetime.now(UTC)).timestamp()
    at = int(exact)

    def dated(row: dict[str, Any], *keys: str) -> dict[str, Any]:
        return row | {k: resolve(row.get(k), at) for k in keys if k in row}

    functions = {fn for names in sc.services.values() for fn in names}
    state = SiteState(
        site=model.Site(**sc.site),
        now=at,
        profile_fields={f["shortname"]: (f["name"], f["type"]) for f in sc.profile_fields},
        categories={c["id"]: c["name"] for c in sc.categories},
        courses={
            c["id"]: model.Course(**dated(c, "startdate", "enddate"), timecreated=at)
            for c in sc.courses
        },
        users={u["id"]: model.User(**u) for u in sc.users},
        enrolments=[model.Enrolment(**e) for e in sc.enrolments],
        assignments={
            a["id"]: model.Assignment(**_assignment_dates(a, at), timemodified=at)
            for a in sc.assignments
        },
        submissions=[_submission(s, at) for s in sc.submissions],
        grades=[_grade(g, at) for g in sc.grades],
        userflags=[model.UserFlag(**dated(f, "extensionduedate")) for f in sc.userflags],
        overrides=[
            model.Override(**dated(o, "duedate", "cutoffdate", "allowsubmissionsfromdate"))
            for o in sc.overrides
        ],
        tokens={t.token: _token(t, sc.services) for t in sc.tokens},
        groups={g["id"]: model.Group(**g) for g in sc.groups},
        installed_functions=functions | set(sc.installed_functions),
    )
    state.set_clock(exact)  # the clock runs from the exact moment, like Moodle's time()
    return state


def _assignment_dates(row: dict[str, Any], at: int) -> dict[str, Any]:
    keys = ("allowsubmissionsfromdate", "duedate", "cutoffdate", "gradingduedate")
    return row | {k: resolve(row.get(k), at) for k in keys}


def _submission(row: dict[str, Any], at: int) -> model.Submission:
    fields = {k: v for k, v in row.items() if k != "timemodified"}
    when = resolve(row.get("timemodified", "+0s"), at)
    return model.Submission(**fields, timecreated=when, timemodified=when)


def _grade(row: dict[str, Any], at: int) -> model.Grade:
    fields = {k: v for k, v in row.items() if k != "timemodified"}
    when = resolve(row.get("timemodified", "+0s"), at)
    return model.Grade(**fields, timecreated=when, timemodified=when)


def _token(tok: ScenarioToken, services: dict[str, list[str]]) -> model.Token:
    if tok.service not in services:
        raise ValueError(
            f"token for user {tok.userid} names service {tok.service!r}, which the scenario "
            f"does not define; define it under 'services' (known: {sorted(services)})"
        )
    return model.Token(
        token=tok.token,
        userid=tok.userid,
        service=tok.service,
        functions=list(services[tok.service]),
        capabilities=frozenset(tok.capabilities),
        siteadmin=tok.siteadmin,
    )
