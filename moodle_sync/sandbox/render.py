"""Response bodies as Moodle's REST server writes them: PHP-style JSON, or its XML dialect."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from moodle_sync.sandbox.errors import WsError

JSON_TYPE = "application/json"
XML_TYPE = "application/xml; charset=utf-8"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n'


def json_body(value: Any) -> bytes:
    """PHP `json_encode`: compact, ASCII-only, slashes escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def _xml_value(value: Any) -> str:
    if isinstance(value, dict):
        keys = "".join(
            f"<KEY name={quoteattr(k)}>{_xml_value(v)}</KEY>\n" for k, v in value.items()
        )
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_xml_value(v) for v in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        return f"<VALUE>{int(value)}</VALUE>\n"
    return f"<VALUE>{escape(str(value))}</VALUE>\n"


def xml_body(value: Any) -> bytes:
    """The REST server's XML; booleans become 1/0 and null a `null` attribute."""
    return (_XML_HEAD + "<RESPONSE>\n" + _xml_value(value) + "</RESPONSE>\n").encode()


def xml_error(error: WsError, debug: bool = False) -> bytes:
    info = (
        f"<DEBUGINFO>{escape(error.debuginfo)}</DEBUGINFO>\n" if debug and error.debuginfo else ""
    )
    return (
        f"{_XML_HEAD}<EXCEPTION class={quoteattr(error.exception)}>\n"
        f"<ERRORCODE>{escape(error.errorcode)}</ERRORCODE>\n"
        f"<MESSAGE>{escape(error.message)}</MESSAGE>\n{info}</EXCEPTION>\n"
    ).encode()
