"""Reading the `rules evaluate` input document into facts, reporting every problem at once.

Each problem names its location the way a reader finds it in the JSON
(`participants[3].modules[0].assessments[1].due`), says what is wrong and shows the value.
Unknown keys are errors: a misspelt "extension" must not silently mean "no extension".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from moodle_sync.errors import RulesInputError
from moodle_sync.rules.facts import (
    Assessment,
    ModuleRecord,
    Participant,
)
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.quick_read import (
    ASSESSMENT_KEYS,
    MODULE_KEYS,
    PARTICIPANT_KEYS,
    PARTICIPANT_STATUSES,
    SUBMISSION_STATUSES,
    is_number,
    quick_participant,
    to_decimal,
    utc_time,
)

_DOCUMENT_KEYS = frozenset({"now", "participants"})


class _Reader:
    """Collects problems while reading, so that one run reports them all.

    Field readers take the parent object, its location and the key, and build the location
    text only on failure: reading 50,000 assessments should cost little more than the JSON.
    """

    def __init__(self, programme: Programme) -> None:
        self.programme = programme
        self.problems: list[str] = []

    def fail(self, loc: str, key: str | None, message: str) -> None:
        where = f"{loc}.{key}" if loc and key else (key or loc)
        self.problems.append(f"{where}: {message}")

    def obj(self, value: Any, loc: str, keys: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(loc, None, f"must be a JSON object, got {value!r:.60}")
            return {}
        if keys.issuperset(value):
            return value
        for key in sorted(value.keys() - keys):
            self.fail(loc, key, f"unknown key; expected one of {', '.join(sorted(keys))}")
        return value

    def items(self, parent: dict[str, Any], loc: str, key: str) -> list[Any]:
        value = parent.get(key)
        if value is None or isinstance(value, list):
            return value or []
        self.fail(loc, key, f"must be a JSON array, got {value!r:.60}")
        return []

    def time(self, parent: dict[str, Any], loc: str, key: str) -> dt.datetime | None:
        value = parent.get(key)
        if value is None:
            return None
        parsed = utc_time(value)
        if parsed is None:
            self.fail(loc, key, f"not an ISO-8601 time with an offset: {value!r}")
        return parsed

    def number(
        self, parent: dict[str, Any], loc: str, key: str, low: int, high: int | None = None
    ) -> Decimal | None:
        value = parent.get(key)
        if value is None:
            return None
        if not is_number(value):
            self.fail(loc, key, f"must be a number, got {value!r}")
            return None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.fail(loc, key, f"must be {bounds}, got {value!r}")
        return to_decimal(value)

    def choice(self, parent: dict[str, Any], loc: str, key: str, allowed: tuple[str, ...]) -> Any:
        value = parent.get(key)
        if value is not None and value not in allowed:
            self.fail(loc, key, f"must be one of {', '.join(allowed)} (or null), got {value!r}")
            return None
        return value

    def flag(self, parent: dict[str, Any], loc: str, key: str, default: bool) -> bool:
        value = parent.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(loc, key, f"must be true or false, got {value!r}")
            return default
        return value

    def ident(self, parent: dict[str, Any], loc: str) -> str | int:
        value = parent.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
        self.fail(loc, "id", f"required: a string or a whole number, got {value!r}")
        return ""

    def text(self, parent: dict[str, Any], loc: str, key: str) -> str:
        value = parent.get(key)
        if value is None or isinstance(value, str):
            return value or ""
        self.fail(loc, key, f"must be a string, got {value!r}")
        return ""


def read_document(doc: Any, programme: Programme) -> tuple[dt.datetime, list[Participant]]:
    """The evaluation time and the participants, or RulesInputError listing every problem."""
    r = _Reader(programme)
    now, raw = _top(r, doc)
    participants = [_participant(r, p, i) for i, p in enumerate(raw)]
    if r.problems or now is None:
        raise RulesInputError(r.problems)
    return now, participants


def stream_document(doc: Any, programme: Programme) -> Iterator[tuple[dt.datetime, Participant]]:
    """`read_document` one participant at a time: (now, participant) while the document is
    valid so far, then RulesInputError listing every problem, if there were any.

    A caller that finishes with each participant before asking for the next keeps no records
    alive for long: 10,000 participants then cost the garbage collector little.
    """
    r = _Reader(programme)
    now, raw = _top(r, doc)
    for i, value in enumerate(raw):
        participant = _participant(r, value, i)
        if now is not None and not r.problems:
            yield now, participant
    if r.problems or now is None:
        raise RulesInputError(r.problems)


def _top(r: _Reader, doc: Any) -> tuple[dt.datetime | None, list[Any]]:
    top = r.obj(doc, "input", _DOCUMENT_KEYS)
    if isinstance(doc, dict) and top.get("now") is None:
        r.fail("now", None, "required: the evaluation time, ISO-8601 with an offset")
    return r.time(top, "", "now"), r.items(top, "", "participants")


def _participant(r: _Reader, value: Any, index: int) -> Participant:
    """Quickly when plainly valid, else field by field, locating every problem."""
    quick = quick_participant(value, r.programme)
    return quick if quick is not None else _explained(r, value, f"participants[{index}]")


def _explained(r: _Reader, value: Any, loc: str) -> Participant:
    p = r.obj(value, loc, PARTICIPANT_KEYS)
    programme = r.programme
    target = p.get("target_award")
    if target is not None and (not isinstance(target, str) or target not in programme.awards):
        known = ", ".join(programme.awards)
        r.fail(loc, "target_award", f"no award {target!r}; use one of {known}")
        target = None
    prior = r.number(p, loc, "prior_learning_credits", 0)
    if prior is not None and prior != int(prior):
        r.fail(loc, "prior_learning_credits", f"must be a whole number, got {prior}")
    if prior and programme.prior_module is None:
        r.fail(loc, "prior_learning_credits", "the programme has no prior-learning module")
    raw = r.items(p, loc, "modules")
    modules = [_module(r, m, f"{loc}.modules[{i}]") for i, m in enumerate(raw)]
    _no_module_twice(r, loc, [m.module for m in modules])
    return Participant(
        id=r.ident(p, loc),
        name=r.text(p, loc, "name"),
        modules=tuple(modules),
        target_award=target,
        prior_learning_credits=None if prior is None else int(prior),
        status=r.choice(p, loc, "status", PARTICIPANT_STATUSES) or "active",
    )


def _no_module_twice(r: _Reader, loc: str, codes: list[str]) -> None:
    if len(set(codes)) < len(codes):
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            message = f"module {code!r} is listed twice; list its assessments together"
            r.fail(loc, "modules", message)


def _module(r: _Reader, value: Any, loc: str) -> ModuleRecord:
    m = r.obj(value, loc, MODULE_KEYS)
    code = m.get("module")
    if not isinstance(code, str) or code not in r.programme.modules:
        known = ", ".join(r.programme.modules)
        r.fail(loc, "module", f"no module {code!r} in the programme; use one of {known}")
    raw = r.items(m, loc, "assessments")
    assessments = tuple(_assessment(r, a, f"{loc}.assessments[{i}]") for i, a in enumerate(raw))
    return ModuleRecord(str(code), assessments, r.flag(m, loc, "enrolled", True))


def _assessment(r: _Reader, value: Any, loc: str) -> Assessment:
    """Field by field, so that every problem is reported with its location."""
    a = r.obj(value, loc, ASSESSMENT_KEYS)
    name = r.text(a, loc, "name")
    resit = a.get("resit")
    return Assessment(
        id=r.ident(a, loc),
        name=name,
        due=r.time(a, loc, "due"),
        extension=r.time(a, loc, "extension"),
        cutoff=r.time(a, loc, "cutoff"),
        submitted_at=r.time(a, loc, "submitted_at"),
        submission_status=r.choice(a, loc, "submission_status", SUBMISSION_STATUSES),
        grade=r.number(a, loc, "grade", 0, 100),
        released=r.flag(a, loc, "released", True),
        resit=r.flag(a, loc, "resit", False)
        if resit is not None
        else bool(r.programme.resit_regex.search(name)),
        weight=r.number(a, loc, "weight", 0),
    )
