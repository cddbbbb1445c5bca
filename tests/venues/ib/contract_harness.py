"""The IB adapter on the fake TWS with a matching venue, as a shared-contract harness.

To run the shared suite in ``tests/venues/contract`` against IB, a module
``tests/venues/contract/harness_ib.py`` needs only::

    from venues.ib.contract_harness import HARNESSES  # noqa: F401

Until then ``test_contract_ib.py`` in this folder runs the same tests on this harness.
"""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.domain.registry import InstrumentRegistry
from alphintra.venues.adapter import VenueAdapter
from alphintra.venues.ib import IbAdapter

from . import tws_messages as m
from .fake_tws import FakeTws
from .fake_venue import FakeIbVenue
from .session import fake_config


def free_port() -> int:
    """Return a localhost TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class IbHarness:
    """``IbAdapter`` → ib_async → TCP → fake TWS speaking the API protocol → matching venue."""

    name = "interactive-brokers"

    def __init__(self, _: Path) -> None:
        self.registry = InstrumentRegistry()
        self.instrument = self.registry.get("EURUSD")
        self.order_quantity = Decimal(20000)
        self.fake = FakeTws()
        self.venue = FakeIbVenue(self.fake, commission="2.0")
        self.port = free_port()
        self.adapter: VenueAdapter = IbAdapter(fake_config(self.port), self.registry)

    async def start(self) -> None:
        await self.fake.start(self.port)
        await self.adapter.connect()

    async def stop(self) -> None:
        await self.adapter.disconnect()
        await self.fake.stop()

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.venue.set_quote(m.EURUSD.con_id, bid, ask)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        return self.venue.record()


HARNESSES = [IbHarness]
