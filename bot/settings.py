"""Settings: ``config.toml`` plus ``CAPBRIEF_*`` environment overrides; the token from env only.

Precedence, highest first: environment (``CAPBRIEF_SECTION__KEY``), then the TOML file
(``$CAPBRIEF_CONFIG`` or ``./config.toml``), then the defaults below. Unknown keys are errors.
The Discord token is read only from ``DISCORD_TOKEN`` and held as a :class:`SecretStr`, so it
prints as ``**********``. :func:`load_settings` turns any problem into one line naming the key.
"""

from __future__ import annotations

import os
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG = Path("config.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class DataSettings(_Section):
    provider: Literal["yahoo", "csv"] = "yahoo"
    csv_dir: Path | None = None
    history_start: str = "1900-01-01"
    refresh_overlap_sessions: int = Field(default=5, ge=0, le=60)
    max_concurrency: int = Field(default=2, ge=1, le=16)
    retries: int = Field(default=4, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    timeout_seconds: float = Field(default=20.0, gt=0.0, le=300.0)
    bundled_history: bool = True
    extend: dict[str, Path] = Field(default_factory=dict)


class UniverseSettings(_Section):
    indices: list[str] = Field(default_factory=lambda: ["^RUT", "^GSPC"])
    etfs: list[str] = Field(default_factory=lambda: ["IWM", "SPY"])
    drivers: list[str] = Field(
        default_factory=lambda: ["^TNX", "^IRX", "^VIX", "HYG", "LQD", "UUP"]
    )
    sectors: list[str] = Field(
        default_factory=lambda: [
            "XLF", "XLI", "XLK", "XLV", "XLY", "XLP", "XLU", "XLE", "XLB", "XLRE", "XLC",
            "KRE", "IWN", "IWO", "IJR", "MDY", "QQQ",
        ]
    )

    def symbols(self) -> list[str]:
        """Every symbol once, in declaration order."""
        seen: dict[str, None] = {}
        for sym in (*self.indices, *self.etfs, *self.drivers, *self.sectors):
            seen.setdefault(sym, None)
        return list(seen)


class StorageSettings(_Section):
    url: str = "sqlite:///data/capbrief.sqlite3"


class AnalyticsSettings(_Section):
    breakout_gap_days: int = Field(default=365, ge=1, le=3650)
    round_step: float = Field(default=100.0, gt=0)
    fred_dir: Path | None = None


class FredSettings(_Section):
    graph_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv"
    api_url: str = "https://api.stlouisfed.org/fred/series/observations"
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    timeout_seconds: float = Field(default=20.0, gt=0.0, le=300.0)
    revision_days: int = Field(default=90, ge=0, le=3650)
    refresh_hours: float = Field(default=6.0, ge=0.0, le=168.0)


class ChartSettings(_Section):
    theme: Literal["dark", "light"] = "dark"


class RenderSettings(_Section):
    pool_size: int = Field(default=2, ge=1, le=16)
    cache_entries: int = Field(default=256, ge=1)


class DiscordSettings(_Section):
    dev_guild_id: int | None = None
    #: None: as many shards as Discord recommends (GET /gateway/bot); a number fixes it.
    shard_count: int | None = Field(default=None, ge=1)
    #: The shards this process runs (None: all). Several processes split the range.
    shard_ids: list[int] | None = None

    @model_validator(mode="after")
    def _ids_need_count(self) -> DiscordSettings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count (the total across processes)")
            if not self.shard_ids or any(not 0 <= i < self.shard_count for i in self.shard_ids):
                raise ValueError(f"shard_ids must lie in 0..{self.shard_count - 1}")
        return self
    cooldown_rate: int = Field(default=3, ge=1)
    cooldown_seconds: float = Field(default=30.0, gt=0)


class BriefingSettings(_Section):
    default_time: time = time(8, 30)
    default_timezone: str = "America/New_York"
    misfire_grace_minutes: int = Field(default=60, ge=1, le=24 * 60)
    max_failures: int = Field(default=3, ge=1)
    fanout_concurrency: int = Field(default=5, ge=1, le=50)
    #: Posts per second from this process (Discord allows 50 requests/s per token in all:
    #: with N processes, give each at most 45/N).
    send_rate: float = Field(default=45.0, gt=0, le=50)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    #: A stable name per deployment slot (never shared by two live processes); unset: host-pid.
    instance: str | None = None
    lease_minutes: int = Field(default=5, ge=1, le=60)
    claim_batch: int = Field(default=100, ge=1, le=1000)
    compose_retry_minutes: int = Field(default=5, ge=1, le=60)
    retention_days: int = Field(default=90, ge=1)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"an IANA time zone such as America/New_York, not {value!r}") from exc
        return value


class HealthSettings(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_data_age_sessions: int = Field(default=2, ge=0)
    probe_seconds: float = Field(default=300.0, gt=0)


class AlertsSettings(_Section):
    """Alert events (``docs/alerts.md``); mapped 1:1 onto ``analytics.alerts.AlertParams``."""

    rut_step: float = Field(default=100.0, gt=0)
    spx_step: float = Field(default=250.0, gt=0)
    level_band: float = Field(default=0.01, ge=0.0, lt=1.0)
    ma_windows: list[int] = Field(default_factory=lambda: [50, 200])
    ma_confirm: int = Field(default=3, ge=1, le=20)
    cycle_swing: float = Field(default=0.15, gt=0.0, lt=1.0)
    drought_years: list[int] = Field(default_factory=lambda: [1, 2, 3])
    horizons: list[int] = Field(default_factory=lambda: [21, 63, 252])
    delay_minutes: int = Field(default=30, ge=0, le=720)
    check_minutes: int = Field(default=15, ge=1, le=60)
    max_per_day: int = Field(default=1, ge=1, le=10)
    grace_minutes: int = Field(default=240, ge=1, le=24 * 60)
    catch_up_sessions: int = Field(default=10, ge=1, le=250)


class Settings(BaseSettings):
    """Everything but secrets. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="CAPBRIEF_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    logging: LoggingSettings = LoggingSettings()
    data: DataSettings = DataSettings()
    universe: UniverseSettings = UniverseSettings()
    storage: StorageSettings = StorageSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    fred: FredSettings = FredSettings()
    charts: ChartSettings = ChartSettings()
    render: RenderSettings = RenderSettings()
    discord: DiscordSettings = DiscordSettings()
    briefing: BriefingSettings = BriefingSettings()
    health: HealthSettings = HealthSettings()
    alerts: AlertsSettings = AlertsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the TOML file, which arrives as init kwargs.
        return env_settings, init_settings


class Secrets(BaseSettings):
    """Secrets come from the environment only, never from the config file: ``DISCORD_TOKEN``,
    or ``DISCORD_TOKEN_FILE`` naming a file that holds it (Docker/compose secrets)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_token_file: Path | None = Field(default=None, validation_alias="DISCORD_TOKEN_FILE")

    def token(self) -> SecretStr | None:
        """``DISCORD_TOKEN`` if set and not blank, else the stripped contents of
        ``DISCORD_TOKEN_FILE``; None when neither gives one. An unreadable file is a
        :class:`ConfigError` naming the file (never its contents)."""
        if self.discord_token is not None and self.discord_token.get_secret_value().strip():
            return SecretStr(self.discord_token.get_secret_value().strip())
        if self.discord_token_file is None:
            return None
        try:
            text = self.discord_token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config error: DISCORD_TOKEN_FILE: cannot read "
                              f"{self.discord_token_file} ({type(exc).__name__})") from None
        return SecretStr(text) if text else None


class ConfigError(Exception):
    """A bad or missing setting; ``str()`` is one line naming the key and what was expected."""


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key (see config.example.toml for the valid keys)"
    given = first.get("input")
    hide = isinstance(given, dict) or first["type"] == "extra_forbidden"
    shown = "" if hide else f" (got {given!r})"
    return f"config error: {key}: {msg}{shown}"


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a :class:`ConfigError`."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config error: {path}: not valid TOML ({exc})") from exc


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from ``path`` (or ``$CAPBRIEF_CONFIG``, or ``./config.toml`` if present)."""
    env_path = os.environ.get("CAPBRIEF_CONFIG")
    explicit = path or (Path(env_path) if env_path else None)
    if explicit is not None and not explicit.is_file():
        raise ConfigError(f"config error: {explicit}: file not found")
    source = explicit or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    raw = read_toml(source) if source else {}
    if "discord_token" in raw or "token" in raw.get("discord", {}):
        raise ConfigError("config error: discord.token: the token is read only from DISCORD_TOKEN")
    try:
        return Settings(**raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def load_secrets() -> Secrets:
    return Secrets()
