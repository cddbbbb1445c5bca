"""Configuration of the ccxt adapter: frozen, typed, and strict about unknown keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from alphintra.domain.identifiers import InstrumentId, VenueId


class MarketType(StrEnum):
    """Which of an exchange's markets the adapter trades."""

    SPOT = "spot"
    SWAP = "swap"
    """Linear perpetual swaps (for example Binance USDⓈ-M)."""


class OrderStream(StrEnum):
    """How order updates reach the engine."""

    AUTO = "auto"
    """The user-data WebSocket where the exchange profile has one, else polling."""
    WEBSOCKET = "websocket"
    """ccxt.pro ``watch_orders`` and ``watch_my_trades``, with a REST catch-up."""
    POLLING = "polling"
    """REST polling every ``poll_interval_s``."""


class CcxtConfigError(ValueError):
    """The adapter configuration is invalid; the message names the field and the value."""


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class CcxtConfig:
    """How to reach and trade one ccxt exchange.

    ``base_url`` points every REST endpoint family of a known exchange (see
    ``profiles.py``) at one host, for local fakes and proxies; ``api_urls`` sets
    individual ``exchange.urls['api']`` entries and wins over ``base_url``.
    """

    exchange_id: str
    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    sandbox: bool = False
    """Use the exchange's testnet (ccxt ``set_sandbox_mode``); refused where none exists."""
    market_type: MarketType = MarketType.SPOT
    base_url: str | None = None
    api_urls: Mapping[str, str] = field(default_factory=dict)
    venue_id: VenueId | None = None
    """Defaults to the upper-cased exchange id."""
    instruments: tuple[InstrumentId, ...] = ()
    """Instruments to scan for fills when the exchange needs a symbol per trade query."""
    symbol_overrides: Mapping[str, str] = field(default_factory=dict)
    """Our instrument id to ccxt unified symbol, where the automatic mapping is wrong."""
    timeout_s: float = 10.0
    enable_rate_limit: bool = True
    """ccxt's own client-side throttle (per exchange ``rateLimit``): every REST request,
    the streams' included, waits for its endpoint's cost."""
    rate_limit_ms: float | None = None
    """Milliseconds per ccxt cost unit (ccxt ``rateLimit``); None keeps the exchange's
    default (Binance: 50 ms per unit of 5 weight, its 6 000 weight a minute)."""
    rate_limit_window_s: float | None = None
    """Use ccxt's rolling-window limiter over this many seconds: at most
    ``window / rate_limit_ms`` cost units in any window as sent (None: ccxt's leaky
    bucket). It releases bursts at window edges, which time in transit can push into
    one of the venue's windows; the evenly spaced leaky bucket with a margin is safer."""
    order_stream: OrderStream = OrderStream.AUTO
    poll_interval_s: float = 1.0
    """Period of the polling streams (quotes, order updates)."""
    max_backoff_s: float = 30.0
    verify_credentials_on_connect: bool = True
    """Read the balance during ``connect`` so that bad keys fail there, DEFINITIVE."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Extra ccxt ``options``, merged over the exchange profile's defaults."""

    def __post_init__(self) -> None:
        if not self.exchange_id or not self.exchange_id.isidentifier():
            raise CcxtConfigError(
                "exchange_id must be a ccxt exchange id such as 'binance', "
                f"got {self.exchange_id!r}"
            )
        market_type: object = self.market_type
        try:
            object.__setattr__(self, "market_type", MarketType(str(market_type)))
        except ValueError:
            raise CcxtConfigError(
                f"market_type must be one of {[m.value for m in MarketType]}, got {market_type!r}"
            ) from None
        if self.base_url is not None:
            _check_url("base_url", self.base_url)
        for key, url in self.api_urls.items():
            if not key:
                raise CcxtConfigError("api_urls keys must be ccxt URL keys, got an empty key")
            _check_url(f"api_urls[{key!r}]", url)
        try:
            object.__setattr__(self, "order_stream", OrderStream(str(self.order_stream)))
        except ValueError:
            raise CcxtConfigError(
                f"order_stream must be one of {[m.value for m in OrderStream]}, "
                f"got {self.order_stream!r}"
            ) from None
        for name in ("rate_limit_ms", "rate_limit_window_s"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise CcxtConfigError(f"{name} must be a positive number or unset, got {value!r}")
        for name in ("timeout_s", "poll_interval_s", "max_backoff_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise CcxtConfigError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.api_key and not self.secret:
            raise CcxtConfigError("secret must be set when api_key is set")
        object.__setattr__(self, "api_urls", _frozen(self.api_urls))
        object.__setattr__(self, "symbol_overrides", _frozen(self.symbol_overrides))
        object.__setattr__(self, "options", _frozen(self.options))
        object.__setattr__(self, "instruments", tuple(InstrumentId(i) for i in self.instruments))

    @property
    def venue(self) -> VenueId:
        """Return the venue id orders and fills are booked under."""
        return self.venue_id or VenueId(self.exchange_id.upper())

    @property
    def has_credentials(self) -> bool:
        """Return True when an API key and secret are configured."""
        return bool(self.api_key and self.secret)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CcxtConfig:
        """Build from a file or environment mapping; unknown keys are errors."""
        allowed = {f.name for f in fields(cls)}
        unknown = set(data) - allowed
        if unknown:
            raise CcxtConfigError(
                f"ccxt adapter config: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        values = dict(data)
        if "instruments" in values:
            values["instruments"] = tuple(values["instruments"])
        if "market_type" in values:
            values["market_type"] = MarketType(str(values["market_type"]))
        if values.get("venue_id"):
            values["venue_id"] = VenueId(str(values["venue_id"]))
        return cls(**values)


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CcxtConfigError(f"{name} must be an http(s) URL with a host, got {url!r}")
