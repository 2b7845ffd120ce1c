"""The live tier's versions and its PHPUnit verdicts, without a Moodle site: which versions a
MOODLE_SRC gives, why one cannot be built, and that a PHPUnit run of zero tests is no pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.matrix import problems
from tests.live.phpunit import Report, php_libraries, read_junit
from tests.live.versions import MATRIX, ROOT, discover, primary

XZ = b"\xfd7zXZ\x00rest"


def tarballs(folder: Path, *names: str, content: bytes = XZ) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_bytes(content)
    return folder


ALL = (
    "moodle-4.4dev-20231124.tar.xz",
    "moodle-4.5.6-20250811.tar.xz",
    "moodle-5.0.6plus-20260403.tar.xz",
)


def test_a_folder_gives_every_tarball_in_version_order_and_4_5_6_is_primary(
    tmp_path: Path,
) -> None:
    folder = tarballs(tmp_path / "src", *reversed(ALL))
    found = discover({"MOODLE_SRC": str(folder)})
    assert [(v.label, v.source, v.problem) for v in found] == [
        ("4.4dev", folder / ALL[0], ""),
        ("4.5.6", folder / ALL[1], ""),
        ("5.0.6+", folder / ALL[2], ""),
    ]
    assert primary(found) == "4.5.6" and found[2].slug == "5.0.6plus"


def test_a_tarball_missing_from_the_folder_is_named_with_its_version(tmp_path: Path) -> None:
    folder = tarballs(tmp_path / "src", ALL[0], ALL[2])
    (missing,) = [v for v in discover({"MOODLE_SRC": str(folder)}) if v.problem]
    assert missing.label == "4.5.6" and missing.source is None
    assert missing.problem == f"{folder / MATRIX['4.5.6']} not found"


def test_an_unreadable_tarball_is_named(tmp_path: Path) -> None:
    folder = tarballs(tmp_path / "src", *ALL)
    (folder / ALL[1]).write_bytes(b"<html>not found</html>")
    (folder / ALL[2]).chmod(0)
    found = {v.label: v.problem for v in discover({"MOODLE_SRC": str(folder)})}
    assert found["4.5.6"] == f"{folder / ALL[1]} is not a compressed tarball (xz, gzip or bzip2)"
    if found["5.0.6+"]:  # root reads any file: permissions only bite other users
        assert found["5.0.6+"] == f"{folder / ALL[2]} is not readable (permissions)"


def test_one_tarball_or_checkout_is_the_only_version_and_so_the_primary(tmp_path: Path) -> None:
    one = tarballs(tmp_path, "moodle-4.1.12-20240610.tgz", content=b"\x1f\x8brest") / (
        "moodle-4.1.12-20240610.tgz"
    )
    assert [(v.label, v.problem) for v in discover({"MOODLE_SRC": str(one)})] == [("4.1.12", "")]
    checkout = tmp_path / "moodle"
    checkout.mkdir()
    (checkout / "version.php").write_text("$release  = '5.0.6+ (Build: 20260403)';\n")
    found = discover({"MOODLE_SRC": str(checkout)})
    assert [(v.label, v.source) for v in found] == [("5.0.6+", checkout)]
    assert primary(found) == "5.0.6+"


def test_a_missing_moodle_src_is_a_problem_not_an_empty_list(tmp_path: Path) -> None:
    found = discover({"MOODLE_SRC": str(tmp_path / "nowhere.tar.xz")})
    assert [v.problem for v in found] == [f"{tmp_path / 'nowhere.tar.xz'} does not exist"]


def test_moodle_versions_narrows_and_names_an_unknown_one(tmp_path: Path) -> None:
    folder = tarballs(tmp_path / "src", *ALL)
    found = discover({"MOODLE_SRC": str(folder), "MOODLE_VERSIONS": "5.0.6+, 4.3"})
    assert [(v.label, v.problem) for v in found] == [
        ("4.3", f"no source for Moodle 4.3 in {folder}"),
        ("5.0.6+", ""),
    ]


def test_the_versions_command_fails_naming_the_file_it_cannot_use(tmp_path: Path) -> None:
    folder = tarballs(tmp_path / "src", ALL[0], ALL[2])
    done = subprocess.run(
        [sys.executable, "-m", "tests.live.versions"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        env={"MOODLE_SRC": str(folder)},
    )
    assert done.returncode == 1
    assert str(folder / "moodle-4.5.6-*.tar.xz") in done.stdout


@pytest.mark.parametrize(
    ("ci", "named", "fails"), [("true", False, 1), ("", True, 1), ("", False, 0)]
)
def test_a_version_without_source_fails_builds_under_ci_or_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str, named: bool, fails: int
) -> None:
    monkeypatch.setenv("CI", ci)
    found = discover({"MOODLE_SRC": str(tarballs(tmp_path / "src", ALL[1]))})
    assert problems(found, named=named) == fails


JUNIT = """<testsuites><testsuite name="s" tests="3">
<testcase name="test_a" class="local_cetadsync\\a_test" file="/m/local/cetadsync/tests/a_test.php"/>
<testcase name="test_b" class="local_cetadsync\\a_test" file="/m/local/cetadsync/tests/a_test.php">
  <failure type="x">Failed asserting that 1 is 2.
more</failure></testcase>
<testcase name="test_c" class="block_cetadsync\\b_test" file="/m/blocks/cetadsync/tests/b_test.php">
  <skipped/></testcase>
</testsuite></testsuites>"""


def test_a_junit_log_gives_the_count_the_failures_by_name_and_the_files(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text(JUNIT)
    report = Report("4.5.6", "plugins", 1, "")
    read_junit(tmp_path / "junit.xml", report)
    assert (report.tests, report.skipped) == (3, 1)
    assert report.failed == {
        "local_cetadsync\\a_test::test_b": "Failed asserting that 1 is 2. | more"
    }
    assert report.files == {
        "/m/local/cetadsync/tests/a_test.php",
        "/m/blocks/cetadsync/tests/b_test.php",
    }
    assert not report.ok and "Moodle 4.5.6" in report.explain()


def test_zero_tests_or_a_failing_exit_is_no_pass() -> None:
    assert not Report("5.0.6+", "privacy", 0, "No tests executed!").ok
    assert "no test ran" in Report("5.0.6+", "privacy", 0, "").explain()
    risky = Report(
        "4.5.6", "privacy", 1, "There was 1 risky test:\n\n1) x::test_table_coverage\n", tests=8
    )
    assert not risky.ok and "1) x::test_table_coverage" in risky.explain()
    assert Report("4.5.6", "plugins", 0, "", tests=2).ok


def test_phpunit_11_comes_with_its_libraries_not_php_itself() -> None:
    depends = (
        "phpunit\n  Depends: php-cli\nphp-cli\nphp8.4-cli\n<php8.4-json>\nphp-json\n"
        "php-timer\nphpunit-diff\nphp-common\nphp8.4-common\nlibc6\n"
    )
    assert php_libraries(depends) == ["php-timer", "phpunit", "phpunit-diff"]
