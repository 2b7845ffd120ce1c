"""`moodle-sync sandbox`: the bundled stand-in Moodle, for the demo and for trying things."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import click

TOKENS_HELP = """Run the sandbox Moodle until interrupted.

\b
Tokens (the bundled scenario's; give one as MOODLE_SYNC_MOODLE__TOKEN):
  sandbox-integration-token-0000      the integration user (id 3) with every
                                      capability the service needs: use this one
  sandbox-no-capability-token-0000    a user (id 4) with only webservice/rest:use:
                                      every call is refused (nopermissions)
  sandbox-partial-service-token-0000  the integration user, but an external
                                      service missing functions (check names them)
  sandbox-no-messaging-token-0000     the integration user without
                                      moodle/site:readallmessages: messages it sent
                                      cannot be read back to settle ones in doubt
  sandbox-admin-token-0000            the site administrator (id 2): everything

The scenario's dates are offsets from --now (default: the current time), so the
same --now gives the same site at any hour.
"""


@click.command(help=TOKENS_HELP)
@click.option("--port", type=int, default=8765, show_default=True, help="Loopback port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Scenario JSON (default: the bundled CETAD cohort).",
)
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    help="The site's time at start, ISO-8601 with its offset, e.g. 2026-12-01T12:00+00:00; "
    "its clock runs on from there.",
)
def sandbox(port: int, host: str, scenario: Path | None, now: datetime | None) -> None:
    from moodle_sync.sandbox.server import serve_forever  # not loaded by other commands

    click.echo(f"sandbox Moodle on http://{host}:{port} (Ctrl-C stops it)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(port=port, scenario=scenario, host=host, now=now)
