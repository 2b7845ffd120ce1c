"""Settings: one TOML file, overridden by `MOODLE_SYNC_*` environment variables.

Validated once, at start-up, with every problem reported together: the setting's dotted
name, the bad value (secrets masked) and where it came from, so an administrator can fix a
broken deployment from one error message, in plain words rather than pydantic's. The
web-service token is a `SecretStr` and is read from `moodle.token` or from the file named by
`moodle.token_file`, never both from one place; one given in the environment wins over the
other named in the settings file. A `MOODLE_SYNC_*` variable that is no setting is an error
naming the nearest real one, and relative paths in the settings file are read from the file's
own folder.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from moodle_sync.errors import ConfigurationError

ENV_PREFIX = "MOODLE_SYNC_"
CONFIG_ENV = "MOODLE_SYNC_CONFIG"
DEFAULT_CONFIG = Path("config/moodle-sync.toml")
WS_PATH = "/webservice/rest/server.php"
SECRET_NAMES = frozenset({"token", "password", "userprivateaccesskey"})
# MOODLE_SYNC_* variables that are not settings: the settings file, and the test suite's own.
# The test harness's switches: CI exports them, and the CLI runs under them in the tests.
OTHER_VARIABLES = frozenset(
    {
        CONFIG_ENV,
        "MOODLE_SYNC_REQUIRE_POSTGRES",
        "MOODLE_SYNC_REQUIRE_LIVE",
        "MOODLE_SYNC_LIVE_SITE",
    }
)
TEST_VARIABLE_PREFIX = "MOODLE_SYNC_TEST_"
# Settings whose value is a file or folder: relative ones are read from the settings file's folder.
PATH_SETTINGS = (("programme_file",), ("push", "templates_dir"), ("moodle", "token_file"))
# What a pattern or a pydantic error means, in the words the programme-file errors use.
PATTERN_MEANINGS = {
    "nightly_at": "must be a 24-hour time HH:MM, for example '02:00'",
    "progression_field": "must be a profile field's shortname: lower-case letters, digits, _",
    "credits_field": "must be a profile field's shortname: lower-case letters, digits, _",
}
PLAIN_WORDS = {
    "missing": "required but not set",
    "extra_forbidden": "unknown setting",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoodleSettings(_Section):
    """How to reach the Moodle site, and how politely."""

    allow_insecure_http: bool = False  # declared before url, which is checked against it
    url: str
    token: SecretStr | None = None
    token_file: Path | None = None
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    verify_tls: bool | str = True
    max_input_vars: int = Field(900, ge=10)
    max_ids_per_call: int = Field(200, ge=1)
    max_attempts: int = Field(5, ge=1)
    retry_budget: int = Field(100, ge=0)
    max_concurrent_requests: int = Field(4, ge=1)
    max_requests_per_second: float = Field(0.0, ge=0)  # 0: only the concurrency bound

    @field_validator("url")
    @classmethod
    def _site_root(cls, url: str, info: ValidationInfo) -> str:
        return site_root(url, bool(info.data.get("allow_insecure_http")))

    @field_validator("token_file")
    @classmethod
    def _readable(cls, path: Path | None) -> Path | None:
        if path is not None:
            read_token_file(path)
        return path

    @model_validator(mode="after")
    def _one_token(self) -> MoodleSettings:
        if self.token is not None and self.token_file is not None:
            raise ValueError(BOTH_TOKENS)
        if self.token is None and self.token_file is None:
            raise ValueError(
                "no web-service token: set MOODLE_SYNC_MOODLE__TOKEN or moodle.token_file"
            )
        if self.token_file is not None:
            object.__setattr__(self, "token", SecretStr(read_token_file(self.token_file)))
        return self

    @property
    def endpoint(self) -> str:
        return self.url + WS_PATH

    def secret_token(self) -> SecretStr:
        assert self.token is not None  # guaranteed by _one_token
        return self.token


BOTH_TOKENS = "give moodle.token or moodle.token_file, not both"


class DatabaseSettings(_Section):
    """Where the service keeps its copy of Moodle and its outbox."""

    url: str = "sqlite:///var/moodle-sync.db"


class SyncSettings(_Section):
    """How the pull reads Moodle incrementally."""

    # Re-read this much before each bookmark: late grade edits and clock skew between Moodle
    # and this service must not slip past a bookmark.
    safety_window_seconds: int = Field(600, ge=0)


class PushSettings(_Section):
    """What may be sent to Moodle, and the limits that keep a bad run from spamming people."""

    max_messages_per_run: int = Field(500, ge=0)
    batch_size: int = Field(100, ge=1, le=200)
    opt_out_users: tuple[int, ...] = ()
    interrupted_users: tuple[int, ...] = ()
    progression_field: str = Field("cetad_progression", pattern=r"^[a-z0-9_]+$")
    credits_field: str = Field("cetad_credits", pattern=r"^[a-z0-9_]+$")
    templates_dir: Path = Path("config/templates")


class WorkerSettings(_Section):
    """When the scheduled worker runs the pipeline, and how runs keep out of each other's way."""

    nightly_at: str = Field("02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # Europe/London
    full_sync_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "sun"
    hourly_in_send_window: bool = True  # an incremental run every hour inside the window
    misfire_grace_seconds: int = Field(3600, ge=1)
    lock_wait_seconds: float = Field(0, ge=0)  # how long a second runner waits for the lock
    lock_lease_seconds: int = Field(300, ge=30)  # a crashed holder's lock expires after this


class AlertSettings(_Section):
    """Who hears about failed or partial runs (Moodle user ids of programme administrators)."""

    admin_users: tuple[int, ...] = ()


class RetentionSettings(_Section):
    """UK GDPR: personal data of people who left every programme course is kept this long."""

    personal_data_days: int = Field(730, ge=1)


class Settings(BaseSettings):
    """Everything the service reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    moodle: MoodleSettings | None = None
    database: DatabaseSettings = DatabaseSettings()
    sync: SyncSettings = SyncSettings()
    push: PushSettings = PushSettings()
    worker: WorkerSettings = WorkerSettings()
    alerts: AlertSettings = AlertSettings()
    retention: RetentionSettings = RetentionSettings()
    programme_file: Path = Path("config/programme.toml")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    _missing_default_file: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file; the file arrives as init kwargs.
        return (env_settings, init_settings)

    def require_moodle(self) -> MoodleSettings:
        """The Moodle section, for commands that talk to Moodle."""
        if self.moodle is None:
            problems = [
                "moodle.url: missing (set [moodle] url in the settings file "
                "or MOODLE_SYNC_MOODLE__URL)"
            ]
            if self._missing_default_file is not None:
                problems.insert(0, default_file_missing(self._missing_default_file))
            raise ConfigurationError(problems)
        return self.moodle


def site_root(url: str, allow_insecure_http: bool) -> str:
    """Normalise a Moodle address to its site root, refusing what would leak the token."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) address of a Moodle site")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r} has a query string or fragment; give the site address only")
    if parts.scheme == "http" and not (allow_insecure_http or is_loopback(parts.hostname)):
        raise ValueError(
            f"{url!r} uses plain http to a non-loopback host, which would send the token "
            "unencrypted; use https, or set moodle.allow_insecure_http = true"
        )
    path = parts.path.rstrip("/")
    path = path.removesuffix(WS_PATH).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token_file(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read token file {str(path)!r}: {exc.strerror}") from None
    if not token:
        raise ValueError(f"token file {str(path)!r} is empty")
    return token


def config_path(
    explicit: Path | None, environ: Mapping[str, str] = os.environ
) -> tuple[Path, bool]:
    """The settings file to read, and whether someone asked for it by name."""
    if explicit is not None:
        return explicit, True
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]), True
    return DEFAULT_CONFIG, False


