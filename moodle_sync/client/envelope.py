"""Turn one HTTP answer into data or a typed error.

Moodle reports errors with HTTP 200 and a JSON object carrying ``exception``/``errorcode``, so
the body is classified by shape first and the status second (trap 1 in the Moodle notes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from moodle_sync.client.registry import FUNCTIONS
from moodle_sync.errors import (
    FatalError,
    InDoubtError,
    MoodleError,
    NotMoodleError,
    RetriableError,
    SkippableError,
    UnexpectedAnswerError,
)

__all__ = [
    "RETRIABLE_CODES",
    "SKIPPABLE_CODES",
    "Listing",
    "answer_digest",
    "check_response",
    "error_from_envelope",
    "reading_answer",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: ``dmlwriteexception``: found on a real site (tests/live): a new integration user's first
#: concurrent calls race to insert the same user preference (``last_time_enrolments_synced``),
#: and all but one fail; the next attempt succeeds. Reads are retried, writes never are.
RETRIABLE_CODES = frozenset(
    {
        "sitemaintenance",
        "upgraderunning",
        "dbconnectionfailed",
        "sessionwaiterr",
        "dmltransactionexception",
        "dmlwriteexception",
    }
)
#: One item missing or not accessible. ``invalidrecord`` also answers an unknown function, but
#: ``moodle-sync check`` catches those before a run, so inside a run it means a missing item.
SKIPPABLE_CODES = frozenset(
    {
        "invalidrecord",
        "invalidrecordunknown",
        "errorcoursecontextnotvalid",
        "requireloginerror",
        "usernotincourse",
        "invalidcourseid",
        "invaliduser",
        "invalidcoursemodule",
        "invaliduserid",
        "usernotenroled",
        "notenroled",
        "userisfilteredout",
        "notingroup",
    }
)
_HINTS = {
    "invalidtoken": "check MOODLE_SYNC_MOODLE__TOKEN (or moodle.token_file) and that the token "
    "still exists under Site administration > Server > Web services > Manage tokens",
    "accessexception": "add the function to the external service, and check the token has not "
    "expired or been IP-restricted (docs/admin-guide.md)",
    "nopermissions": "grant the capability named in Moodle's message to the integration user's "
    "system role (docs/admin-guide.md)",
    "invalidparameter": "moodle-sync sent a parameter this Moodle refuses; turn on developer "
    "debugging to see Moodle's debuginfo in our debug log, and report it",
    "sitemaintenance": "the site is in maintenance mode; the run will retry, or rerun later",
    "upgraderunning": "Moodle is being upgraded; rerun when it finishes",
}
_HINTS["nopermission"] = _HINTS["required_capability_exception"] = _HINTS["nopermissions"]
_XML_ERRORCODE = re.compile(r"<EXCEPTION[^>]*>.*?<ERRORCODE>([^<]*)</ERRORCODE>", re.S)


def error_from_envelope(
    function: str, envelope: Mapping[str, Any], http_status: int | None, *, note: str = ""
) -> MoodleError:
    """Build the typed error for Moodle's ``{"exception", "errorcode", "message"}`` object."""
    exception = str(envelope.get("exception") or "")
    code = str(envelope.get("errorcode") or exception.rsplit("\\", 1)[-1] or "unknown")
    moodle_message = str(envelope.get("message") or "")
    if envelope.get("debuginfo"):
        log.debug("%s debuginfo for %s: %s", code, function, envelope["debuginfo"])
    cls = _class_for(code, exception)
    hint = _HINTS.get(code) or _HINTS.get(exception.rsplit("\\", 1)[-1]) or _default_hint(cls)
    if hint is _HINTS["nopermissions"]:
        hint = _capability_hint(function)
    text = (
        f"Moodle refused {function} (errorcode {code!r}): {moodle_message!r}{note}. Next: {hint}."
    )
    return cls(
        text,
        function=function,
        errorcode=code,
        http_status=http_status,
        moodle_message=moodle_message,
    )


def _capability_hint(function: str) -> str:
    """Moodle's message names a capability by its display name only; name the ids we need."""
    spec = next((s for s in FUNCTIONS if s.name == function), None)
    if spec is None or not spec.capabilities:
        return _HINTS["nopermissions"]
    needed = ", ".join([*spec.capabilities, *(c.name for c in spec.silent)])
    return (f"the integration user's system role must allow what {function} needs: {needed} "
            "(docs/admin-guide.md)")  # fmt: skip


def _class_for(code: str, exception: str) -> type[MoodleError]:
    if code in RETRIABLE_CODES:
        return RetriableError
    if code in SKIPPABLE_CODES:
        return SkippableError
    return FatalError  # unknown codes stop the run rather than being silently skipped


def _default_hint(cls: type[MoodleError]) -> str:
    if cls is SkippableError:
        return "this item is skipped; check it exists and the integration user can see it"
    if cls is RetriableError:
        return "temporary; the call is retried with backoff"
    return "an administrator must fix the cause before the next run (docs/admin-guide.md)"


