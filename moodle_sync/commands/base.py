"""What every command shares: loading settings once, and errors turned into exit codes.

Expected failures print one clear message per problem and no traceback (run with
`--log-level DEBUG` to see one).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from moodle_sync.errors import (
    ConfigurationError,
    LockHeldError,
    MoodleSyncError,
    ProgrammeError,
    SafetyValveError,
)
from moodle_sync.exit_codes import ExitCode
from moodle_sync.logs import configure_logging
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.settings import Settings, load_settings

log = logging.getLogger("moodle_sync")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Context:
    """Global options, and the settings loaded from them on first use."""

    config: Path | None
    log_level: str | None
    log_format: str | None = None

    def settings(self) -> Settings:
        settings = load_settings(self.config)
        secrets = [settings.moodle.secret_token().get_secret_value()] if settings.moodle else []
        log_format = self.log_format or settings.log_format
        configure_logging(self.log_level or settings.log_level, secrets, log_format)
        return settings

    def programme(self, settings: Settings, override: Path | None = None) -> Programme:
        return load_programme(override or settings.programme_file)


pass_context = click.make_pass_decorator(Context)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can fix into messages and exit codes, not tracebacks."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigurationError, ProgrammeError) as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(ExitCode.BAD_CONFIGURATION)
        except SafetyValveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(ExitCode.SAFETY_VALVE)
        except LockHeldError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(ExitCode.LOCKED)
        except MoodleSyncError as exc:
            log.debug("command failed", exc_info=True)
            click.echo(f"error: {exc}", err=True)
            sys.exit(ExitCode.FAILURE)

    return wrapper


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


ISO_8601 = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])


def now_option(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`--now`: the same name, format and help on every command that evaluates the rules."""
    return click.option(
        "--now",
        type=ISO_8601,
        help=f"{what} as if it were this time (ISO-8601 with an offset, e.g. "
        "2026-12-01T10:00+00:00); default: now.",
    )


def json_option(what: str = "the result") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`--json`: the same flag on every command that prints a result."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")
