"""The operator's configuration: `config.toml` read once into frozen, validated types."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.errors import ConfigError

Language = Literal["ar", "fr", "en"]
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
METRICS_TOKEN_ENV = "AKHBAR_METRICS_TOKEN"
DATABASE_URL_ENV = "AKHBAR_DATABASE_URL"
_SECRET_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# What @BotFather hands out: the bot's id, a colon, then letters, digits, "_" and "-".
TOKEN_FORM = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}")
FREE_BROADCAST_PER_SECOND = 30  # Telegram's limit without paid broadcasts


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError("must be an http:// or https:// address")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TelegramConfig(_Section):
    token: SecretStr = SecretStr("")
    api_base_url: str = "https://api.telegram.org/bot"
    poll_timeout_seconds: Annotated[int, Field(ge=0, le=50)] = 30
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_/-]{0,200}$")] = "/telegram"
    secret_token: SecretStr = SecretStr("")
    max_connections: Annotated[int, Field(ge=1, le=100)] = 40

    @field_validator("api_base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        return _http_url(value).rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_http(cls, value: str) -> str:
        return _http_url(value) if value else value

    @field_validator("secret_token")
    @classmethod
    def _secret_chars(cls, value: SecretStr) -> SecretStr:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and -.
        secret = value.get_secret_value()
        if len(secret) > 256 or not set(secret) <= _SECRET_TOKEN_CHARS:
            raise ValueError("must be at most 256 characters among A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError('webhook_url is required when mode = "webhook"')
        return self


class HttpConfig(_Section):
    enabled: bool = True
    listen: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    metrics_token: SecretStr = SecretStr("")
    max_update_bytes: Annotated[int, Field(ge=1024, le=50_000_000)] = 1_000_000


class HealthConfig(_Section):
    outbox_stuck_seconds: Annotated[float, Field(gt=0)] = 600.0
    telegram_silence_seconds: Annotated[float, Field(gt=0)] = 180.0


class LoggingConfig(_Section):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class BackupConfig(_Section):
    enabled: bool = False
    directory: str = "backups"
    interval_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    keep: Annotated[int, Field(ge=1, le=1000)] = 7


def postgres_url_problem(url: str) -> str | None:
    """What makes `url` unusable as a postgresql:// URL, in words that never quote it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return "is not a URL of the form postgresql://user:password@host:port/database"
    if not parts.hostname:
        return "names no host: postgresql://user:password@host:port/database"
    return None


class StorageConfig(_Section):
    path: str = "data/akhbar.sqlite3"
    # postgresql://user:password@host:port/database selects PostgreSQL instead of `path`.
    url: SecretStr | None = None
    pool_size: Annotated[int, Field(ge=2, le=100)] = 10
    # Longer than the oldest news a digest offers (30 days, bot.subscriptions.selection.HORIZON).
    keep_history_days: Annotated[int, Field(ge=31, le=3650)] = 31

    @field_validator("path")
    @classmethod
    def _file_path(cls, value: str) -> str:
        # A URI would be read as a file name by some steps and as a URI by others (the send
        # schedules' side file is named after it).
        if value.startswith("file:"):
            raise ValueError("is a file path, not a URI: write it as data/akhbar.sqlite3")
        return value

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("must start with postgresql:// (leave it out for SQLite)")
        if value is not None and (problem := postgres_url_problem(value.get_secret_value())):
            raise ValueError(problem)
        return value

    @property
    def location(self) -> str:
        """Where the database is: the PostgreSQL URL if set, else the SQLite file."""
        return self.path if self.url is None else self.url.get_secret_value()

    @property
    def is_postgres(self) -> bool:
        return self.location.startswith(("postgresql://", "postgres://"))


class BotConfig(_Section):
    default_language: Language = "ar"
    timezone: str = "Africa/Casablanca"
    page_size: Annotated[int, Field(ge=1, le=20)] = 8
    load_sample_news: bool = True
    admin_chat_id: int | None = None
    date_style: Literal["long", "numeric"] = "long"
    arabic_locale: Literal["ar_MA", "ar_DZ", "ar_TN", "ar_EG", "ar_SA", "ar"] = "ar_MA"
    digits: Literal["latn", "arab"] = "latn"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class IngestionConfig(_Section):
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20.0
    max_bytes: Annotated[int, Field(ge=1024)] = 5_000_000
    max_title_chars: Annotated[int, Field(ge=20, le=4000)] = 500
    max_body_chars: Annotated[int, Field(ge=100, le=10_000_000)] = 100_000
    max_redirects: Annotated[int, Field(ge=0, le=10)] = 3
    user_agent: str = "Akhbar/0.1 (news bot)"
    # Source polling (one loop over the database's due sources).
    concurrency: Annotated[int, Field(ge=1, le=512)] = 16
    per_host_concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    jitter_fraction: Annotated[float, Field(ge=0, le=0.5)] = 0.1
    max_backoff_hours: Annotated[float, Field(gt=0, le=24 * 7)] = 24.0
    alert_after_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 6.0
    # Networks (CIDR) sources may resolve to although loopback/private/link-local: the bot
    # refuses them by default so it cannot be used to probe the operator's own network.
    allowed_networks: tuple[str, ...] = ()
    max_opml_bytes: Annotated[int, Field(ge=1024, le=50_000_000)] = 1_000_000

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        values = tuple(value) if isinstance(value, list) else value
        for item in values if isinstance(values, tuple) else ():
            try:
                ip_network(item, strict=False)
            except (TypeError, ValueError):
                raise ValueError(f"{item!r} is not a network like 127.0.0.0/8") from None
        return values


