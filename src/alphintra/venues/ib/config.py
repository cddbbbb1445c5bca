"""Settings of the Interactive Brokers adapter: where TWS or IB Gateway listens, and timing."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alphintra.domain.identifiers import VenueId

TWS_PAPER_PORT = 7497
TWS_LIVE_PORT = 7496
GATEWAY_PAPER_PORT = 4002
GATEWAY_LIVE_PORT = 4001

_MARKET_DATA_TYPES = {1: "live", 2: "frozen", 3: "delayed", 4: "delayed frozen"}


@dataclass(frozen=True, slots=True)
class IbConfig:
    """How to reach one TWS or IB Gateway session, and how patiently to wait for it.

    ``port`` is 7497 for a paper TWS and 4002 for a paper IB Gateway (7496 and 4001
    for live). ``client_id`` must be unique among the API clients of that session;
    orders placed under one client ID can be modified and cancelled only by the same
    client ID. ``account`` selects the account when the login manages several.
    ``market_data_type`` is IB's code: 1 live, 2 frozen, 3 delayed, 4 delayed frozen.
    ``outside_rth`` lets every order work outside regular trading hours.
    """

    host: str = "127.0.0.1"
    port: int = TWS_PAPER_PORT
    client_id: int = 1
    account: str = ""
    venue_id: VenueId = VenueId("IB")  # noqa: RUF009 - NewType, a plain str at runtime
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 10.0
    ack_timeout_s: float = 5.0
    """How long ``place_order`` and friends wait for TWS to acknowledge before the outcome
    is declared unknown."""
    commission_timeout_s: float = 5.0
    """How long a fill waits for its commission report before it is released without a fee."""
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 60.0
    heartbeat_interval_s: float = 15.0
    """How often the adapter asks TWS for its clock (``reqCurrentTime``) to prove the
    session alive: a TWS or IB Gateway that hangs keeps its socket open and sends nothing,
    which no socket error reveals."""
    heartbeat_timeout_s: float = 10.0
    """How long that answer may take before the session is declared dead, closed and
    re-opened (with the usual resync of executions and open orders)."""
    market_data_type: int = 1
    outside_rth: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("IbConfig: host must be non-empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"IbConfig: port must be 1..65535, got {self.port!r}")
        if self.client_id < 0:
            raise ValueError(f"IbConfig: client_id must not be negative, got {self.client_id!r}")
        for name in (
            "connect_timeout_s",
            "request_timeout_s",
            "ack_timeout_s",
            "commission_timeout_s",
            "reconnect_initial_s",
            "reconnect_max_s",
            "heartbeat_interval_s",
            "heartbeat_timeout_s",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"IbConfig: {name} must be positive, got {value!r}")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError(
                f"IbConfig: reconnect_max_s ({self.reconnect_max_s}) must be at least "
                f"reconnect_initial_s ({self.reconnect_initial_s})"
            )
        if self.market_data_type not in _MARKET_DATA_TYPES:
            raise ValueError(
                f"IbConfig: market_data_type must be one of {sorted(_MARKET_DATA_TYPES)} "
                f"({_MARKET_DATA_TYPES}), got {self.market_data_type!r}"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IbConfig:
        """Build from a mapping read from a file or the environment; unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"IbConfig: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        values = dict(data)
        if "venue_id" in values:
            values["venue_id"] = VenueId(str(values["venue_id"]))
        return cls(**values)