def read_config_file(path: Path, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigurationError([f"{path}: settings file not found"])
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError([f"{path}: not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ConfigurationError([f"{path}: cannot read: {exc.strerror}"]) from None


def load_settings(explicit: Path | None = None) -> Settings:
    """Read the file and environment; raise `ConfigurationError` listing every problem."""
    path, required = config_path(explicit)
    data = resolve_paths(read_config_file(path, required), path.parent)
    data = environment_token_wins(data, os.environ)
    missing_default = None if required or path.exists() else path
    problems = unknown_variables(os.environ)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems += [describe_problem(err, data, path) for err in exc.errors()]
        if missing_default is not None and any(e["type"] == "missing" for e in exc.errors()):
            problems.insert(0, default_file_missing(missing_default))
        settings = None
    if problems:
        raise ConfigurationError(problems)
    assert settings is not None
    settings._missing_default_file = missing_default
    return settings


def default_file_missing(path: Path) -> str:
    return (
        f"{path}: settings file not found (the default; copy config/moodle-sync.example.toml "
        f"there, or give --config PATH or {CONFIG_ENV})"
    )


def resolve_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative paths in the file (and a relative SQLite file) read from the file's folder."""
    for *sections, key in PATH_SETTINGS:
        node: Any = data
        for section in sections:
            node = node.get(section) if isinstance(node.get(section), dict) else {}
        if isinstance(node.get(key), str) and not Path(node[key]).expanduser().is_absolute():
            node[key] = str(folder / node[key])
    database = data.get("database")
    if isinstance(database, dict) and isinstance(database.get("url"), str):
        database["url"] = resolve_sqlite_url(database["url"], folder)
    return data


def resolve_sqlite_url(url: str, folder: Path) -> str:
    prefix = "sqlite:///"
    rest = url.removeprefix(prefix)
    if not url.startswith(prefix) or rest.startswith("/") or rest in ("", ":memory:"):
        return url
    return prefix + str(folder / rest)


def environment_token_wins(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """A token (or token file) given in the environment replaces the file's other one."""
    moodle = data.get("moodle")
    if not isinstance(moodle, dict):
        return data
    names = {key.upper() for key in environ}
    for env_key, file_key in (("TOKEN", "token_file"), ("TOKEN_FILE", "token")):
        if f"{ENV_PREFIX}MOODLE__{env_key}" in names:
            moodle.pop(file_key, None)
    return data


def setting_variables() -> dict[str, str]:
    """Every environment variable that sets something: name -> the setting's dotted name."""
    names: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        names[ENV_PREFIX + name.upper()] = name
        section = field.annotation
        section = next(
            (a for a in getattr(section, "__args__", ()) if a is not type(None)), section
        )
        if isinstance(section, type) and issubclass(section, BaseModel):
            for sub in section.model_fields:
                names[f"{ENV_PREFIX}{name.upper()}__{sub.upper()}"] = f"{name}.{sub}"
    return names


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A line for each `MOODLE_SYNC_*` variable that sets nothing, naming the nearest that does."""
    known = list(setting_variables()) + sorted(OTHER_VARIABLES)
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        if upper.startswith(TEST_VARIABLE_PREFIX):
            continue
        nearest = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
        hint = f"; did you mean {nearest[0]}?" if nearest else ""
        problems.append(
            f"environment variable {name}: not a setting, so it would be ignored{hint} "
            "(every setting is in config/moodle-sync.example.toml)"
        )
    return problems


def describe_problem(err: Mapping[str, Any], data: Mapping[str, Any], path: Path) -> str:
    """One line: `setting: what is wrong (value ..., from ...)`, secrets masked."""
    loc = [str(part) for part in err["loc"]]
    name = ".".join(loc) or "(settings)"
    message = plain_message(err, loc)
    if message == BOTH_TOKENS:
        token = setting_source([*loc, "token"], data, path)
        token_file = setting_source([*loc, "token_file"], data, path)
        return (
            f"{name}: moodle.token (from {token}) and moodle.token_file (from {token_file}) "
            "are both set: keep one"
        )
    source = setting_source(loc, data, path)
    value = err.get("input")
    if err["type"] == "missing" or isinstance(value, Mapping):
        return f"{name}: {message} ({source})"
    shown = "'**********'" if loc[-1] in SECRET_NAMES else repr(value)
    return f"{name}: {message} (value {shown}, from {source})"


def plain_message(err: Mapping[str, Any], loc: list[str]) -> str:
    """Pydantic's wording said as the programme-file errors say it."""
    kind = str(err["type"])
    if kind == "string_pattern_mismatch" and loc[-1] in PATTERN_MEANINGS:
        return PATTERN_MEANINGS[loc[-1]]
    if kind == "extra_forbidden":
        return PLAIN_WORDS[kind] + nearest_setting(loc)
    if kind in PLAIN_WORDS:
        return PLAIN_WORDS[kind]
    message = str(err["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be").replace("String should", "must")


def nearest_setting(loc: list[str]) -> str:
    """'; did you mean moodle.url?' for a misspelt key, else where the keys are listed."""
    known = [dotted for dotted in setting_variables().values() if "." in dotted or len(loc) == 1]
    nearest = difflib.get_close_matches(".".join(loc), known, n=1, cutoff=0.6)
    if nearest:
        return f"; did you mean {nearest[0]}?"
    return " (every setting is in config/moodle-sync.example.toml)"


def setting_source(loc: list[str], data: Mapping[str, Any], path: Path) -> str:
    env_name = ENV_PREFIX + "__".join(loc).upper()
    if any(key.upper() == env_name for key in os.environ):
        return f"environment variable {env_name}"
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return "not set in the file or the environment" if loc else str(path)
        node = node[part]
    return f"settings file {path}"
