"""Every new order's venue is chosen through ``_venue_for``, which subclasses override.

The service's ``RoutedEngine`` routes new orders and refuses them while no venue is
usable through this hook; a submit path that picked the venue itself would send orders
to a venue that is down.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.identifiers import AccountId, InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.orders.factory import OrderValidationError
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenueConfig

PRIMARY, BACKUP = VenueId("PRIMARY"), VenueId("BACKUP")


class HookedEngine(TradingEngine):
    """Sends every order without a named venue to ``chosen``, or refuses when None."""

    chosen: VenueId | None = BACKUP
    asked = 0

    def _venue_for(self, request: OrderRequest, instrument: Instrument) -> VenueId:
        self.asked += 1
        if self.chosen is None:
            raise OrderValidationError("VENUE_UNAVAILABLE", "no venue is up")
        return self.chosen


def _engine() -> HookedEngine:
    capabilities = SimulatedVenueConfig().capabilities
    engine = HookedEngine(
        account_id=AccountId("HOOK"),
        registry=InstrumentRegistry(),
        journal=MemoryJournal(),
        clock=SimulatedClock(1_700_000_000 * 10**9),
        venues={PRIMARY: capabilities, BACKUP: capabilities},
        default_venue=PRIMARY,
    )
    engine.open_account("USD", {"USD": Decimal(1_000_000)})
    return engine


def _market_buy() -> OrderRequest:
    return OrderRequest(
        instrument_id=InstrumentId("EURUSD"),
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(1000),
    )


def test_submit_takes_the_venue_the_hook_chooses() -> None:
    engine = _engine()
    order = engine.submit(_market_buy())
    assert engine.asked == 1
    assert order.venue == BACKUP
    assert [command.venue for command in engine.flush()] == [BACKUP]


def test_submit_refused_by_the_hook_records_nothing() -> None:
    engine = _engine()
    engine.chosen = None
    events_before = engine.state.event_count
    with pytest.raises(OrderValidationError, match="no venue is up"):
        engine.submit(_market_buy())
    assert engine.state.event_count == events_before
    assert engine.state.orders == {}
