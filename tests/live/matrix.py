"""Every Moodle version's live site at once: build (several at a time), reset, start, stop,
and Moodle's PHPUnit on each. The versions are tests/live/versions.py's; VERSION arguments
(``4.5.6``, ``5.0.6+``) narrow them.

    python -m tests.live.site build [VERSION...] [--phpunit] [--jobs N]   # make live-site
    python -m tests.live.site rebuild | reset | start | stop | status [VERSION...]
    python -m tests.live.phpunit [VERSION...] [-- PHPUNIT ARGS]            # make phpunit

A version without a usable source is reported with the reason; the command then fails when
``CI=true`` or when that version was named, and otherwise carries on with the others.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from tests.live.site import (
    VAR,
    Database,
    LiveSite,
    LiveSiteError,
    build,
    database_server,
    home_of,
    state_file,
)
from tests.live.versions import Version, discover

ACTIONS = ["build", "rebuild", "reset", "start", "stop", "status"]
BUILDING = "building"  # in a version's folder while a build of it is under way: the builder's pid


def selected(names: list[str]) -> list[Version]:
    if not names:
        return discover()
    return discover({**os.environ, "MOODLE_VERSIONS": ",".join(names)})


def problems(versions: list[Version], named: bool) -> int:
    """Report each version that has no usable source; 1 when that must fail the command."""
    for version in versions:
        if version.problem:
            print(f"Moodle {version.label}: {version.problem}", file=sys.stderr, flush=True)
    strict = named or os.environ.get("CI") == "true"
    return 1 if strict and any(v.problem for v in versions) else 0


def build_one(version: Version, server: Database, phpunit: bool) -> str:
    """One version's site (and its PHPUnit test site): "" when built, else what failed."""
    home = home_of(version)
    failed = home / "build-error.txt"
    failed.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        site = build(version, server)
        say(
            f"{version.label}: site at {site.url} ({site.release}) in "
            f"{time.monotonic() - started:.0f} s; build timings {site.timings}"
        )
        if phpunit:
            seconds = prepare_phpunit(site)
            say(
                f"{version.label}: PHPUnit "
                + (f"initialised in {seconds:.0f} s" if seconds else "was ready")
            )
        return ""
    except (LiveSiteError, OSError, subprocess.SubprocessError, ValueError) as exc:
        home.mkdir(parents=True, exist_ok=True)
        failed.write_text(str(exc))
        return f"Moodle {version.label} ({version.source}): {exc}"
    finally:
        (home / BUILDING).unlink(missing_ok=True)


def prepare_phpunit(site: LiveSite) -> float:
    """The plugins in, Moodle's PHPUnit initialised when needed, the plugins out again: the
    live site at rest has no plugin code (tests/live/conftest.py's plugin_site adds it)."""
    from tests.live.phpunit import MoodlePhpUnit

    site.add_plugins()
    try:
        return MoodlePhpUnit(site).ensure()
    finally:
        site.remove_plugins()


def build_all(versions: list[Version], phpunit: bool, jobs: int) -> int:
    buildable = [v for v in versions if not v.problem]
    if not buildable:
        return 1
    for version in buildable:  # tests that start meanwhile wait for these (conftest.py)
        home_of(version).mkdir(parents=True, exist_ok=True)
        (home_of(version) / BUILDING).write_text(str(os.getpid()))
    server = database_server()
    server.ensure_running()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        errors = [e for e in pool.map(lambda v: build_one(v, server, phpunit), buildable) if e]
    for error in errors:
        print(f"live site build failed: {error}", file=sys.stderr)
    return 1 if errors else 0


def built(versions: list[Version]) -> list[LiveSite]:
    return [LiveSite.load(state_file(v)) for v in versions if state_file(v).exists()]


def stop_all() -> None:
    """Every site's PHP server, this one's of the old single-site layout too, then the
    PostgreSQL cluster of our own (when one serves them)."""
    sites = [
        LiveSite.load(p)
        for p in [*sorted(VAR.glob("*/site.json")), VAR / "site.json"]
        if p.exists()
    ]
    for site in sites:
        site.stop()
        say(f"{site.version or 'site'}: stopped ({site.url})")
    for site in sites[:1]:
        site.database.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.live.site",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("versions", nargs="*", help="e.g. 4.5.6 5.0.6+ (default: every one)")
    parser.add_argument("--phpunit", action="store_true", help="also initialise Moodle's PHPUnit")
    parser.add_argument("--jobs", type=int, default=1, help="versions built at once")
    args = parser.parse_args(argv)
    if args.action == "stop":
        stop_all()
        return 0
    versions = selected(args.versions)
    status = problems(versions, named=bool(args.versions))
    if args.action == "rebuild":
        for site in built(versions):
            site.stop()
            shutil.rmtree(site.home)
    if args.action in ("build", "rebuild"):
        return build_all(versions, args.phpunit, args.jobs) or status
    sites = built(versions)
    for version in versions:
        if not version.problem and not state_file(version).exists():
            say(f"{version.label}: no live site built (make live-site V={version.label})")
    for site in sites:
        started = time.monotonic()
        if args.action in ("reset", "start"):
            site.start()
        if args.action == "reset":
            site.reset()
        say(
            f"{site.version}: {site.url} ({site.release}) answers={site.answers()} "
            f"({time.monotonic() - started:.1f} s)"
        )
    return status if sites else 1


def phpunit_main(argv: list[str]) -> int:
    """Moodle's PHPUnit on each built version: the plugins' suites and core's privacy provider
    tests (or the PHPUnit arguments after --), the plugins copied in for the run only."""
    from tests.live.phpunit import MoodlePhpUnit, PhpUnitUnavailable, fetch

    if argv[:1] == ["fetch"]:
        say(fetch())
        return 0
    names, extra = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    versions = selected(names)
    status, ran = problems(versions, named=bool(names)), 0
    for version in versions:
        if version.problem:
            continue
        if not state_file(version).exists():
            say(f"{version.label}: no live site built (make live-site V={version.label})")
            status = 1 if names or os.environ.get("CI") == "true" else status
            continue
        site = LiveSite.load(state_file(version))
        site.add_plugins()
        try:
            phpunit = MoodlePhpUnit(site)
            seconds = phpunit.ensure()
            if seconds:
                say(f"{version.label}: PHPUnit initialised in {seconds:.0f} s")
            reports = (
                [phpunit.run("args", *extra)]
                if extra
                else [phpunit.run_plugins(), phpunit.run_privacy()]
            )
        except PhpUnitUnavailable as exc:
            say(str(exc))
            status = 1
            continue
        finally:
            site.remove_plugins()
        for report in reports:
            ran += report.tests
            if extra:
                print(report.output)
            say(report.summary() if report.ok else report.explain())
            status = status or (0 if report.ok else 1)
    return status if ran else 1


def say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
