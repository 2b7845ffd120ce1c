"""`moodle-sync sandbox`: the bundled stand-in Moodle, for the demo and for trying things."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click


@click.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Loopback port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Scenario JSON (default: the bundled CETAD cohort).",
)
def sandbox(port: int, host: str, scenario: Path | None) -> None:
    """Run the sandbox Moodle until interrupted."""
    from moodle_sync.sandbox.server import serve_forever  # not loaded by other commands

    click.echo(f"sandbox Moodle on http://{host}:{port} (Ctrl-C stops it)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(port=port, scenario=scenario, host=host)
