"""PHP bracket-form decoding and Moodle's strict external-API parameter validation.

Moodle rejects rather than sanitises: each scalar is cleaned and compared with what was sent, any
difference fails the whole call with `invalidparameter`. Extra keys, missing required keys, a
scalar where a list is expected (`x=`) and an empty element (`x[]=`) all fail the same way. The
sandbox must refuse exactly what a real site refuses, or the client would pass tests and fail live.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from moodle_sync.sandbox.errors import WsError

Presence = Literal["required", "default", "optional"]
Kind = Literal["int", "bool", "float", "raw", "text", "alpha", "alphanumext"]

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
_FLOAT = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
_TAG = re.compile(r"<[^\s<>]")


@dataclass(frozen=True)
class Scalar:
    kind: Kind
    presence: Presence = "required"
    default: Any = None


@dataclass(frozen=True)
class ListOf:
    item: Desc
    presence: Presence = "required"
    default: Any = field(default_factory=list)


@dataclass(frozen=True)
class Struct:
    fields: dict[str, Desc]
    presence: Presence = "required"
    default: Any = None


Desc = Scalar | ListOf | Struct


def invalid(debuginfo: str) -> WsError:
    """Moodle's answer to any parameter problem; the reason only shows with debugging on."""
    return WsError(
        "invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        debuginfo,
    )


def decode_form(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Nest `a[0][b]=x` pairs as PHP does; arrays stay dicts keyed by string, `[]` appends."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        base, _, rest = name.partition("[")
        keys = [base] + (_KEY_PART.findall("[" + rest) if rest else [])
        _insert(root, keys, value)
    return root


def _insert(node: dict[str, Any], keys: list[str], value: str) -> None:
    for i, key in enumerate(keys):
        if key == "":
            key = str(sum(1 for k in node if k.lstrip("-").isdigit()))
        if i == len(keys) - 1:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def validate(desc: Struct, data: Any, path: str = "") -> dict[str, Any]:
    """Validate decoded parameters against a function's description; return typed values."""
    if not isinstance(data, dict):
        raise invalid(f"{path}Only arrays accepted. The bad value is: '{data}'")
    unexpected = sorted(set(data) - set(desc.fields))
    if unexpected:
        raise invalid(
            f"{path}Unexpected keys ({', '.join(unexpected)}) detected in parameter array."
        )
    result: dict[str, Any] = {}
    for name, sub in desc.fields.items():
        if name in data:
            result[name] = _validate_any(sub, data[name], f"{path}{name} => ")
        elif sub.presence == "required":
            raise invalid(f"{path}Missing required key in single structure: {name}")
        elif sub.presence == "default":
            result[name] = _default(sub)
    return result


def _default(desc: Desc) -> Any:
    if isinstance(desc, Struct) and desc.default is None:
        return validate(desc, {})
    return list(desc.default) if isinstance(desc.default, list) else desc.default


def _validate_any(desc: Desc, data: Any, path: str) -> Any:
    if isinstance(desc, Struct):
        return validate(desc, data, path)
    if isinstance(desc, ListOf):
        if not isinstance(data, dict):
            raise invalid(f"{path}Only arrays accepted. The bad value is: '{data}'")
        return [_validate_any(desc.item, item, path) for item in data.values()]
    if not isinstance(data, str):
        raise invalid(f"{path}Scalar type expected, array or object received.")
    return _clean(desc.kind, data, path)


def _clean(kind: Kind, value: str, path: str) -> Any:
    check = _CHECKS[kind]
    if not check(value):
        raise invalid(f'{path}Invalid external api parameter: the value is "{value}"')
    return _CONVERT.get(kind, str)(value)


_CHECKS: dict[Kind, Callable[[str], bool]] = {
    "int": lambda v: re.fullmatch(r"-?\d+", v) is not None and str(int(v)) == v,
    "bool": lambda v: v in ("0", "1"),
    "float": lambda v: _FLOAT.fullmatch(v) is not None,
    "raw": lambda v: True,
    "text": lambda v: _TAG.search(v) is None,
    "alpha": lambda v: re.fullmatch(r"[A-Za-z]*", v) is not None,
    "alphanumext": lambda v: re.fullmatch(r"[A-Za-z0-9_-]*", v) is not None,
}

_CONVERT: dict[Kind, Callable[[str], Any]] = {
    "int": int,
    "bool": lambda v: v == "1",
    "float": float,
}


def ids(presence: Presence = "required") -> ListOf:
    """The common `xids[]` list of integer ids."""
    return ListOf(Scalar("int"), presence)
