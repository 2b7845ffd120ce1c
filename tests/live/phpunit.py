"""Moodle's own PHPUnit in a live site's code, without Composer.

The plugins' test suites and core's privacy provider tests (filtered to the plugins) run the
Moodle way, ``vendor/bin/phpunit -c phpunit.xml``, in the code folder the live site is served
from (its tables ``phpu_``, in a database and a data root of their own, so resetting the site
never touches them). Moodle 4.x runs on PHPUnit 9.6 (Debian 12's ``phpunit`` package), Moodle 5
on PHPUnit 11 (Debian 13's, unpacked into ``var/phpunit11`` by ``python -m tests.live.phpunit
fetch``; ``.ci/run`` does it): ``vendor/`` holds only shims onto them, with an empty
``composer.phar`` so nothing downloads Composer. Moodle's test set-up wants the ``en_AU.UTF-8``
locale (built into ``var/locale``) and ``max_input_vars`` of 5000 (an ini file passed with
``PHP_INI_SCAN_DIR``, which init.php's own child processes inherit).

The test site is initialised once per version (about 3 minutes) and again only when the code it
was built from changes: Moodle's release, PHPUnit, or the plugins' ``version.php`` and ``db/``.
The plugins' code must be in the code folder to initialise and to run; the caller puts it there
(LiveSite.add_plugins; the live tier's ``plugin_site`` fixture).

    python -m tests.live.phpunit [VERSION...] [-- PHPUNIT ARGS]   # or `make phpunit V=4.5.6`
    python -m tests.live.phpunit fetch                            # PHPUnit 11 into var/phpunit11
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tests.live.site import PLUGINS, ROOT, LiveSite, LiveSiteError

PHPUNIT9 = Path("/usr/share/php")  # Debian 12's phpunit package
PHPUNIT11 = Path(os.environ.get("MOODLE_SYNC_PHPUNIT11") or ROOT / "var" / "phpunit11")
LOCALES = ROOT / "var" / "locale"
# Strict as Moodle's plugin CI can be: a test that prints, or a PHPUnit warning, is no pass.
STRICT = ("--fail-on-risky", "--fail-on-warning")
# The plugins' cases of core's privacy provider tests (their data sets are named by component),
# and 4.4's test_table_coverage, which covers every component in one case.
PRIVACY_FILTER = "cetadsync|::test_table_coverage$"
TRIXIE = (
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
    "http://deb.debian.org/debian trixie main"
)


class PhpUnitUnavailable(LiveSiteError):
    """The PHPUnit this Moodle needs is not on the machine; the message says how to get it."""


@dataclass
class Report:
    """What one PHPUnit run did, read from its JUnit log."""

    version: str
    name: str
    returncode: int
    output: str
    tests: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # test: first lines of its message
    names: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)  # of the tests that ran
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.tests > 0 and not self.failed

    def summary(self) -> str:
        return (
            f"Moodle {self.version} PHPUnit {self.name}: {self.tests} tests, "
            f"{len(self.failed)} failed, {self.skipped} skipped, exit {self.returncode}, "
            f"{self.seconds:.0f} s"
        )

    def explain(self) -> str:
        """Why the run is not a pass: the failing tests by name, else PHPUnit's own words."""
        lines = [self.summary()]
        if self.tests == 0:
            lines.append("no test ran: a pass needs at least one")
        lines += [f"  {name}: {message}" for name, message in self.failed.items()]
        if not self.failed:  # risky tests and warnings are not in the JUnit log
            listed = re.findall(r"^There (?:was|were) \d+ [a-z ]+:$|^\d+\) .+$", self.output, re.M)
            lines += [*listed, self.output[-2000:]]
        return "\n".join(lines)


