"""One switch point per direction (issue 23): which way a run talks to Moodle, core web
services or local_cetadsync, is decided in the path selection alone.

Every module of the package is parsed; outside the selection and the path implementations
none may import a path-specific module or read the plugin flag (a `.plugin` attribute, a
`plugin=` keyword, a `plugin` parameter). The pull reads through a source and the push writes
through a writer, whichever path the selection chose.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "moodle_sync"
SELECTION = {"moodle_sync.paths", "moodle_sync.client.sitepath"}
IMPLEMENTATIONS = {
    "moodle_sync.pull.core_source",
    "moodle_sync.pull.plugin_source",
    "moodle_sync.push.core_writer",
    "moodle_sync.push.plugin_writer",
}
# local_cetadsync's own functions: only the plugin path calls them
PATH_SPECIFIC = IMPLEMENTATIONS | {"moodle_sync.client.cetadsync"}
ALLOWED = SELECTION | IMPLEMENTATIONS


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(), str(path))
            for path in sorted(PACKAGE.rglob("*.py"))}  # fmt: skip


def imported(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every module an import names, `from a.b import c` as both a.b and a.b.c."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def flag_reads(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "plugin":
            yield node.lineno, "reads .plugin"
        elif isinstance(node, ast.keyword) and node.arg == "plugin":
            yield node.value.lineno, "passes plugin="
        elif isinstance(node, ast.arg) and node.arg == "plugin":
            yield node.lineno, "takes a plugin parameter"


def leaks() -> list[str]:
    found = []
    for name, tree in modules().items():
        if name in ALLOWED:
            continue
        found += [f"{name}:{line} imports {target}" for line, target in imported(tree)
                  if target in PATH_SPECIFIC]  # fmt: skip
        found += [f"{name}:{line} {what}" for line, what in flag_reads(tree)]
    return found


def test_no_module_outside_the_selection_knows_the_path() -> None:
    assert leaks() == []


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_the_selection_and_the_implementations_exist(name: str) -> None:
    assert name in modules(), f"{name} is named by this test but is no module"


def test_a_leak_is_found() -> None:
    """The rule itself: an import of a path module and each way of reading the flag."""
    tree = ast.parse(
        "from moodle_sync.pull import plugin_source\n"
        "import moodle_sync.client.cetadsync\n"
        "def pull(plugin: bool): return read(plugin=path.plugin)\n"
    )
    targets = [target for _line, target in imported(tree) if target in PATH_SPECIFIC]
    assert targets == ["moodle_sync.pull.plugin_source", "moodle_sync.client.cetadsync"]
    assert sorted(what for _line, what in flag_reads(tree)) == [
        "passes plugin=", "reads .plugin", "takes a plugin parameter"]  # fmt: skip
