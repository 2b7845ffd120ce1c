"""Settings: file plus environment, every problem reported on its own line, secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.errors import ConfigurationError
from moodle_sync.settings import load_settings, site_root

TOKEN = "f00dfacef00dfacef00dfacef00dface"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings leak in from the developer's shell; the default file is absent."""
    for name in list(__import__("os").environ):
        if name.startswith("MOODLE_SYNC_") and name not in (
            "MOODLE_SYNC_TEST_POSTGRES_URL",
            "MOODLE_SYNC_REQUIRE_POSTGRES",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path | None = None) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    return caught.value.problems


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, f'[moodle]\nurl = "https://a.example"\ntoken = "{TOKEN}"\n')
    monkeypatch.setenv("MOODLE_SYNC_MOODLE__URL", "https://b.example/")
    monkeypatch.setenv("MOODLE_SYNC_DATABASE__URL", "sqlite:///x.db")
    settings = load_settings(path)
    assert settings.require_moodle().url == "https://b.example"
    assert settings.database.url == "sqlite:///x.db"


def test_config_file_is_found_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'programme_file = "elsewhere.toml"\n')
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(path))
    monkeypatch.setenv("MOODLE_SYNC_REQUIRE_POSTGRES", "1")  # not a setting: tolerated
    assert load_settings().programme_file == tmp_path / "elsewhere.toml"


def test_token_never_appears_in_repr_or_str(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, f'[moodle]\nurl="https://a.example"\ntoken="{TOKEN}"'))
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert settings.require_moodle().secret_token().get_secret_value() == TOKEN


def test_token_may_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    path = write(tmp_path, f'[moodle]\nurl="https://a.example"\ntoken_file="{tmp_path}/token"')
    assert load_settings(path).require_moodle().secret_token().get_secret_value() == TOKEN


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('colour = "blue"', "colour: unknown setting (every setting is in config/moodle-sync.ex"),
        ('log_levle = "INFO"', "log_levle: unknown setting; did you mean log_level? (value 'INFO'"),
        ('[moodle]\nurl="https://a.example"\ntoken="t"\nread_timeout="soon"',
         "moodle.read_timeout: must be a valid number"),
        ("[moodle]\ntoken='t'", "moodle.url: required but not set (not set in the file or the env"),
        ('[worker]\nnightly_at="2am"', "worker.nightly_at: must be a 24-hour time HH:MM, for exa"),
        ('[moodle]\nurl="http://moodle.example.ac.uk"\ntoken="t"',
         "moodle.url: 'http://moodle.example.ac.uk' uses plain http to a non-loopback host"),
        ('[moodle]\nurl="https://a.example"\ntoken_file="/nonexistent/token"',
         "moodle.token_file: cannot read token file '/nonexistent/token'"),
        ('[moodle]\nurl="https://a.example"', "moodle: no web-service token"),
        ('[moodle]\nurl="https://a.example/?x=1"\ntoken="t"', "has a query string or fragment"),
        ('log_level = "LOUD"', "log_level: must be 'DEBUG'"),
        ("[moodle\nurl=1", "not valid TOML"),
    ],
)  # fmt: skip
def test_each_bad_setting_is_named_with_its_value_and_source(
    tmp_path: Path, toml: str, expected: str
) -> None:
    found = problems(write(tmp_path, toml))
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    found = problems(write(tmp_path, 'oops = 1\n[moodle]\nurl = "ftp://x"\ntoken = "t"\n'))
    assert len(found) == 2


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_SYNC_MOODLE__URL", "https://a.example")
    monkeypatch.setenv("MOODLE_SYNC_MOODLE__TOKEN", TOKEN)
    monkeypatch.setenv("MOODLE_SYNC_MOODLE__CONNECT_TIMEOUT", "-1")
    (found,) = problems()
    assert "environment variable MOODLE_SYNC_MOODLE__CONNECT_TIMEOUT" in found


def test_a_secret_value_is_masked_in_errors(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "[moodle]\nurl='https://a.example'\ntoken=12345678"))
    assert "12345678" not in " ".join(found)
    assert any("moodle.token" in problem and "'**********'" in problem for problem in found)


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    assert problems(tmp_path / "missing.toml") == [
        f"{tmp_path}/missing.toml: settings file not found"
    ]


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://m.example/", "https://m.example"),
        ("https://m.example/moodle/webservice/rest/server.php", "https://m.example/moodle"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("http://localhost/moodle/", "http://localhost/moodle"),
    ],
)
def test_site_address_is_normalised_to_the_site_root(given: str, root: str) -> None:
    assert site_root(given, allow_insecure_http=False) == root


def test_plain_http_is_allowed_only_when_asked_for() -> None:
    assert site_root("http://moodle.lan", allow_insecure_http=True) == "http://moodle.lan"
    with pytest.raises(ValueError, match="non-loopback"):
        site_root("http://moodle.lan", allow_insecure_http=False)
