"""Reading a well-formed participant in one pass: the hot path of `inputs.py`.

Nearly every participant of a document is well-formed. `quick_participant` reads those without
the field-by-field bookkeeping that locating problems needs, and returns None at the first
unusual thing (a wrong type, an unknown key, a number out of range, a subclass of a JSON type);
`inputs.py` then reads that participant field by field and explains every problem. It is never
more lenient than the careful reader: tests/rules/test_quick_read.py checks that they agree.

The value rules both readers share (keys, times, numbers) live here, once.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any, get_args

from moodle_sync.rules.facts import (
    Assessment,
    ModuleRecord,
    Participant,
    ParticipantStatus,
    SubmissionStatus,
)
from moodle_sync.rules.policy import Programme

PARTICIPANT_STATUSES: tuple[str, ...] = get_args(ParticipantStatus)
SUBMISSION_STATUSES: tuple[str, ...] = get_args(SubmissionStatus)
PARTICIPANT_KEYS = frozenset(
    {"id", "name", "target_award", "prior_learning_credits", "status", "modules"}
)
MODULE_KEYS = frozenset({"module", "assessments", "enrolled"})
ASSESSMENT_KEYS = frozenset(
    {
        "id",
        "name",
        "due",
        "extension",
        "cutoff",
        "submitted_at",
        "submission_status",
        "grade",
        "released",
        "resit",
        "weight",
    }
)
_ID_TYPES = (int, str)


def utc_time(value: object) -> dt.datetime | None:
    """ISO-8601 text with an offset as a UTC instant; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def is_number(value: object) -> bool:
    """A finite JSON number; true and false are not numbers (bool is an int in Python)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def to_decimal(value: int | float) -> Decimal:
    """Exactly the number as written: 62.25 stays 62.25, not the binary float's expansion."""
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


class _Unusual(Exception):
    """Something the careful reader must explain (raised and caught inside this module only)."""


def quick_participant(value: Any, programme: Programme) -> Participant | None:
    """The participant when everything in it is plainly valid; None when something is not."""
    try:
        return _participant(value, programme)
    except _Unusual:
        return None


def _participant(value: Any, programme: Programme) -> Participant:
    get = _fields(value, PARTICIPANT_KEYS)
    ident, name, target = get("id"), _name(get("name")), get("target_award")
    prior, status = get("prior_learning_credits"), get("status")
    if (
        type(ident) not in _ID_TYPES
        or (target is not None and (type(target) is not str or target not in programme.awards))
        or (prior is not None and (type(prior) is not int or prior < 0))
        or (prior and programme.prior_module is None)
        or (status is not None and status not in PARTICIPANT_STATUSES)
    ):
        raise _Unusual
    modules = tuple([_module(m, programme) for m in _list(get("modules"))])
    if len({m.module for m in modules}) < len(modules):
        raise _Unusual
    return Participant(ident, name, modules, target, prior, status or "active")


def _module(value: Any, programme: Programme) -> ModuleRecord:
    get = _fields(value, MODULE_KEYS)
    code, enrolled = get("module"), get("enrolled")
    if type(code) is not str or code not in programme.modules:
        raise _Unusual
    if enrolled is not None and type(enrolled) is not bool:
        raise _Unusual
    work = tuple([_assessment(a, programme) for a in _list(get("assessments"))])
    return ModuleRecord(code, work, enrolled is not False)


def _assessment(value: Any, programme: Programme) -> Assessment:
    get = _fields(value, ASSESSMENT_KEYS)
    ident, name, status = get("id"), _name(get("name")), get("submission_status")
    released, resit = get("released"), get("resit")
    if (
        type(ident) not in _ID_TYPES
        or (status is not None and status not in SUBMISSION_STATUSES)
        or (released is not None and type(released) is not bool)
        or (resit is not None and type(resit) is not bool)
    ):
        raise _Unusual
    due, extension, cutoff = _time(get("due")), _time(get("extension")), _time(get("cutoff"))
    submitted_at = _time(get("submitted_at"))
    grade, weight = _number(get("grade"), 100), _number(get("weight"), None)
    released = True if released is None else released
    resit = bool(programme.resit_regex.search(name)) if resit is None else resit
    # Positional, in the fields' order: three times cheaper than keywords for a dataclass.
    return Assessment(
        ident, name, due, extension, cutoff, submitted_at, status, grade, released, resit, weight
    )


def _fields(value: Any, keys: frozenset[str]) -> Any:
    """The object's `get`, when it is a plain JSON object with only the expected keys."""
    if type(value) is not dict or not keys.issuperset(value):
        raise _Unusual
    return value.get


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise _Unusual
    return value


def _name(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise _Unusual
    return value


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    moment = utc_time(value)
    if moment is None:
        raise _Unusual
    return moment


def _number(value: Any, high: int | None) -> Decimal | None:
    """An int or float (not a subclass), finite, at least 0 and at most `high`, as a Decimal."""
    if value is None:
        return None
    plain = type(value) is int or (type(value) is float and math.isfinite(value))
    if not plain or value < 0 or (high is not None and value > high):
        raise _Unusual
    return to_decimal(value)
