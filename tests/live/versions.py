"""Which Moodle versions the live tier and Moodle's own PHPUnit run on, from which sources.

``MOODLE_SRC`` is one tarball, one unpacked checkout, or a folder of ``moodle-*.tar.*``
(default: ``../shared/moodle/source`` beside the clone, where CI puts it). A tarball is named
``moodle-<version>-<build date>.tar.xz`` (``plus`` in the name stands for ``+``); a checkout is
named by the release in its ``version.php``.

``MATRIX`` is what the plugins claim (their ``version.php``'s ``requires`` and ``supported``, the
first lines of ``local_cetadsync/README.md``): read from a folder, each of these versions must
be there. One that is missing or unreadable is listed with the reason; ``.ci/run`` (``CI=true``)
then fails naming the file, and run by hand the tests of that version skip with the reason.
``MOODLE_VERSIONS=4.5.6,5.0.6+`` narrows a run to some versions.

The live tier runs in full on the primary version (4.5.6, the LTS universities run) and its
smoke set on every other; Moodle's PHPUnit runs on every version.

    python -m tests.live.versions           # the versions found; exit 1 if one has a problem
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = ROOT.parent / "shared" / "moodle" / "source"
MATRIX = {
    "4.4dev": "moodle-4.4dev-*.tar.xz",
    "4.5.6": "moodle-4.5.6-*.tar.xz",
    "5.0.6+": "moodle-5.0.6plus-*.tar.xz",
}
PRIMARY = "4.5.6"
TARBALL = re.compile(r"^moodle-(?P<version>.+?)-(?P<build>\d{8})\.(tar\.(xz|gz|bz2)|tgz)$")
MAGIC = (b"\xfd7zXZ\x00", b"\x1f\x8b", b"BZh")  # xz, gzip, bzip2


@dataclass(frozen=True)
class Version:
    """One Moodle version to test: its label (``5.0.6+``), its source, or why it has none."""

    label: str
    source: Path | None
    problem: str = ""

    @property
    def slug(self) -> str:
        """The label as a folder and database name part: ``5.0.6+`` -> ``5.0.6plus``."""
        return self.label.replace("+", "plus")


def label_of(source: Path) -> str:
    """A tarball's version from its name; a checkout's from the release in its version.php."""
    if source.is_dir():
        release = re.search(r"\$release\s*=\s*'([^ ']+)", _read(source / "version.php"))
        return release.group(1) if release else source.name
    named = TARBALL.match(source.name)
    return named.group("version").replace("plus", "+") if named else source.name.split(".")[0]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def unreadable(source: Path) -> str:
    """Why a source cannot be unpacked (checked cheaply: existence, permission, file type)."""
    if not source.exists():
        return f"{source} does not exist"
    if not os.access(source, os.R_OK):
        return f"{source} is not readable (permissions)"
    if source.is_dir():
        return "" if (source / "version.php").is_file() else f"{source} has no version.php"
    with source.open("rb") as head:
        start = head.read(6)
    if not start.startswith(MAGIC):
        return f"{source} is not a compressed tarball (xz, gzip or bzip2)"
    return ""


def discover(env: Mapping[str, str] = os.environ) -> list[Version]:
    """Every version to test, in version order; MOODLE_VERSIONS keeps only those it names."""
    given = env.get("MOODLE_SRC")
    source = Path(given) if given else DEFAULT_SOURCE
    if source.is_dir() and not (source / "version.php").exists():
        found = _folder(source)
    elif given or source.exists():
        found = [Version(label_of(source), source, unreadable(source))]
    else:
        found = [
            Version(label, None, f"{source / pattern} not found (no {source}; set MOODLE_SRC)")
            for label, pattern in MATRIX.items()
        ]
    wanted = [v.strip() for v in env.get("MOODLE_VERSIONS", "").split(",") if v.strip()]
    if wanted:
        by_label = {v.label: v for v in found}
        found = [
            by_label.get(w) or Version(w, None, f"no source for Moodle {w} in {source}")
            for w in wanted
        ]
    return sorted(found, key=order)


def _folder(folder: Path) -> list[Version]:
    tarballs = sorted(p for p in folder.glob("moodle-*") if TARBALL.match(p.name))
    found = {label_of(p): Version(label_of(p), p, unreadable(p)) for p in tarballs}
    for label, pattern in MATRIX.items():
        if label not in found:
            found[label] = Version(label, None, f"{folder / pattern} not found")
    return list(found.values())


def order(version: Version) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version.label))


def primary(versions: list[Version]) -> str:
    """The version the live tier runs in full on: 4.5.6 when tested, else the newest."""
    labels = [v.label for v in versions]
    return PRIMARY if PRIMARY in labels or not labels else labels[-1]


def main() -> int:
    versions = discover()
    for version in versions:
        mark = "*" if version.label == primary(versions) else " "
        print(f"{mark} {version.label:10} {version.problem or version.source}")
    return 1 if any(v.problem for v in versions) else 0


if __name__ == "__main__":
    sys.exit(main())
