"""Service configuration: frozen, typed, from the environment or a file.

Environment variables are prefixed ``ALPHINTRA_`` (``DATABASE_URL`` and ``REDIS_URL``
are read as they are). A configuration file (JSON or YAML) may set the same fields;
an unknown key in it is an error. Outside demo mode the service refuses to start
with a default or missing secret.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alphintra.app.simulated_venues import SimulatedVenueSettings
from alphintra.app.venue_config import VenueConnection
from alphintra.risk.limits_mapping import RiskLimitsBook
from alphintra.risk.monitor_mapping import MonitorLimitsBook
from alphintra.security import DEFAULT_DEMO_JWT_SECRET
from alphintra.signals.sizing_book import SizingBook

DEMO_PEPPER = base64.b64encode(b"alphintra-demo-pepper-not-secret-0123456789").decode()
REPO_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "market"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field and the value."""


class Settings(BaseSettings):
    """Every setting of the service."""

    model_config = SettingsConfigDict(env_prefix="ALPHINTRA_", extra="forbid", frozen=True)

    demo: bool = False
    """Demo mode: default secrets allowed, a demo user, key and account are created."""
    database_url: str = Field(
        default="sqlite:///var/alphintra.db",
        validation_alias=AliasChoices("DATABASE_URL", "ALPHINTRA_DATABASE_URL", "database_url"),
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "ALPHINTRA_REDIS_URL", "redis_url")
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: str = Field(default=DEFAULT_DEMO_JWT_SECRET, repr=False)
    api_key_pepper: str = Field(default=DEMO_PEPPER, repr=False)
    """Base64 of at least 32 random bytes; API key hashes depend on it."""
    api_key_cache_ttl_s: float = Field(default=1.0, ge=0, le=60)
    """Seconds an active API key is trusted without asking the database again. A key
    revoked by this service's process is refused at once; one revoked by another process
    (``alphintra keys revoke``, another node) within this time. 0: ask every request."""
    market_data_dir: Path | None = REPO_DATA
    feed_interval_ms: int = Field(default=250, ge=10, le=60_000)
    risk_snapshot_interval_s: int = Field(default=60, ge=1, le=86_400)
    """How often each account's risk report is stored (``GET /risk/metrics/history``)."""
    demo_starting_cash: str = "1000000"
    alert_webhook_url: str | None = None
    """Slack-compatible webhook for risk alerts."""
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    journal_synchronous: str = Field(default="NORMAL", pattern="^(NORMAL|FULL)$")
    sqlite_checkpoint_interval_ms: int = Field(default=100, ge=0, le=60_000)
    """SQLite only: how often a worker thread checkpoints the write-ahead log, so that
    commits on the event loop rarely have to (``service/checkpoint.py``). 0: SQLite's
    automatic checkpoints only."""
    venues: dict[str, VenueConnection] = Field(default_factory=dict)
    """Live venue connections by venue ID (``venue_config.py``); keys come per account."""
    failover: dict[str, list[str]] = Field(default_factory=dict)
    """Per instrument, the venues new orders may go to, primary first."""
    simulated_venues: list[SimulatedVenueSettings] = Field(default_factory=list)
    """Extra simulated venues beside ``SIM`` (``simulated_venues.py``), for routing."""
    venue_health_interval_s: float = Field(default=2.0, gt=0, le=600)
    reconcile_interval_s: float = Field(default=30.0, gt=0, le=86_400)
    account_recovery_interval_s: float = Field(default=5.0, ge=0, le=3_600)
    """How often an account stopped by a failed journal commit is rebuilt from its
    journal (backing off while it fails); 0: only a restart brings it back. Never after
    a conflict with another writer."""
    risk_limits: dict[str, Any] = Field(default_factory=dict)
    """Pre-trade risk limits: ``{"defaults": {...}, "accounts": {ID: {...}}}`` in the form
    of ``alphintra.risk.limits_mapping`` (an account's entry overlays the defaults).
    Limits later set over ``PUT /api/v1/risk/limits`` replace these for that account,
    across restarts."""
    risk_monitors: dict[str, Any] = Field(default_factory=dict)
    """Monitor thresholds (drawdown, daily loss, volatility breaker), in the same shape,
    in the form of ``alphintra.risk.monitor_mapping``."""

    sizing: dict[str, Any] = Field(default_factory=dict)
    """Sizing policies of signals without a quantity: ``{"defaults": POLICY, "accounts":
    {ID: POLICY}}``, each POLICY ``{"kind": ..., ...}`` (``alphintra.signals.sizing``) or
    null. A policy later set over ``PUT /api/v1/accounts/{id}/sizing`` replaces it for
    that account, across restarts."""

    @field_validator("sizing")
    @classmethod
    def _check_sizing(cls, value: dict[str, Any]) -> dict[str, Any]:
        SizingBook.from_mapping(value)
        return value

    def sizing_book(self) -> SizingBook:
        """Return the configured sizing policies (``ValueError`` naming a bad entry)."""
        return SizingBook.from_mapping(self.sizing)

    @field_validator("risk_limits")
    @classmethod
    def _check_risk_limits(cls, value: dict[str, Any]) -> dict[str, Any]:
        RiskLimitsBook.from_mapping(value)
        return value

    @field_validator("risk_monitors")
    @classmethod
    def _check_risk_monitors(cls, value: dict[str, Any]) -> dict[str, Any]:
        MonitorLimitsBook.from_mapping(value)
        return value

    def limits_book(self) -> RiskLimitsBook:
        """Return the configured risk limits (``ValueError`` naming a bad entry)."""
        return RiskLimitsBook.from_mapping(self.risk_limits)

    def monitors_book(self) -> MonitorLimitsBook:
        """Return the configured monitor thresholds (``ValueError`` naming a bad entry)."""
        return MonitorLimitsBook.from_mapping(self.risk_monitors)

    def pepper_bytes(self) -> bytes:
        """Return the API key pepper."""
        try:
            return base64.b64decode(self.api_key_pepper, validate=True)
        except ValueError:
            raise ConfigError("api_key_pepper must be base64") from None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from the environment, then ``path`` (JSON/YAML), then overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{path}: expected a mapping of settings, got {type(loaded).__name__}"
            )
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {field}: {first['msg']} (got {first.get('input')!r})") from None
