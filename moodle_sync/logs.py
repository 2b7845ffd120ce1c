"""Logging set-up with a last line of defence for secrets, and the run id on every line.

The client already redacts the token where it logs; this filter also scrubs any record that
reaches a handler, and the formatters scrub the finished line (tracebacks included), so a
careless `log.debug(url)` anywhere cannot leak a credential. Besides the known secrets, any
`wstoken=` value and any `userprivateaccesskey` value are redacted by pattern, because
those are credentials whoever's they are.

One line per event: text for a terminal, or JSON objects (`--log-format json`) for a log
collector. Each carries the id of the sync run in progress (`set_run_id`), or none.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

REDACTED = "[REDACTED]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(run_tag)s: %(message)s"
_PATTERNS = (
    re.compile(r"(wstoken=)[^&\s\"']+"),
    re.compile(r"(userprivateaccesskey[\"']?\s*[:=]\s*[\"']?)[^&\s\"',}]+", re.IGNORECASE),
)
_run_id: ContextVar[int | None] = ContextVar("moodle_sync_run_id", default=None)
# The client's thread pool does not inherit context variables; one pipeline runs per process
# (the pipeline lock), so the latest run id set anywhere is the right fallback there.
_process_run_id: list[int | None] = [None]


def set_run_id(run_id: int | None) -> None:
    """Tag every later log line of this context (and of threads it starts) with the run id."""
    _run_id.set(run_id)
    _process_run_id[0] = run_id


def current_run_id() -> int | None:
    run_id = _run_id.get()
    return _process_run_id[0] if run_id is None else run_id


class SecretFilter(logging.Filter):
    """Replace each known secret and each credential pattern with a marker; add the run id."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def add(self, secret: str) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(rf"\g<1>{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        run_id = current_run_id()
        record.run_id = run_id
        record.run_tag = "" if run_id is None else f" [run {run_id}]"
        return True


class TextFormatter(logging.Formatter):
    """The human-readable line, scrubbed once more after the traceback is added."""

    def __init__(self, secrets: SecretFilter) -> None:
        super().__init__(TEXT_FORMAT)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "run_id"):
            record.run_id = current_run_id()
        return self.secrets.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, run id, message (and any traceback)."""

    def __init__(self, secrets: SecretFilter) -> None:
        super().__init__()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "run_id": getattr(record, "run_id", current_run_id()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return self.secrets.redact(json.dumps(event, default=str))


def configure_logging(
    level: str, secrets: Iterable[str] = (), log_format: str = "text"
) -> SecretFilter:
    """Log to stderr (stdout is for results) through the secret filter."""
    secret_filter = SecretFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    handler.setFormatter(formatter(secret_filter))
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces its migration context and (1.16 on) each of its plugins at INFO on
    # every migration; that is noise at INFO (`moodle-sync db upgrade` reports schema changes
    # itself).
    quiet = "DEBUG" if level == "DEBUG" else "WARNING"
    logging.getLogger("alembic.runtime").setLevel(quiet)
    # APScheduler logs every job added, started and finished at INFO; the worker logs its
    # own runs, so only its warnings and errors (a missed run, a crashed job) come through.
    logging.getLogger("apscheduler").setLevel(quiet)
    return secret_filter