def check_response(function: str, status: int, headers: Mapping[str, str], text: str) -> Any:
    """Return the parsed JSON of a successful call, or raise the matching ``MoodleError``."""
    data = _parse_json(text)
    if isinstance(data, dict) and "exception" in data:
        raise error_from_envelope(function, data, status)
    if status == 429 or status >= 500:
        raise _http_retriable(function, status, headers, text)
    if 300 <= status < 400:
        raise NotMoodleError(
            f"{function}: the endpoint redirected (HTTP {status}) to "
            f"{headers.get('Location', '?')!r}; set moodle.url to the site's real address "
            f"(often https:// instead of http://).",
            function=function,
            http_status=status,
        )
    if status == 403 and not text.strip():
        raise FatalError(
            f"{function}: HTTP 403 with an empty body: web services or the REST protocol are "
            "disabled on this site; enable both (docs/admin-guide.md).",
            function=function,
            http_status=status,
        )
    if status >= 400 or data is _NOT_JSON:
        raise _not_json(function, status, text)
    return data


_NOT_JSON: Any = object()


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _http_retriable(
    function: str, status: int, headers: Mapping[str, str], text: str
) -> RetriableError:
    maintenance = status == 503 and "maintenance" in text[:2000].lower()
    what = "the site is in maintenance (CLI)" if maintenance else f"HTTP {status}"
    return RetriableError(
        f"{function}: {what}; temporary, retried with backoff. If it persists, check the site "
        f"and its proxy. Body starts: {text[:120]!r}",
        function=function,
        errorcode="climaintenance" if maintenance else f"http{status}",
        http_status=status,
        retry_after=_retry_after(headers),
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _not_json(function: str, status: int, text: str) -> MoodleError:
    xml_code = _XML_ERRORCODE.search(text)
    if xml_code:  # only when moodlewsrestformat was lost, e.g. dropped by max_input_vars
        return error_from_envelope(
            function,
            {"errorcode": xml_code.group(1)},
            status,
            note=" (answered in XML: our first form variables were dropped, check the site's "
            "max_input_vars and lower moodle.max_input_vars)",
        )
    return NotMoodleError(
        f"{function}: this URL does not answer like a Moodle web-service endpoint "
        f"(HTTP {status}, body starts {text[:200]!r}); check moodle.url points at the site root "
        "and that web services and the REST protocol are enabled.",
        function=function,
        http_status=status,
    )


@contextmanager
def reading_answer(function: str, *, write: bool = False) -> Iterator[None]:
    """Read ``function``'s answer into typed records inside this block.

    An answer not in the expected shape (pydantic's ``ValidationError``, or a key, index or
    type missing from the envelope) becomes ``UnexpectedAnswerError`` naming the function and
    where in the answer; for a ``write`` (it was sent, its outcome is now unknown) it becomes
    ``InDoubtError``, so it is settled, never resent blindly.
    """
    try:
        yield
    except ValidationError as exc:
        raise _unexpected(function, _where(exc), write) from None
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        detail = f"missing key {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise _unexpected(function, detail, write) from None


def _where(exc: ValidationError) -> str:
    """'Course.fullname: Input should be a valid string (got None)', for the first three."""
    errors = exc.errors(include_url=False)
    shown = []
    for error in errors[:3]:
        where = ".".join([exc.title, *(str(part) for part in error["loc"])])
        got = "" if error["type"] == "missing" else f" (got {repr(error.get('input'))[:60]})"
        shown.append(f"{where}: {error['msg']}{got}")
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    return "; ".join(shown) + more


def _unexpected(function: str, detail: str, write: bool) -> MoodleError:
    if write:
        return InDoubtError(
            f"{function}: the write was sent but its answer is not in the shape moodle-sync "
            f"expects ({detail}); its outcome is unknown and it is not resent. Check Moodle "
            "before retrying, and report this message.",
            function=function,
            errorcode="unexpectedanswer",
        )
    return UnexpectedAnswerError(
        f"{function}: Moodle's answer is not in the shape moodle-sync expects ({detail}); "
        "nothing of it was used. Next: check the site's Moodle version and plugins against "
        "docs/admin-guide.md, and report this message.",
        function=function,
        errorcode="unexpectedanswer",
    )


@dataclass(frozen=True)
class Listing(Generic[T]):
    """A list from an answer, with the digest of the answer it came from. `items` is None when
    the digest is the one the caller said it holds: the same answer is not read again."""

    digest: str
    count: int  # how many items the answer lists
    items: list[T] | None


def answer_digest(raw: Any, salt: str = "") -> str:
    """sha256 of an answer as decoded (keys in Moodle's order), and of how it is read (`salt`):
    equal digests, equal answers."""
    text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{salt}\n{text}".encode()).hexdigest()