class DigestConfig(_Section):
    default_times: tuple[str, ...] = ("08:00",)
    default_count: Annotated[int, Field(ge=1, le=50)] = 10
    max_count: Annotated[int, Field(ge=1, le=100)] = 30
    max_per_source: Annotated[int, Field(ge=1, le=100)] = 3
    first_digest_hours: Annotated[int, Field(ge=1, le=720)] = 24
    misfire_grace_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    empty: Literal["skip", "note"] = "skip"
    max_schedules_per_chat: Annotated[int, Field(ge=1, le=50)] = 10

    @field_validator("default_times", mode="before")
    @classmethod
    def _times(cls, value: object) -> object:
        values = tuple(value) if isinstance(value, list) else value
        if values == ():
            # Every /subscribe gives a new subscriber these times: without one it would fail.
            raise ValueError('needs at least one time, e.g. default_times = ["08:00"]')
        for item in values if isinstance(values, tuple) else ():
            if not isinstance(item, str) or _parse_hhmm(item) is None:
                raise ValueError(f"{item!r} is not a time HH:MM")
        return values

    @field_validator("max_count")
    @classmethod
    def _not_below_default(cls, value: int, info: ValidationInfo) -> int:
        default = info.data.get("default_count")
        if default is not None and value < default:
            raise ValueError(
                f"{value} is below default_count ({default}): it must be at least that"
            )
        return value

    @property
    def misfire_grace(self) -> timedelta:
        return timedelta(minutes=self.misfire_grace_minutes)


class AutopostConfig(_Section):
    default_hourly_cap: Annotated[int, Field(ge=1, le=120)] = 10
    max_hourly_cap: Annotated[int, Field(ge=1, le=120)] = 60
    max_rules_per_chat: Annotated[int, Field(ge=1, le=50)] = 10
    more_news_headlines: Annotated[int, Field(ge=1, le=30)] = 15