class MoodlePhpUnit:
    """Moodle's PHPUnit for one live site's code folder."""

    def __init__(self, site: LiveSite) -> None:
        self.site = site
        self.dirroot = site.dirroot
        self.dataroot = site.home / "phpunitdata"
        self.dbname = f"{site.database.name}_phpu"

    # -- what this Moodle needs --

    @property
    def major(self) -> int:
        """The PHPUnit major version this Moodle asks for in its composer.json."""
        composer = json.loads((self.dirroot / "composer.json").read_text())
        wanted = composer.get("require-dev", {}).get("phpunit/phpunit", "9")
        return int(re.search(r"\d+", wanted).group(0))  # type: ignore[union-attr]

    @property
    def library(self) -> Path:
        """The folder holding PHPUnit/Autoload.php for this Moodle."""
        major = self.major
        library = PHPUNIT9 if major == 9 else PHPUNIT11 / "usr" / "share" / "php"
        if not (library / "PHPUnit" / "Autoload.php").exists():
            how = (
                "apt-get install phpunit"
                if major == 9
                else "python -m tests.live.phpunit fetch, or set MOODLE_SYNC_PHPUNIT11"
            )
            raise PhpUnitUnavailable(
                f"Moodle {self.site.version} needs PHPUnit {major}: "
                f"{library}/PHPUnit/Autoload.php not found ({how})"
            )
        return library

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PHP_INI_SCAN_DIR": f":{self.site.home / 'php'}",
            "LOCPATH": str(LOCALES),
            "MOODLE_DIRROOT": str(self.dirroot),
        }

    # -- setting the code folder up --

    def configure(self) -> None:
        """config.php's phpunit_* settings, vendor/ shims, the locale and the PHP settings."""
        config = self.dirroot / "config.php"
        text = config.read_text()
        if "phpunit_prefix" not in text:
            settings = (
                f"$CFG->phpunit_prefix = 'phpu_';\n"
                f"$CFG->phpunit_dataroot = '{self.dataroot}';\n"
                f"$CFG->phpunit_dbname = '{self.dbname}';\n"
            )
            setup = "require_once(__DIR__ . '/lib/setup.php');"
            config.write_text(text.replace(setup, settings + setup))
        self._shims(self.library)
        ini = self.site.home / "php"
        ini.mkdir(exist_ok=True)
        (ini / "moodle.ini").write_text(
            f'max_input_vars = 5000\nmemory_limit = 1024M\ninclude_path = ".:{self.library}"\n'
        )
        _locale()

    def _shims(self, library: Path) -> None:
        vendor = self.dirroot / "vendor"
        (vendor / "phpunit" / "phpunit").mkdir(parents=True, exist_ok=True)
        (vendor / "bin").mkdir(exist_ok=True)
        (vendor / "autoload.php").write_text(
            f"<?php\nrequire_once('{library}/PHPUnit/Autoload.php');\n"
        )
        version = "9.6.7" if self.major == 9 else "11.5.19"  # Debian 12's and 13's
        (vendor / "phpunit" / "phpunit" / "composer.json").write_text(
            json.dumps({"name": "phpunit/phpunit", "version": version})
        )
        main = (
            "PHPUnit\\TextUI\\Command::main();"
            if self.major == 9
            else "exit((new PHPUnit\\TextUI\\Application())->run($_SERVER['argv']));"
        )
        (vendor / "bin" / "phpunit").write_text(
            f"<?php\nrequire_once(__DIR__ . '/../autoload.php');\n{main}\n"
        )
        (self.dirroot / "composer.phar").touch()

    def fingerprint(self) -> str:
        """What the test site was built from: a change means initialising it again."""
        digest = hashlib.sha256(f"{self.site.release}|{self.library}".encode())
        for plugin in PLUGINS.values():
            folder = self.dirroot / plugin
            for path in sorted([folder / "version.php", *folder.glob("db/**/*")]):
                if path.is_file():
                    digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
        return digest.hexdigest()

    def ready(self) -> bool:
        stamp = self.site.home / "phpunit.fingerprint"
        if not stamp.exists() or stamp.read_text() != self.fingerprint():
            return False
        return self._php("admin/tool/phpunit/cli/util.php", "--diag").returncode == 0

    def init(self) -> float:
        """Build the test site from scratch (about 3 minutes); its seconds."""
        started = time.monotonic()
        (self.site.home / "phpunit.fingerprint").unlink(missing_ok=True)
        self.site.database.recreate(self.dbname)
        shutil.rmtree(self.dataroot, ignore_errors=True)
        self.dataroot.mkdir(parents=True)
        done = self._php("admin/tool/phpunit/cli/init.php", "--disable-composer", timeout=1800)
        (self.site.home / "phpunit-init.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise LiveSiteError(
                f"Moodle {self.site.version}: PHPUnit init.php exited "
                f"{done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}"
            )
        (self.site.home / "phpunit.fingerprint").write_text(self.fingerprint())
        return time.monotonic() - started

    def ensure(self) -> float:
        """Configured and initialised; the seconds an init took (0 when none was needed)."""
        self.configure()
        return 0.0 if self.ready() else self.init()

    # -- running --

    def run(self, name: str, *args: str) -> Report:
        """vendor/bin/phpunit -c phpunit.xml ARGS, read back from its JUnit log."""
        self._php("admin/tool/phpunit/cli/util.php", "--buildconfig")  # new tests/ folders
        junit = self.site.home / f"phpunit-{name}.xml"
        junit.unlink(missing_ok=True)
        started = time.monotonic()
        done = self._php(
            "vendor/bin/phpunit",
            "-c",
            "phpunit.xml",
            "--log-junit",
            str(junit),
            *STRICT,
            *args,
            timeout=3600,
        )
        report = Report(
            self.site.version,
            name,
            done.returncode,
            done.stdout + done.stderr,
            seconds=time.monotonic() - started,
        )
        if junit.exists():
            read_junit(junit, report)
        self._keep(report)
        return report

    def suites(self) -> list[str]:
        """The plugins' test suites (Moodle names one per component): those with tests."""
        return [
            f"{component}_testsuite"
            for component, path in PLUGINS.items()
            if any((self.dirroot / path / "tests").glob("**/*_test.php"))
        ]

    def run_plugins(self) -> Report:
        suites = self.suites()
        if not suites:  # an empty --testsuite would run all of Moodle's tests
            where = ", ".join(f"{path}/tests" for path in PLUGINS.values())
            return Report(self.site.version, "plugins", 1, f"no *_test.php under {where}")
        return self.run("plugins", "--testsuite", ",".join(suites))

    def run_privacy(self) -> Report:
        return self.run(
            "privacy", "--testsuite", "core_privacy_testsuite", "--filter", PRIVACY_FILTER
        )

    def _keep(self, report: Report) -> None:
        summary = {
            "version": report.version,
            "release": self.site.release,
            "run": report.name,
            "tests": report.tests,
            "failed": len(report.failed),
            "skipped": report.skipped,
            "seconds": round(report.seconds, 1),
        }
        (self.site.home / f"phpunit-{report.name}.json").write_text(json.dumps(summary) + "\n")

    def _php(self, script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["php", script, *args],
            cwd=self.dirroot,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def read_junit(path: Path, report: Report) -> None:
    """Every testcase of a JUnit log: its name, and the failures and errors by name."""
    for case in ET.parse(path).iter("testcase"):
        name = f"{case.get('class') or case.get('classname')}::{case.get('name')}"
        report.tests += 1
        report.names.append(name)
        report.files.add(case.get("file") or "")
        if case.find("skipped") is not None:
            report.skipped += 1
        for kind in ("failure", "error"):
            for problem in case.findall(kind):
                text = (problem.text or problem.get("message") or kind).strip()
                report.failed[name] = " | ".join(text.splitlines()[:4])


def _locale() -> None:
    """en_AU.UTF-8 for Moodle's test set-up, built once (glibc's localedef, Debian's locales)."""
    if (LOCALES / "en_AU.UTF-8").is_dir():
        return
    LOCALES.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["localedef", "-i", "en_AU", "-f", "UTF-8", str(LOCALES / "en_AU.UTF-8")],
        capture_output=True,
        text=True,
    )
    if not (LOCALES / "en_AU.UTF-8").is_dir():
        raise LiveSiteError(
            f"localedef could not build en_AU.UTF-8 (apt-get install locales): "
            f"{done.stderr.strip()[-500:]}"
        )


