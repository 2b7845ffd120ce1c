"""local_cetadsync without a Moodle: PHP syntax, the service against the registry, strings."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.client import registry
from moodle_sync.client.registry import FUNCTIONS

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "local_cetadsync"
PHP = shutil.which("php") or "php"
needs_php = pytest.mark.skipif(
    shutil.which("php") is None, reason="php is not installed (apt-get install php8.2-cli)"
)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "gen_worker_needs", REPO / "scripts/gen_worker_needs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worker_needs_php_is_generated_from_the_registry() -> None:
    generated = (PLUGIN / "classes/local/worker_needs.php").read_text()
    assert generated == _generator().render(), "run: python scripts/gen_worker_needs.py"


@needs_php
@pytest.mark.parametrize(
    "path",
    sorted([*PLUGIN.rglob("*.php"), *(PLUGIN.parent / "block_cetadsync").rglob("*.php")]),
    ids=lambda p: str(p.relative_to(PLUGIN.parent)),
)
def test_every_php_file_parses(path: Path) -> None:
    done = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_php
def test_the_service_holds_every_registry_function() -> None:
    script = (
        "define('MOODLE_INTERNAL', 1); include $argv[1];"
        "echo json_encode(['plugin' => array_keys($functions),"
        " 'service' => $services['CETAD Sync']]);"
    )
    done = subprocess.run(
        [PHP, "-r", script, str(PLUGIN / "db/services.php")],
        capture_output=True,
        text=True,
        check=True,
    )
    declared = json.loads(done.stdout)
    service = declared["service"]
    plugin_path = {s.name for s in registry.functions_for("plugin")}
    assert set(service["functions"]) == plugin_path
    assert set(declared["plugin"]) == {s.name for s in registry.PLUGIN_FUNCTIONS}
    assert (service["enabled"], service["restrictedusers"], service["shortname"]) == (
        1,
        1,
        "local_cetadsync",
    )


def test_the_service_holds_every_registry_function_by_regex() -> None:
    needs = (PLUGIN / "classes/local/worker_needs.php").read_text()
    listed = re.findall(r"^\s+'([a-z_]+)',$", needs.split("const CAPABILITIES")[0], re.M)
    assert listed == [s.name for s in FUNCTIONS if "plugin" in s.paths]
    assert "worker_needs::FUNCTIONS" in (PLUGIN / "db/services.php").read_text()


def _defined_strings(plugin: Path = PLUGIN) -> set[str]:
    text = next((plugin / "lang/en").glob("*.php")).read_text()
    return set(re.findall(r"^\$string\['([^']+)'\]", text, re.M))


def _strings_in_code(plugin: Path, component: str) -> set[str]:
    """Keys passed literally to get_string or {{#str}}; a family built at run time (a call
    with "status_{$code}") counts every defined key of that family as used."""
    used = {"pluginname"}
    families: set[str] = set()
    for path in [*plugin.rglob("*.php"), *plugin.rglob("*.mustache")]:
        if "lang" in path.parts:
            continue
        text = path.read_text()
        used |= set(re.findall(rf"(?:get_string|lang_string)\('([^'$]+)',\s*'{component}'", text))
        used |= set(re.findall(rf"moodle_exception\('([a-z_]+)',\s*'{component}'", text))
        used |= set(re.findall(rf"{{{{#str}}}}\s*([a-z_]+),\s*{component}\b", text))
        used |= set(re.findall(r"'(privacy:metadata(?::[a-z_:]+)?)'", text))
        families |= {a or b for a, b in re.findall(r"\"([a-z]+_)\{\$|'([a-z]+_)' \.", text)}
    return used | {key for key in _defined_strings(plugin) if key.startswith(tuple(families))}


def _used_strings() -> set[str]:
    used = _strings_in_code(PLUGIN, "local_cetadsync")
    access = (PLUGIN / "db/access.php").read_text()
    used |= {f"cetadsync:{c}" for c in re.findall(r"'local/cetadsync:([a-z]+)'", access)}
    messages = (PLUGIN / "db/messages.php").read_text()
    used |= {f"messageprovider:{p}" for p in re.findall(r"^    '([a-z]+)' => \[", messages, re.M)}
    fields = (PLUGIN / "classes/local/profile_fields.php").read_text()
    for setting, langkey in re.findall(r"'([a-z]+field)' => \['[a-z_]+', '([a-z]+)'\]", fields):
        used |= {setting, f"{setting}_desc", langkey}
    return used


def test_every_language_string_used_is_defined_and_every_one_defined_is_used() -> None:
    defined, used = _defined_strings(), _used_strings()
    assert used - defined == set(), "used but not defined"
    assert defined - used == set(), "defined but never used"


def test_the_blocks_strings_too() -> None:
    block = PLUGIN.parent / "block_cetadsync"
    defined, used = _defined_strings(block), _strings_in_code(block, "block_cetadsync")
    access = (block / "db/access.php").read_text()
    used |= {f"cetadsync:{c}" for c in re.findall(r"'block/cetadsync:([a-z]+)'", access)}
    assert used - defined == set(), "used but not defined"
    assert defined - used == set(), "defined but never used"


@pytest.mark.parametrize(
    "path",
    sorted(PLUGIN.parent.glob("*_cetadsync/templates/*.mustache")),
    ids=lambda p: str(p.relative_to(PLUGIN.parent)),
)
def test_each_template_names_itself_and_its_example_context_is_json(path: Path) -> None:
    """Moodle's template library renders the example; a `}}` inside it would end the comment
    early and print the rest of the example on every page."""
    text = path.read_text()
    component = path.parent.parent.name
    assert f"@template {component}/{path.stem}\n" in text
    comment = text[text.index("{{!", text.index("}}")) : text.index("}}", text.index("{{!", 4))]
    assert "Example context (json):" in comment, "no example context, or it holds a `}}`"
    json.loads(comment.split("Example context (json):", 1)[1])