def _parse_hhmm(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if len(value) == 5 else None
    except ValueError:
        return None


class DeliveryConfig(_Section):
    overall_per_second: Annotated[float, Field(gt=0, le=1000)] = 30.0
    per_chat_interval_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0
    per_group_per_minute: Annotated[float, Field(gt=0, le=600)] = 20.0
    # The most requests in flight; the engine sizes them from the rate × the round trip.
    concurrency: Annotated[int, Field(ge=1, le=512)] = 256
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    paid_broadcast: bool = False
    # Several processes share one database: a row a dead process held is taken over after this.
    lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # The claim id of this process's sender ("": host and process id, new on every start).
    worker_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{0,64}$")] = ""
    # `akhbar run` sends from a child process of its own (`akhbar deliver`), on a core of its own.
    own_process: bool = True

    @model_validator(mode="after")
    def _paid_rate(self) -> DeliveryConfig:
        if self.overall_per_second > FREE_BROADCAST_PER_SECOND and not self.paid_broadcast:
            raise ValueError(
                f"overall_per_second = {self.overall_per_second:g} is above"
                f" {FREE_BROADCAST_PER_SECOND}/s and needs paid_broadcast = true"
            )
        return self


class ModerationConfig(_Section):
    threshold: Annotated[int, Field(ge=1, le=100)] = 3
    admin_weight: Annotated[int, Field(ge=1, le=100)] = 1
    rate_limit_per_hour: Annotated[int, Field(ge=1, le=10_000)] = 20
    cooldown_hours: Annotated[float, Field(ge=0, le=24 * 365)] = 24.0
    phash_max_distance: Annotated[int, Field(ge=0, le=64)] = 8
    operator_ids: tuple[int, ...] = ()

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value


class SourceConfig(_Section):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    url: str
    kind: Literal["rss", "atom", "dump"] = "rss"
    language: Language = "ar"
    topics: tuple[str, ...] = ()
    poll_minutes: Annotated[int, Field(ge=1, le=1440)] = 30

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("topics", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value


class Config(_Section):
    telegram: TelegramConfig = TelegramConfig()
    storage: StorageConfig = StorageConfig()
    bot: BotConfig = BotConfig()
    ingestion: IngestionConfig = IngestionConfig()
    digests: DigestConfig = DigestConfig()
    autopost: AutopostConfig = AutopostConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    moderation: ModerationConfig = ModerationConfig()
    http: HttpConfig = HttpConfig()
    health: HealthConfig = HealthConfig()
    logging: LoggingConfig = LoggingConfig()
    backup: BackupConfig = BackupConfig()
    sources: tuple[SourceConfig, ...] = ()

    @field_validator("sources", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("sources")
    @classmethod
    def _distinct_names(cls, sources: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        seen: set[str] = set()
        for index, source in enumerate(sources):
            if source.name in seen:
                raise PydanticCustomError(
                    "duplicate_source",
                    "another source has this name; each [[sources]] needs its own",
                    {"index": index},
                )
            seen.add(source.name)
        return sources

    @property
    def token(self) -> str:
        return self.telegram.token.get_secret_value()


def load_config(path: Path, environ: dict[str, str] | None = None) -> Config:
    """Read and validate `path`, then apply the environment overrides; raise ConfigError."""
    environ = dict(os.environ) if environ is None else environ
    data = _read_toml(path)
    telegram = data.setdefault("telegram", {})
    if not isinstance(telegram, dict):
        raise ConfigError(f"{path}: [telegram] must be a table")
    if environ.get(TOKEN_ENV):
        telegram["token"] = environ[TOKEN_ENV]
    if environ.get(BASE_URL_ENV):
        telegram["api_base_url"] = environ[BASE_URL_ENV]
    if environ.get(WEBHOOK_SECRET_ENV):
        telegram["secret_token"] = environ[WEBHOOK_SECRET_ENV]
    if environ.get(DATABASE_URL_ENV):
        storage = data.setdefault("storage", {})
        if isinstance(storage, dict):
            storage["url"] = environ[DATABASE_URL_ENV]
    if environ.get(METRICS_TOKEN_ENV):
        http = data.setdefault("http", {})
        if isinstance(http, dict):
            http["metrics_token"] = environ[METRICS_TOKEN_ENV]
    relative_to = path.parent
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(path, error, data)) from None
    return _resolve_storage(config, relative_to)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start + 1})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


# What a TOML list of each list-valued key looks like, for the message when it is not one.
_LIST_EXAMPLES = {
    "topics": ("strings", 'topics = ["maroc"]'),
    "default_times": ("times", 'default_times = ["08:00"]'),
    "operator_ids": ("whole numbers", "operator_ids = [123456789]"),
    "sources": ("tables", '[[sources]] name = "hespress" …'),
}


def _describe(path: Path, error: ValidationError, data: dict) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    loc = tuple(first["loc"])
    if first["type"] == "duplicate_source":
        loc = (*loc, first["ctx"]["index"], "name")
    location = _key_name(loc, data)
    message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "tuple_type":
        key = next((str(p) for p in reversed(loc) if str(p) in _LIST_EXAMPLES), "")
        kind, example = _LIST_EXAMPLES.get(key, ("values", f"{key} = [ … ]"))
        message = f"must be a list of {kind}, e.g. {example}"
    return f"{path}: {location}: {message}"


def _key_name(loc: tuple, data: dict) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = _entry_name(parts[-1], item, data) if parts else f"[#{item + 1}]"
        elif not str(item).startswith(("function-", "constrained-")):
            parts.append(str(item))
    if len(parts) == 1:
        return parts[0]
    return f"[{parts[0]}] {'.'.join(parts[1:])}"


def _entry_name(table: str, index: int, data: dict) -> str:
    """`sources "hespress"` for the source of that name (`sources #2` for a nameless one,
    counted from 1 as people count tables); `operator_ids[0]` for a list's item."""
    entries = data.get(table)
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(name, str) and name:
        return f'{table} "{name}"'
    return f"{table} #{index + 1}" if isinstance(entry, dict) else f"{table}[{index}]"


def _resolve_storage(config: Config, base: Path) -> Config:
    config = _resolve_backups(config, base)
    path = Path(config.storage.path)
    if path.is_absolute() or config.storage.path == ":memory:":
        return config
    storage = config.storage.model_copy(update={"path": str(base / path)})
    return config.model_copy(update={"storage": storage})


def _resolve_backups(config: Config, base: Path) -> Config:
    if Path(config.backup.directory).is_absolute():
        return config
    backup = config.backup.model_copy(update={"directory": str(base / config.backup.directory)})
    return config.model_copy(update={"backup": backup})
