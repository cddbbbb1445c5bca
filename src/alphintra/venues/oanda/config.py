"""Configuration of the OANDA v20 adapter: frozen, typed, unknown keys refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal
from urllib.parse import urlsplit

from alphintra.domain.identifiers import VenueId

Environment = Literal["practice", "live"]

REST_URLS: dict[str, str] = {
    "practice": "https://api-fxpractice.oanda.com",
    "live": "https://api-fxtrade.oanda.com",
}
STREAM_URLS: dict[str, str] = {
    "practice": "https://stream-fxpractice.oanda.com",
    "live": "https://stream-fxtrade.oanda.com",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OandaConfig:
    """Where and as whom to reach OANDA.

    ``rest_url`` and ``stream_url`` override the environment's hosts (a local fake in
    tests); without them the practice or live hosts are used. The token never appears in
    ``repr``.
    """

    account_id: str
    token: str = field(repr=False)
    environment: Environment = "practice"
    rest_url: str | None = None
    stream_url: str | None = None
    venue_id: VenueId = VenueId("OANDA")  # noqa: RUF009 - NewType, a plain str at runtime
    timeout_s: float = 10.0
    """Connect, write and read timeout of REST requests."""
    stream_timeout_s: float = 12.0
    """Longest silence on a stream before reconnecting (OANDA heartbeats every 5 s)."""
    reconnect_initial_s: float = 0.25
    reconnect_max_s: float = 30.0
    tag: str = "alphintra"
    """``clientExtensions.tag`` on every order we send."""
    instrument_names: Mapping[str, str] = field(default_factory=dict)
    """Overrides of the symbol → OANDA name rule (EURUSD → EUR_USD)."""

    def __post_init__(self) -> None:
        if not self.account_id.strip():
            raise ValueError("OANDA account_id must not be empty")
        if not self.token.strip():
            raise ValueError("OANDA token must not be empty")
        if self.environment not in REST_URLS:
            raise ValueError(
                f"OANDA environment must be 'practice' or 'live', got {self.environment!r}"
            )
        for name in ("rest_url", "stream_url"):
            url = getattr(self, name)
            if url is not None and urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"OANDA {name} must be an http(s) URL, got {url!r}")
        for name in ("timeout_s", "stream_timeout_s", "reconnect_initial_s", "reconnect_max_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"OANDA {name} must be positive, got {getattr(self, name)!r}")

    @property
    def rest_base(self) -> str:
        """Return the REST host URL (without ``/v3``)."""
        return (self.rest_url or REST_URLS[self.environment]).rstrip("/")

    @property
    def stream_base(self) -> str:
        """Return the streaming host URL (without ``/v3``)."""
        return (self.stream_url or self.rest_url or STREAM_URLS[self.environment]).rstrip("/")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OandaConfig:
        """Build from a mapping read from a file or the environment; refuse unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"OANDA config: unknown keys {sorted(unknown)}; allowed: {sorted(known)}"
            )
        return cls(**dict(data))
