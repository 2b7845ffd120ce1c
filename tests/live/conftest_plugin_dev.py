"""A stand-in for tests/live/conftest.py's ``live_site``, for developing the plugin's tests.

Not auto-loaded (the real fixture comes from the live-suite branch). It drives a site already
installed at /work/plugin-site (see local_cetadsync/README.md, "Developing"); load it with

    pytest -p tests.live.conftest_plugin_dev tests/live/test_plugin.py

It implements the same contract: ``url``, ``admin_token``, ``token``, ``dirroot``, ``dataroot``,
``php``, ``reset()``, ``call(function, token=None, **params)``, ``php_cli(script, *args)``,
``upgrade()``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

SITE = Path(os.environ.get("PLUGIN_SITE", "/work/plugin-site"))

_ADMIN_TOKEN_PHP = r"""<?php
define('CLI_SCRIPT', true);
require($argv[1] . '/config.php');
set_config('enablewebservices', 1);
set_config('webserviceprotocols', 'rest');
$service = $DB->get_record('external_services', ['shortname' => 'dev_all']);
if (!$service) {
    $service = (object)['name' => 'Dev: every function', 'shortname' => 'dev_all', 'enabled' => 1,
        'restrictedusers' => 0, 'timecreated' => time()];
    $service->id = $DB->insert_record('external_services', $service);
}
foreach ($DB->get_fieldset_select('external_functions', 'name', '1 = 1') as $name) {
    $key = ['externalserviceid' => $service->id, 'functionname' => $name];
    if (!$DB->record_exists('external_services_functions', $key)) {
        $DB->insert_record('external_services_functions', (object)$key);
    }
}
$token = $DB->get_field('external_tokens', 'token',
    ['externalserviceid' => $service->id, 'userid' => 2]);
echo $token ?: \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, 2,
    context_system::instance(), 0, '', 'dev admin');
"""


class MoodleError(Exception):
    def __init__(self, function: str, body: dict[str, Any]) -> None:
        self.errorcode = body.get("errorcode")
        self.body = body
        super().__init__(f"{function}: {self.errorcode} {body.get('message')!r}")


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _flatten(f"{prefix}[{k}]", v)]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _flatten(f"{prefix}[{i}]", v)]
    if isinstance(value, bool):
        return [(prefix, "1" if value else "0")]
    return [(prefix, str(value))]


class DevSite:
    url = "http://127.0.0.1:8742"
    dirroot = SITE / "moodle"
    dataroot = SITE / "data"
    php: ClassVar[list[str]] = ["php", "-d", "max_input_vars=5000", "-d", "memory_limit=512M"]

    def __init__(self) -> None:
        self.admin_token = self._admin_token()
        self.token = self.admin_token

    def _admin_token(self) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".php", delete=False) as script:
            script.write(_ADMIN_TOKEN_PHP)
        try:
            return self.php_cli(script.name, self.dirroot).stdout.strip()
        finally:
            os.unlink(script.name)

    def php_cli(self, script: str | Path, *args: Any) -> subprocess.CompletedProcess[str]:
        command = [*self.php, str(self.dirroot / script), *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)

    def upgrade(self) -> None:
        self.php_cli("admin/cli/upgrade.php", "--non-interactive", "--allow-unstable")
        self.admin_token = self._admin_token()  # adds new functions to the admin's service

    def reset(self) -> None:
        """Back to the snapshot taken right after install (database plugsite_base)."""
        sql = "DROP DATABASE plugsite WITH (FORCE); CREATE DATABASE plugsite TEMPLATE plugsite_base"
        for statement in sql.split("; "):
            subprocess.run(["su", "postgres", "-c", f'psql -p 5442 -qc "{statement}"'], check=True)
        self.php_cli("admin/cli/purge_caches.php")
        self.admin_token = self._admin_token()

    def call(self, function: str, token: str | None = None, **params: Any) -> Any:
        form = [
            ("wstoken", token or self.admin_token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
        ]
        form += [p for key, value in params.items() for p in _flatten(key, value)]
        response = requests.post(f"{self.url}/webservice/rest/server.php", data=form, timeout=120)
        response.raise_for_status()
        body = response.json()
        if isinstance(body, dict) and "exception" in body:
            raise MoodleError(function, body)
        return body


@pytest.fixture(scope="session")
def live_site() -> DevSite:
    if not (SITE / "moodle/config.php").exists():
        pytest.skip(f"no dev site at {SITE}")
    return DevSite()
