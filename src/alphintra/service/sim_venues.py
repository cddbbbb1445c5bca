"""Extra simulated venues beside the service's primary one, for smart order routing.

Each extra venue is a real ``SimulatedVenue`` with its own fees and latency. It
quotes what the primary feed quotes, widened by its own half-spread on each side
(and capped in size when it has a size limit), so that venues differ in price as
well as in fees and speed. Its routing terms (``VenueProfile``) go to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.market import MarketData, QuoteTick
from alphintra.domain.values import ZERO
from alphintra.execution.routing import VenueProfile
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

__all__ = ["SimulatedVenueSetup"]


@dataclass(frozen=True, slots=True)
class SimulatedVenueSetup:
    """One extra simulated venue: fees, latency, quote width and routing terms.

    Raise ``ValueError`` naming the value for a negative half-spread or latency, or
    for routing terms ``VenueProfile`` refuses.
    """

    venue_id: VenueId
    taker_fee_bps: Decimal = ZERO
    maker_fee_bps: Decimal = ZERO
    latency_ms: int = 0
    quote_half_spread: Decimal = ZERO
    """Added to the ask and taken from the bid of every primary quote."""
    fill_probability: Decimal = Decimal(1)
    max_quantity: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.quote_half_spread.is_finite() or self.quote_half_spread < 0:
            raise ValueError(
                f"venue {self.venue_id}: quote_half_spread must be >= 0, "
                f"got {self.quote_half_spread}"
            )
        if self.latency_ms < 0:
            raise ValueError(
                f"venue {self.venue_id}: latency_ms must be >= 0, got {self.latency_ms}"
            )
        self.profile()

    def profile(self) -> VenueProfile:
        """Return the routing terms the engine prices this venue with."""
        return VenueProfile(
            taker_fee_bps=self.taker_fee_bps,
            latency_ms=Decimal(self.latency_ms),
            fill_probability=self.fill_probability,
            max_quantity=self.max_quantity,
        )

    def venue(self, instruments: Mapping[InstrumentId, Any]) -> SimulatedVenue:
        """Return a fresh simulated venue with this setup's fees and latency."""
        config = SimulatedVenueConfig(
            venue_id=self.venue_id,
            maker_fee_bps=self.maker_fee_bps,
            taker_fee_bps=self.taker_fee_bps,
            latency_ns=self.latency_ms * 1_000_000,
            partial_fills=self.max_quantity is not None,
        )
        return SimulatedVenue(config, instruments)

    def quote(self, data: MarketData) -> MarketData:
        """Return what this venue shows for a primary data point (quotes widened)."""
        if type(data) is not QuoteTick:
            return data
        cap = self.max_quantity
        return QuoteTick(
            data.instrument_id,
            data.bid - self.quote_half_spread,
            data.ask + self.quote_half_spread,
            data.bid_size if cap is None else _capped(data.bid_size, cap),
            data.ask_size if cap is None else _capped(data.ask_size, cap),
            data.ts,
        )


def _capped(size: Decimal, cap: Decimal) -> Decimal:
    return cap if size <= 0 else min(size, cap)
