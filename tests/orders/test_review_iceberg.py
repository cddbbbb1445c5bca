"""Review: an iceberg's last slice must be a valid order on its own.

An iceberg of quantity Q showing D is worked in slices of D and a last slice of
Q mod D. When that last slice is below the instrument's minimum quantity it can never
be built: the engine raised ``OrderValidationError`` from inside the venue report
that filled the slice before it, in the middle of a fill.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import AssetClass, InstrumentKind, OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import TradeBar
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import Currency
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.execution.algorithms import IcebergSpec
from alphintra.orders.factory import OrderValidationError, build_order
from alphintra.risk.pretrade import RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import (
    SIMULATED_CAPABILITIES,
    SimulatedVenue,
    SimulatedVenueConfig,
)

MINUTE = 60_000_000_000
XYZ = Instrument(
    InstrumentId("XYZ"),
    "XYZ",
    AssetClass.EQUITY,
    InstrumentKind.STOCK,
    Currency("XYZ"),
    Currency("USD"),
    Decimal("0.01"),
    Decimal(1),
    min_quantity=Decimal(2),
)


def iceberg(quantity: str, display: str) -> OrderRequest:
    return OrderRequest(
        instrument_id=XYZ.id,
        side=OrderSide.BUY,
        order_type=OrderType.ICEBERG,
        quantity=Decimal(quantity),
        price=Decimal("101"),
        display_quantity=Decimal(display),
    )


def build(request: OrderRequest) -> object:
    return build_order(
        request,
        XYZ,
        account_id=AccountId("T"),
        client_order_id=ClientOrderId("P"),
        venue=SimulatedVenueConfig().venue_id,
        native_types=SIMULATED_CAPABILITIES.order_types,
        ts=0,
    )


def test_factory_refuses_an_iceberg_whose_last_slice_is_below_the_minimum() -> None:
    # 7 shown 3 at a time: slices 3, 3 and 1; 1 is below the minimum quantity 2.
    with pytest.raises(OrderValidationError) as caught:
        build(iceberg("7", "3"))
    assert caught.value.code == "INVALID_DISPLAY_QUANTITY"
    # Last slices at or above the minimum, or none at all, are fine.
    build(iceberg("8", "3"))  # 3, 3, 2
    build(iceberg("6", "3"))  # 3, 3
    build(iceberg("7", "7"))  # 7


class Desk:
    """One engine and one simulated venue (partial fills limited by bar volume)."""

    def __init__(self) -> None:
        registry = InstrumentRegistry([XYZ], use_defaults=False)
        self.clock = SimulatedClock(0)
        self.venue = SimulatedVenue(SimulatedVenueConfig(partial_fills=True), registry.known())
        self.engine = TradingEngine(
            account_id=AccountId("T"),
            registry=registry,
            journal=MemoryJournal(),
            clock=self.clock,
            venues={self.venue.venue_id: self.venue.capabilities},
            default_venue=self.venue.venue_id,
            limits=RiskLimits(enforce_min_notional=False),
        )
        usd = Currency("USD")
        self.engine.open_account(usd, {usd: Decimal(10**9)})
        self.minute = 0

    def dispatch(self) -> None:
        commands = self.engine.flush()
        while commands:
            for command in commands:
                for report in self.venue.handle(command):
                    self.engine.on_venue_event(report)
            commands = self.engine.flush()

    def bar(self, volume: str, price: Decimal = Decimal(100)) -> None:
        """Trade one flat bar at ``price`` (open = high = low = close)."""
        self.minute += 1
        data = TradeBar(
            instrument_id=XYZ.id,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=Decimal(volume),
            ts=self.minute * MINUTE,
            interval_ns=MINUTE,
        )
        self.clock.advance_to(data.ts)
        for report in self.venue.on_market_data(data):
            self.engine.on_venue_event(report)
        self.engine.on_market_data(data)
        self.dispatch()


def test_engine_refuses_up_front_an_iceberg_it_could_not_finish() -> None:
    desk = Desk()
    desk.bar("1000")
    with pytest.raises(OrderValidationError):
        desk.engine.submit(iceberg("7", "3"))
    assert list(desk.engine.state.orders) == []  # nothing recorded, nothing working
    # A valid one runs to the end: slices 3, 3, 2.
    parent = desk.engine.submit(iceberg("8", "3"))
    desk.dispatch()
    for _ in range(3):
        desk.bar("1000")
    assert parent.status is OrderStatus.FILLED
    children = [o for o in desk.engine.state.orders.values() if o.parent_id]
    assert [c.quantity for c in children] == [3, 3, 2]


def test_algo_iceberg_remainder_below_minimum_after_a_cancelled_slice_closes_the_parent() -> None:
    desk = Desk()
    desk.bar("1000")
    parent = desk.engine.submit_algo(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal(6),
            price=Decimal("101"),
        ),
        IcebergSpec(display_quantity=Decimal(3)),
    )
    desk.dispatch()
    desk.bar("3")  # the first slice of 3 fills
    desk.bar("2")  # the second slice fills 2 of 3
    assert parent.filled_quantity == 5
    desk.engine.pause_algo(parent.client_order_id)  # cancels the part-filled slice
    desk.dispatch()
    desk.engine.resume_algo(parent.client_order_id)  # 1 left, below the minimum 2
    desk.dispatch()
    assert parent.status is OrderStatus.CANCELLED
    assert desk.engine.state.position_quantity(XYZ.id) == 5


def test_a_reduce_only_icebergs_slices_are_reduce_only() -> None:
    """The venue sees the slices, not the parent: without the flag a slice that fills
    after the position was closed elsewhere would open a new one."""
    desk = Desk()
    desk.bar("1000")
    desk.engine.submit(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=Decimal(8),
        )
    )
    desk.dispatch()
    desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 8
    parent = desk.engine.submit(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.SELL,
            order_type=OrderType.ICEBERG,
            quantity=Decimal(8),
            price=Decimal("200"),
            display_quantity=Decimal(4),
            reduce_only=True,
        )
    )
    desk.dispatch()
    slices = [o for o in desk.engine.state.orders.values() if o.parent_id == parent.client_order_id]
    assert len(slices) == 1 and slices[0].is_open
    assert slices[0].reduce_only
