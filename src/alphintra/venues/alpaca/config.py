"""Settings of the Alpaca adapter: credentials, endpoints and behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field

from alphintra.domain.identifiers import VenueId

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
PAPER_STREAM_URL = "wss://paper-api.alpaca.markets/stream"
LIVE_STREAM_URL = "wss://api.alpaca.markets/stream"
DATA_STREAM_URL = "wss://stream.data.alpaca.markets/v2"

_FEEDS = frozenset({"iex", "sip", "delayed_sip"})


@dataclass(frozen=True, slots=True)
class AlpacaConfig:
    """How to reach one Alpaca account.

    The ``*_url`` fields override Alpaca's public endpoints (paper or live, chosen by
    ``paper``); tests point them at a local fake. ``extended_hours`` marks DAY limit
    orders as eligible for pre- and post-market sessions (Alpaca accepts the flag
    only on DAY limit orders, so it is never sent on anything else).
    """

    api_key: str
    secret_key: str = field(repr=False)
    paper: bool = True
    venue_id: VenueId = VenueId("ALPACA")  # noqa: RUF009 - NewType, a plain str at runtime
    trading_url: str | None = None
    data_url: str | None = None
    stream_url: str | None = None
    data_stream_url: str | None = None
    data_feed: str = "iex"
    extended_hours: bool = False
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    fills_page_size: int = 100
    max_replace_chain: int = 50
    """How many replacements of one order the adapter follows before giving up."""
    stream_min_backoff_s: float = 1.0
    """First delay before the SDK reconnects a dropped WebSocket (it doubles up to max)."""
    stream_max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.api_key or not self.secret_key:
            raise ValueError("AlpacaConfig: api_key and secret_key must both be non-empty")
        if self.data_feed not in _FEEDS:
            raise ValueError(
                f"AlpacaConfig: data_feed must be one of {sorted(_FEEDS)}, got {self.data_feed!r}"
            )
        for name in (
            "connect_timeout_s",
            "read_timeout_s",
            "stream_min_backoff_s",
            "stream_max_backoff_s",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"AlpacaConfig: {name} must be positive, got {value!r}")
        if not 1 <= self.fills_page_size <= 100:
            raise ValueError(
                f"AlpacaConfig: fills_page_size must be 1..100, got {self.fills_page_size!r}"
            )
        if self.max_replace_chain < 1:
            raise ValueError(
                f"AlpacaConfig: max_replace_chain must be >= 1, got {self.max_replace_chain!r}"
            )

    @property
    def resolved_trading_url(self) -> str:
        """Return the REST base URL for trading (without ``/v2``)."""
        if self.trading_url:
            return self.trading_url.rstrip("/")
        return PAPER_TRADING_URL if self.paper else LIVE_TRADING_URL

    @property
    def resolved_data_url(self) -> str:
        """Return the REST base URL for market data (without ``/v2``)."""
        return (self.data_url or DATA_URL).rstrip("/")

    @property
    def resolved_stream_url(self) -> str:
        """Return the trade_updates WebSocket URL."""
        if self.stream_url:
            return self.stream_url
        return PAPER_STREAM_URL if self.paper else LIVE_STREAM_URL

    @property
    def resolved_data_stream_url(self) -> str:
        """Return the market data WebSocket URL for the configured feed."""
        return self.data_stream_url or f"{DATA_STREAM_URL}/{self.data_feed}"
