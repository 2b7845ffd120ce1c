"""Moodle's PHP bracket form encoding, and splitting work so each request fits the variable budget.

Moodle validates strictly (booleans only ``0``/``1``, no empty arrays) and PHP's
``max_input_vars`` silently drops variables past its limit, so the reserved ``wstoken``,
``wsfunction`` and ``moodlewsrestformat`` always go first and every request is counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from moodle_sync.errors import RequestTooLargeError

__all__ = ["RESERVED_VARS", "build_form", "chunk_rows", "encode", "merge_responses"]

Form = list[tuple[str, str]]
T = TypeVar("T")

#: Variables every request carries before the function's own parameters.
RESERVED_VARS = 3


def encode(params: Mapping[str, Any] | None) -> Form:
    """Flatten nested parameters: ``{"a": [{"b": True}]}`` becomes ``[("a[0][b]", "1")]``."""
    form: Form = []
    for key, value in (params or {}).items():
        _flatten(str(key), value, form)
    return form


def _flatten(prefix: str, value: Any, form: Form) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, form)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, form)
    else:
        form.append((prefix, _scalar(prefix, value)))


def _scalar(name: str, value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int, and Moodle refuses "True"
        return "1" if value else "0"
    if isinstance(value, int | str | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"parameter {name!r}: naive datetime {value!r}; pass an aware one")
        return str(int(value.timestamp()))
    raise TypeError(f"parameter {name!r}: cannot send {type(value).__name__} {value!r} to Moodle")


def build_form(token: str, function: str, params: Mapping[str, Any] | None, budget: int) -> Form:
    """The whole POST body, reserved variables first, refused if it exceeds ``budget``."""
    form = [("wstoken", token), ("wsfunction", function), ("moodlewsrestformat", "json")]
    form.extend(encode(params))
    if len(form) > budget:
        raise RequestTooLargeError(
            f"{function}: {len(form)} form variables exceed the budget of {budget} "
            f"(moodle.max_input_vars); PHP would silently drop the rest. Split the call "
            f"into smaller batches."
        )
    return form


def chunk_rows(
    rows: Sequence[T], key: str, *, fixed: Mapping[str, Any] | None, budget: int, max_rows: int
) -> Iterator[list[T]]:
    """Yield consecutive slices of ``rows`` that fit ``budget`` variables sent under ``key``.

    ``fixed`` are the call's other parameters, counted once per request.
    """
    room = budget - RESERVED_VARS - len(encode(fixed))
    chunk: list[T] = []
    used = 0
    for row in rows:
        cost = len(encode({key: [row]}))
        if cost > room:
            raise RequestTooLargeError(
                f"one {key!r} entry needs {cost} form variables, over the {room} left in the "
                f"budget of {budget} (moodle.max_input_vars); raise the budget or shorten it."
            )
        if chunk and (used + cost > room or len(chunk) >= max_rows):
            yield chunk
            chunk, used = [], 0
        chunk.append(row)
        used += cost
    if chunk:
        yield chunk


def merge_responses(parts: Sequence[Any]) -> Any:
    """Join the answers of a chunked call: lists concatenate, dicts merge their list values."""
    if not parts:
        return []
    first = parts[0]
    if isinstance(first, list):
        return [item for part in parts for item in part]
    if isinstance(first, dict):
        merged: dict[str, Any] = {}
        for part in parts:
            for key, value in part.items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
                else:
                    merged.setdefault(key, value)
        return merged
    return first
