"""Settings mistakes an administrator makes in the first hour, each met through the CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_cli import run_cli

TOKEN = "f00dfacef00dfacef00dfacef00dface"


@pytest.fixture
def copied_example(tmp_path: Path) -> Path:
    """The README's first step: the example settings copied to config/moodle-sync.toml."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "moodle-sync.example.toml", tmp_path / "config/moodle-sync.toml")
    shutil.copy(REPO / "config" / "programme.toml", tmp_path / "config/programme.toml")
    return tmp_path


def test_the_readme_steps_work_with_an_exported_token(copied_example: Path) -> None:
    result = run_cli("db", "upgrade", cwd=copied_example,
                     env={"MOODLE_SYNC_MOODLE__TOKEN": TOKEN})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (copied_example / "var" / "moodle-sync.db").exists()


def test_a_token_and_a_token_file_in_one_place_name_both_sources(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text(f"[moodle]\nurl='https://m.example'\ntoken='{TOKEN}'\ntoken_file='t'\n")
    (tmp_path / "t").write_text(TOKEN)
    result = run_cli("--config", str(config), "db", "upgrade")
    assert result.returncode == 2
    assert (
        f"moodle.token (from settings file {config}) and moodle.token_file "
        f"(from settings file {config}) are both set" in result.stderr
    )


@pytest.mark.parametrize(
    ("variable", "nearest"),
    [
        ("MOODLE_SYNC_DATABASE_URL", "MOODLE_SYNC_DATABASE__URL"),
        ("MOODLE_SYNC_MOODEL__URL", "MOODLE_SYNC_MOODLE__URL"),
        ("MOODLE_SYNC_LOGLEVEL", "MOODLE_SYNC_LOG_LEVEL"),
    ],
)
def test_a_misspelt_variable_exits_2_naming_the_nearest_setting(
    copied_example: Path, variable: str, nearest: str
) -> None:
    env = {"MOODLE_SYNC_MOODLE__TOKEN": TOKEN, variable: "x"}
    result = run_cli("db", "upgrade", cwd=copied_example, env=env)
    assert result.returncode == 2
    assert f"error: environment variable {variable}: not a setting" in result.stderr
    assert f"did you mean {nearest}?" in result.stderr


def test_a_missing_default_settings_file_is_named(tmp_path: Path) -> None:
    result = run_cli("check", cwd=tmp_path, env={"MOODLE_SYNC_MOODLE__TOKEN": TOKEN})
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: config/moodle-sync.toml: settings file not found"), first


def test_relative_paths_are_read_from_the_settings_files_folder(
    copied_example: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    config = copied_example / "config" / "moodle-sync.toml"
    result = run_cli("--config", str(config), "db", "upgrade", cwd=elsewhere,
                     env={"MOODLE_SYNC_MOODLE__TOKEN": TOKEN})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (copied_example / "var" / "moodle-sync.db").exists()
    assert not (elsewhere / "var").exists()


def test_pydantic_wording_is_not_shown(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text(
        "[worker]\nnightly_at = '2am'\n[push]\ncredits_field = 'Credits'\nbogus = 1\n"
    )
    result = run_cli("--config", str(config), "db", "upgrade")
    assert result.returncode == 2
    for raw in ("Extra inputs", "String should match pattern", "Field required"):
        assert raw not in result.stderr
    assert "push.bogus: unknown setting" in result.stderr


def test_every_variable_ci_and_the_test_harness_export_is_one_the_cli_accepts() -> None:
    """CI runs the CLI with these set: an unknown one would make every command exit 2."""
    from moodle_sync.settings import OTHER_VARIABLES, TEST_VARIABLE_PREFIX, setting_variables

    known = set(setting_variables()) | OTHER_VARIABLES
    sources = [
        REPO / ".ci" / "run",
        REPO / "tests" / "postgres.py",
        REPO / "tests" / "live" / "conftest.py",
    ]
    exported = {n for f in sources for n in re.findall(r"MOODLE_SYNC_[A-Z_]+", f.read_text())}
    strays = {n for n in exported if n not in known and not n.startswith(TEST_VARIABLE_PREFIX)}
    assert strays == set()
