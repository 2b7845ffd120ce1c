"""The exception a web-service handler raises to answer with Moodle's error envelope."""

from __future__ import annotations


class WsError(Exception):
    """One Moodle error: `exception` class, `errorcode`, localised `message`, hidden `debuginfo`.

    Real Moodle sends these with HTTP 200; the server turns this into that envelope (JSON or XML).
    """

    def __init__(self, exception: str, errorcode: str, message: str, debuginfo: str = "") -> None:
        super().__init__(f"{errorcode}: {message}")
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo

    def envelope(self, debug: bool = False) -> dict[str, str]:
        """The JSON body; `debuginfo` only when the site has developer debugging on."""
        body = {"exception": self.exception, "errorcode": self.errorcode, "message": self.message}
        if debug and self.debuginfo:
            body["debuginfo"] = self.debuginfo
        return body


def invalid_record(table: str) -> WsError:
    """A missing row, as Moodle's DML layer reports it."""
    return WsError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
    )


def no_permissions(capability_name: str, capability: str) -> WsError:
    """`require_capability` failing."""
    return WsError(
        "required_capability_exception",
        "nopermissions",
        f"Sorry, but you do not currently have permissions to do that ({capability_name}).",
        capability,
    )
