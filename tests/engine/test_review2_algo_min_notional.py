"""Review: an algo child below the instrument's minimum notional waits, it does not kill.

Pre-trade risk denies an order worth less than the instrument's ``min_notional`` (1 USD
on the crypto pairs, enforced by default), and a denied child cancels its parent.
The algos held back children below the minimum *quantity* only, so a POV whose
participation target first grew by less than the minimum notional (a small trade),
or a TWAP whose slices are each worth less than it, sent that child, had it denied
and lost the whole parent. The smart order router already held such shares back.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import AssetClass, InstrumentKind, OrderSide, OrderStatus, OrderType
from alphintra.domain.events import Event, OrderCancelled, OrderDenied
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import TradeBar
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import Currency
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.execution.algorithms import AlgoSpec, PovSpec, TwapSpec
from alphintra.risk.pretrade import RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

MINUTE = 60_000_000_000
COIN = Instrument(
    InstrumentId("COINUSD"),
    "COINUSD",
    AssetClass.CRYPTO,
    InstrumentKind.SPOT,
    Currency("COIN"),
    Currency("USD"),
    Decimal("0.01"),
    Decimal("0.001"),
    min_notional=Decimal(10),  # 0.1 COIN at 100
)


class Desk:
    """One engine (min notional enforced, as by default) and one simulated venue."""

    def __init__(self) -> None:
        registry = InstrumentRegistry([COIN], use_defaults=False)
        self.clock = SimulatedClock(0)
        self.venue = SimulatedVenue(SimulatedVenueConfig(partial_fills=True), registry.known())
        self.engine = TradingEngine(
            account_id=AccountId("T"),
            registry=registry,
            journal=MemoryJournal(),
            clock=self.clock,
            venues={self.venue.venue_id: self.venue.capabilities},
            default_venue=self.venue.venue_id,
            limits=RiskLimits(),
        )
        usd = Currency("USD")
        self.engine.open_account(usd, {usd: Decimal(10**9)})
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.minute = 0

    def dispatch(self) -> None:
        commands = self.engine.flush()
        while commands:
            for command in commands:
                for report in self.venue.handle(command):
                    self.engine.on_venue_event(report)
            commands = self.engine.flush()

    def bar(self, volume: str) -> None:
        """Trade one flat bar at 100."""
        self.minute += 1
        price = Decimal(100)
        data = TradeBar(
            instrument_id=COIN.id,
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

    def submit(self, quantity: str, spec: AlgoSpec) -> Order:
        parent = self.engine.submit_algo(
            OrderRequest(
                instrument_id=COIN.id,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=Decimal(quantity),
            ),
            spec,
        )
        self.dispatch()
        return parent

    def children(self, parent: Order) -> list[Order]:
        coid = parent.client_order_id
        return [o for o in self.engine.state.orders.values() if o.parent_id == coid]


def test_pov_child_below_the_minimum_notional_waits_for_more_volume() -> None:
    desk = Desk()
    desk.bar("100")
    parent = desk.submit("0.3", PovSpec(participation=Decimal("0.1"), start_ns=2 * MINUTE))
    desk.bar("0.5")  # target 0.05: worth 5 USD, below the minimum 10
    assert not [e for e in desk.events if type(e) is OrderDenied]  # was denied
    assert parent.is_open and desk.children(parent) == []
    desk.bar("0.5")  # target 0.1: worth 10 USD, sent
    assert [c.quantity for c in desk.children(parent)] == [Decimal("0.1")]
    for _ in range(10):
        desk.bar("10")
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal("0.3"))
    assert all(c.quantity * 100 >= 10 for c in desk.children(parent))


def test_twap_slices_below_the_minimum_notional_are_pooled_until_worth_sending() -> None:
    desk = Desk()
    desk.bar("100")
    start = desk.clock.now_ns()
    parent = desk.submit("0.2", TwapSpec(start_ns=start, end_ns=start + 4 * MINUTE, slices=4))
    for _ in range(8):
        desk.bar("100")
    assert not [e for e in desk.events if type(e) is OrderDenied]
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal("0.2"))
    assert [c.quantity for c in desk.children(parent)] == [Decimal("0.1"), Decimal("0.1")]


def test_algo_whose_whole_rest_is_below_the_minimum_notional_closes_with_the_reason() -> None:
    desk = Desk()
    desk.bar("100")
    parent = desk.submit("0.15", PovSpec(participation=Decimal("0.5"), start_ns=2 * MINUTE))
    desk.bar("0.2")  # target 0.1: a child of 0.1
    desk.bar("100")  # it fills; 0.05 is left, worth 5 USD: no child can carry it
    assert (parent.status, parent.filled_quantity) == (OrderStatus.CANCELLED, Decimal("0.1"))
    assert not [e for e in desk.events if type(e) is OrderDenied]
    [cancel] = [
        e
        for e in desk.events
        if type(e) is OrderCancelled and e.client_order_id == parent.client_order_id
    ]
    assert cancel.reason == "0.050 left is below the instrument minimum notional 10 at 100"