# --- PHPUnit 11 from Debian 13 ----------------------------------------------------------------


def fetch(target: Path = PHPUNIT11) -> str:
    """PHPUnit 11 and its PHP libraries from Debian 13 (trixie), unpacked into ``target``,
    leaving the machine's own package sources and PHPUnit alone; the version it prints."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "trixie.list").write_text(TRIXIE + "\n")
        for folder in ("lists/partial", "cache/archives/partial", "debs"):
            (work / folder).mkdir(parents=True)
        apt = [
            f"-oDir::Etc::sourcelist={work / 'trixie.list'}",
            "-oDir::Etc::sourceparts=-",
            f"-oDir::State::Lists={work / 'lists'}",
            f"-oDir::Cache={work / 'cache'}",
            "-oDir::State::status=/dev/null",
        ]
        _checked(["apt-get", *apt, "update", "-qq"])
        depends = _checked(
            [
                "apt-cache",
                *apt,
                "depends",
                "--recurse",
                "--no-recommends",
                "--no-suggests",
                "--no-conflicts",
                "--no-breaks",
                "--no-replaces",
                "--no-enhances",
                "phpunit",
            ]
        )
        _checked(["apt-get", *apt, "download", *php_libraries(depends)], cwd=work / "debs")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for deb in sorted((work / "debs").glob("*.deb")):
            _checked(["dpkg", "-x", str(deb), str(target)])
    library = target / "usr" / "share" / "php"
    for path in library.rglob("*.php"):  # their autoloaders name /usr/share/php literally
        text = path.read_text(errors="surrogateescape")
        if "/usr/share/php" in text:
            path.write_text(text.replace("/usr/share/php", str(library)), errors="surrogateescape")
    return _checked(
        ["php", "-d", f"include_path=.:{library}", str(target / "usr/bin/phpunit"), "--version"]
    ).strip()


def php_libraries(depends: str) -> list[str]:
    """From `apt-cache depends --recurse phpunit`: PHPUnit and its PHP libraries, not PHP itself
    (php-X is PHP when a php8.N-X exists: php-cli, php-xml, ...)."""
    names = {line.strip("<>") for line in depends.splitlines() if line and not line[0].isspace()}
    runtime = {re.sub(r"^php\d+\.\d+-", "", n) for n in names if re.match(r"^php\d+\.\d+-", n)}
    return sorted(
        n
        for n in names
        if n.startswith("phpunit")
        or (n.startswith("php-") and n.removeprefix("php-") not in runtime)
    )


def _checked(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise LiveSiteError(
            f"{' '.join(command[:3])} ... exited {done.returncode}: {done.stderr.strip()[-1500:]}"
        )
    return done.stdout


if __name__ == "__main__":
    from tests.live.matrix import phpunit_main

    sys.exit(phpunit_main(sys.argv[1:]))
