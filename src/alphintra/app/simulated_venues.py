"""Extra simulated venues in the configuration, for smart order routing in paper trading.

``ALPHINTRA_SIMULATED_VENUES`` (or ``simulated_venues`` in the settings file) lists
venues beside the primary simulated venue ``SIM``; each quotes the same feed widened by
its own half-spread and charges its own fees after its own latency::

    ALPHINTRA_SIMULATED_VENUES='[{"venue_id": "SIM-B", "taker_fee_bps": "1.5",
                                  "latency_ms": 20, "quote_half_spread": "0.05"}]'

Accounts on the simulated venue can then route orders with ``"algo": {"type": "SOR"}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from alphintra.domain.identifiers import VenueId
from alphintra.service.sim_venues import SimulatedVenueSetup

_Fee = Annotated[Decimal, Field(gt=-10_000, lt=10_000, allow_inf_nan=False)]


class SimulatedVenueSettings(BaseModel):
    """One extra simulated venue: its ID, fees, latency, quote width and routing terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    venue_id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._\-]+$")]
    taker_fee_bps: _Fee = Decimal(0)
    maker_fee_bps: _Fee = Decimal(0)
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    quote_half_spread: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)
    fill_probability: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)] = Decimal(1)
    max_quantity: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None

    def setup(self) -> SimulatedVenueSetup:
        """Return the service's description of this venue."""
        return SimulatedVenueSetup(
            venue_id=VenueId(self.venue_id),
            taker_fee_bps=self.taker_fee_bps,
            maker_fee_bps=self.maker_fee_bps,
            latency_ms=self.latency_ms,
            quote_half_spread=self.quote_half_spread,
            fill_probability=self.fill_probability,
            max_quantity=self.max_quantity,
        )
