"""What every venue adapter's test harness provides to the shared contract suite.

Each venue family adds a module ``tests/venues/contract/harness_<name>.py`` that
defines ``HARNESSES: list[Callable[[Path], ContractHarness]]`` (a factory taking a
temporary folder). ``test_contract.py`` discovers every such module and runs the same
tests against each harness.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from alphintra.domain.instruments import Instrument
from alphintra.venues.adapter import VenueAdapter


class ContractHarness(Protocol):
    """A venue adapter wired to a local fake (or simulated) venue."""

    name: str
    adapter: VenueAdapter
    instrument: Instrument
    """A liquid instrument the venue lists; contract orders use it."""
    order_quantity: Decimal
    """A quantity valid on the venue (lot size, minimum notional) for that instrument."""

    async def start(self) -> None:
        """Start the fake venue and connect the adapter."""
        ...

    async def stop(self) -> None:
        """Disconnect the adapter and stop the fake venue."""
        ...

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        """Set the fake venue's best bid and ask for the instrument.

        Market orders fill at the ask (buys) or bid (sells); a resting limit order that
        the new quote crosses fills at its limit price.
        """
        ...

    def venue_record(self) -> dict[str, dict[str, Any]]:
        """Return the fake venue's own record of every order, by client order ID.

        Each value has at least ``status`` (the venue's word for it), ``filled`` (a
        Decimal) and ``quantity`` (a Decimal).
        """
        ...


HarnessFactory = Any  # Callable[[Path], ContractHarness]
__all__ = ["ContractHarness", "HarnessFactory", "Path"]
