"""The simulated venue as a contract harness."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.venues.simulated.adapter import SimulatedVenueAdapter
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

T0 = 1_700_000_000_000_000_000


class SimulatedHarness:
    """The simulated venue and its adapter, on EURUSD."""

    name = "simulated"

    def __init__(self, _: Path) -> None:
        registry = InstrumentRegistry()
        self.instrument = registry.get("EURUSD")
        self.venue = SimulatedVenue(SimulatedVenueConfig(), registry.known())
        self.adapter = SimulatedVenueAdapter(self.venue)
        self.order_quantity = Decimal(1000)
        self._ts = T0

    async def start(self) -> None:
        await self.adapter.connect()

    async def stop(self) -> None:
        await self.adapter.disconnect()

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self._ts += 1_000_000
        await self.adapter.feed_quote(
            QuoteTick(InstrumentId("EURUSD"), bid, ask, Decimal(0), Decimal(0), self._ts)
        )

    def venue_record(self) -> dict[str, dict[str, Any]]:
        return {
            cid: {"status": s.status.value, "filled": s.filled_quantity, "quantity": s.quantity}
            for cid, s in self.adapter.orders.items()
        }

    @property
    def now_ns(self) -> int:
        return self._ts


HARNESSES = [SimulatedHarness]
