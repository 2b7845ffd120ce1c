"""The REST request path of `webservice/rest/server.php`, in Moodle's order of checks.

1. PHP reads at most `max_input_vars` variables (the rest, maybe the token, are silently lost);
2. the token; 3. maintenance; 4. the function: installed, then in the token's service;
5. parameters, strictly; 6. the function itself. Every failure is an envelope in HTTP 200.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from moodle_sync.sandbox.errors import WsError
from moodle_sync.sandbox.functions import REGISTRY, Call, WsFunction
from moodle_sync.sandbox.model import Token
from moodle_sync.sandbox.params import decode_form, invalid, validate
from moodle_sync.sandbox.render import JSON_TYPE, XML_TYPE, json_body, xml_body, xml_error
from moodle_sync.sandbox.state import SiteState

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    function: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # extra ones, e.g. Retry-After


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering: a reset, the end of a hang, a lost answer."""


@dataclass(frozen=True)
class RestCall:
    """What a fault injector may look at before the call runs: no decoding, no validation."""

    state: SiteState
    method: str
    query: Pairs
    form: Pairs
    client: tuple[str, int] | None = None  # the caller's end of the connection
    server: tuple[str, int] | None = None  # the sandbox's end

    def value(self, name: str) -> str:
        """A plain variable as PHP would see it: the last one wins, POST over the query."""
        found = [v for k, v in [*self.query, *self.form] if k == name]
        return found[-1] if found else ""

    @property
    def function(self) -> str:
        return self.value("wsfunction")

    @property
    def token(self) -> str:
        return self.value("wstoken")

    @property
    def as_json(self) -> bool:
        return self.value("moodlewsrestformat") == "json"

    def decoded(self) -> dict[str, Any]:
        return decode_form(list(self.query)) | decode_form(list(self.form))


@runtime_checkable
class Interceptor(Protocol):
    """A fault hook that sees the call and decides whether, and how, it is answered."""

    def intercept(self, call: RestCall, proceed: Callable[[], Reply]) -> Reply | Drop: ...


def handle_rest(state: SiteState, query: Pairs, form: Pairs) -> Reply:
    """Answer one REST call from its query-string and POST variables (POST wins a clash)."""
    limit = state.site.max_input_vars
    request = decode_form(list(query)[:limit]) | decode_form(list(form)[:limit])
    as_json = request.get("moodlewsrestformat") == "json"
    function = request.get("wsfunction")
    name = function if isinstance(function, str) else ""
    try:
        result = _run(state, request)
    except WsError as err:
        if as_json:
            return Reply(200, JSON_TYPE, json_body(err.envelope(state.site.debug)), name)
        return Reply(200, XML_TYPE, xml_error(err, state.site.debug), name)
    body = json_body(result) if as_json else xml_body(result)
    return Reply(200, JSON_TYPE if as_json else XML_TYPE, body, name)


def _run(state: SiteState, request: dict[str, Any]) -> Any:
    token = _authenticate(state, request.pop("wstoken", ""))
    if state.site.maintenance and not (
        token.siteadmin or token.can("moodle/site:maintenanceaccess")
    ):
        raise WsError(
            "moodle_exception",
            "sitemaintenance",
            "The site is undergoing maintenance and is currently not available",
        )
    name = request.pop("wsfunction", None)
    if not isinstance(name, str) or not name:
        raise invalid("Missing wsfunction")
    function = _function(state, token, name)
    for key in [k for k in request if k.startswith("moodlewssetting") or k == "moodlewsrestformat"]:
        del request[key]
    params = validate(function.params, request)
    with state.lock:
        return function.handler(Call(state, token, params))


def _authenticate(state: SiteState, sent: Any) -> Token:
    token = state.tokens.get(sent) if isinstance(sent, str) else None
    if token is None:
        raise WsError("moodle_exception", "invalidtoken", "Invalid token - token not found")
    return token


def _function(state: SiteState, token: Token, name: str) -> WsFunction:
    if name not in state.installed_functions and name not in REGISTRY:
        raise WsError(
            "dml_missing_record_exception",
            "invalidrecord",
            "Can't find data record in database table external_functions.",
        )
    if name not in token.functions:
        raise WsError(
            "webservice_access_exception",
            "accessexception",
            "Access control exception",
            f"Access to the function {name}() is not allowed. There could be multiple reasons "
            "for this: 1. The service linked to the user token does not contain the function.",
        )
    if name not in REGISTRY:
        raise WsError(
            "dml_missing_record_exception",
            "invalidrecord",
            "Can't find data record in database table external_functions.",
            f"the sandbox does not implement {name}; see moodle_sync/sandbox/functions/",
        )
    return REGISTRY[name]
