"""The simulated venue inside the service: its instrument view and restart numbering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alphintra.domain.events import AnyEvent, OrderAccepted, OrderFilled
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.registry import InstrumentRegistry, UnknownInstrumentError
from alphintra.venues.simulated.matching import SimulatedVenue


def number_after_history(venue: SimulatedVenue, history: list[AnyEvent]) -> None:
    """Make a fresh simulated venue number its orders and trades after the journaled ones.

    The venue counts from 1 in every process. After a restart its first fill would
    reuse a journaled trade ID (``SIM-T1``), which the journal refuses as a duplicate
    fill, and its order IDs would repeat those of earlier orders.
    """
    prefix = f"{venue.venue_id}-"
    orders = trades = 0
    for event in history:
        if type(event) is OrderAccepted or type(event) is OrderFilled:
            number = event.venue_order_id.removeprefix(prefix)
            if number.isdigit():
                orders = max(orders, int(number))
        if type(event) is OrderFilled and event.venue == venue.venue_id:
            number = event.trade_id.removeprefix(f"{prefix}T")
            if number.isdigit():
                trades = max(trades, int(number))
    venue.continue_numbering(orders, trades)


class LazyInstruments(Mapping[InstrumentId, Any]):
    """The registry as the mapping the simulated venue expects, resolving on demand."""

    def __init__(self, registry: InstrumentRegistry) -> None:
        self._registry = registry

    def __getitem__(self, key: InstrumentId) -> Any:
        try:
            return self._registry.get(key)
        except UnknownInstrumentError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return key in self._registry

    def __iter__(self) -> Any:
        return iter(self._registry.known())

    def __len__(self) -> int:
        return len(self._registry.known())


__all__ = ["LazyInstruments", "number_after_history"]
