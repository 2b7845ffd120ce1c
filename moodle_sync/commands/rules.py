"""`moodle-sync rules`: see the programme's rules at work, with no Moodle and no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

import click

from moodle_sync.commands.base import Context, emit_json, handle_errors, pass_context
from moodle_sync.cycles import collector_paused
from moodle_sync.errors import ConfigurationError, RulesInputError
from moodle_sync.rules import evaluate_document
from moodle_sync.rules.policy import load_programme
from moodle_sync.settings import load_settings


@click.group()
def rules() -> None:
    """Evaluate the programme's rules."""


@rules.command("evaluate")
@click.option(
    "--input",
    "input_file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="Participants as JSON ('-' for standard input); see docs/rules.md.",
)
@click.option(
    "--programme",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Programme definition (default: the programme_file setting).",
)
@pass_context
@handle_errors
def evaluate(ctx: Context, input_file: TextIO, programme: Path | None) -> None:
    """Read participants as JSON and write each one's outcomes, credits and status as JSON."""
    path = programme or load_settings(ctx.config).programme_file
    policy = load_programme(path)
    with collector_paused():  # a batch stage: see moodle_sync.cycles
        try:
            document = json.load(input_file)
        except json.JSONDecodeError as exc:
            raise ConfigurationError([f"{input_file.name}: not valid JSON: {exc}"]) from None
        try:
            results = evaluate_document(document, policy)
        except RulesInputError as exc:
            raise ConfigurationError([f"{input_file.name}: {p}" for p in exc.problems]) from None
    emit_json(results)
