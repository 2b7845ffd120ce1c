"""The layers' direction (docs/architecture.md): each package imports only what lies below it.

client (Moodle) and store (the database) know no layer above them; rules are pure (no I/O
library, no clock, nothing of the package but errors); pull, push and cohort never reach up
to the run, operations, support tools or commands; nothing in the service imports the support
tools or the commands; commands build no SQL statement. Every module is parsed, as in
test_paths.
"""

from __future__ import annotations

import ast

import pytest

from tests.test_paths import imported, modules

IO = {"sqlalchemy", "requests", "apscheduler", "alembic", "psycopg", "socket", "urllib",
      "http", "subprocess", "sqlite3", "os", "pathlib", "time"}  # fmt: skip
ABOVE_PIPELINE = {"moodle_sync.run", "moodle_sync.ops", "moodle_sync.support",
                  "moodle_sync.commands", "moodle_sync.cli"}  # fmt: skip
# (importer prefix, imported prefixes it must not import)
FORBIDDEN = [
    ("moodle_sync.client", {"moodle_sync.store", "moodle_sync.rules", "moodle_sync.pull",
                            "moodle_sync.push", "moodle_sync.cohort"} | ABOVE_PIPELINE),
    ("moodle_sync.store", {"moodle_sync.client", "moodle_sync.pull", "moodle_sync.push",
                           "moodle_sync.cohort"} | ABOVE_PIPELINE),
    ("moodle_sync.cohort", {"moodle_sync.client", "moodle_sync.pull", "moodle_sync.push"}
     | ABOVE_PIPELINE),
    ("moodle_sync.pull", {"moodle_sync.push"} | ABOVE_PIPELINE),
    ("moodle_sync.push", {"moodle_sync.pull"} | ABOVE_PIPELINE),
    ("moodle_sync.run", {"moodle_sync.support", "moodle_sync.commands", "moodle_sync.cli"}),
    ("moodle_sync.ops", {"moodle_sync.support", "moodle_sync.commands", "moodle_sync.cli"}),
    ("moodle_sync.support", {"moodle_sync.commands", "moodle_sync.cli"}),
]  # fmt: skip
# The known exceptions: a pull run (`moodle-sync sync`) records itself in the ledger, and the
# programme's definition is read from its TOML file by the rules' own loader.
EXCEPTIONS = {("moodle_sync.pull.runner", "moodle_sync.ops.ledger"),
              ("moodle_sync.rules.policy", "pathlib")}  # fmt: skip


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def excepted(name: str, target: str) -> bool:
    return any(within(target, t) for n, t in EXCEPTIONS if n == name)


def crossings() -> list[str]:
    found = []
    for name, tree in modules().items():
        for importer, banned in FORBIDDEN:
            if not within(name, importer):
                continue
            found += [f"{name}:{line} imports {target}" for line, target in imported(tree)
                      if any(within(target, b) for b in banned)
                      and not excepted(name, target)]  # fmt: skip
    return found


def test_no_layer_imports_one_above_it() -> None:
    assert crossings() == []


STATEMENTS = {"select", "insert", "update", "delete", "func", "text", "or_", "and_"}


def command_queries() -> list[str]:
    """Commands parse, call and print: a SQL statement built in one belongs to a layer."""
    return [f"{name}:{line} imports {target}" for name, tree in modules().items()
            if within(name, "moodle_sync.commands")
            for line, target in imported(tree)
            if target.split(".")[0] == "sqlalchemy"
            and target.split(".")[-1] in STATEMENTS]  # fmt: skip


def test_commands_build_no_query() -> None:
    assert command_queries() == []


def rules_impurities() -> list[str]:
    found = []
    for name, tree in modules().items():
        if not within(name, "moodle_sync.rules"):
            continue
        for line, target in imported(tree):
            if excepted(name, target):
                continue
            if target.split(".")[0] in IO:
                found.append(f"{name}:{line} imports {target} (I/O)")
            elif within(target, "moodle_sync") and not (
                within(target, "moodle_sync.rules") or within(target, "moodle_sync.errors")
            ):
                found.append(f"{name}:{line} imports {target}")
        found += [f"{name}:{n.lineno} reads the clock ({n.attr})" for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and n.attr in ("now", "today", "utcnow")
                  and isinstance(n.ctx, ast.Load) and _called(tree, n)]  # fmt: skip
    return found


def _called(tree: ast.Module, attr: ast.Attribute) -> bool:
    return any(isinstance(n, ast.Call) and n.func is attr for n in ast.walk(tree))


def test_the_rules_are_pure() -> None:
    assert rules_impurities() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from moodle_sync.support.reports import x\n", "imports moodle_sync.support.reports"),
        ("import sqlalchemy\n", "(I/O)"),
        ("import datetime as dt\nwhen = dt.datetime.now(dt.UTC)\n", "reads the clock (now)"),
        ("from sqlalchemy import select\n", "commands.planted:1 imports sqlalchemy.select"),
    ],
)
def test_the_checks_see_a_breach(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = {"moodle_sync.rules.planted": ast.parse(source),
               "moodle_sync.commands.planted": ast.parse(source)}  # fmt: skip
    monkeypatch.setattr("tests.test_layers.modules", lambda: planted)
    found = crossings() + rules_impurities() + command_queries()
    assert any(expected in line for line in found)
