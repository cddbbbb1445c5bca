"""A CLOSE signal closes only what the closes already working leave. On a venue that
takes a second to fill (and, like IB and the simulated venue, does not enforce
reduce-only), two CLOSE_LONG signals sent before the first fills used to sell the whole
position twice and leave it short. Real engine, simulated venue with latency; no mocks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.limits import RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig
from risk.eurusd_flow import pump

D = Decimal
T0 = 1_700_000_000 * 10**9
SECOND = 10**9


class _Desk:
    def __init__(self) -> None:
        self.registry = InstrumentRegistry()
        self.eurusd = self.registry.get("EURUSD")
        self.clock = SimulatedClock(T0)
        self.venue = SimulatedVenue(
            SimulatedVenueConfig(latency_ns=SECOND), {self.eurusd.id: self.eurusd}
        )
        self.engine = TradingEngine(
            account_id=AccountId("A"),
            registry=self.registry,
            journal=MemoryJournal(),
            clock=self.clock,
            venues={self.venue.venue_id: self.venue.capabilities},
            default_venue=self.venue.venue_id,
            limits=RiskLimits(),
        )
        self.engine.open_account("USD", {"USD": D(1_000_000)})

    def pump(self) -> None:
        pump((self.engine, self.venue, self.clock, self.eurusd))

    def tick(self, after_ns: int) -> None:
        self.clock.advance_to(self.clock.now_ns() + after_ns)
        pip = D("0.00001")
        mid = D("1.10000")
        tick = QuoteTick(
            self.eurusd.id, mid - pip, mid + pip, D(10**7), D(10**7), self.clock.now_ns()
        )
        for report in self.venue.on_market_data(tick):
            self.engine.on_venue_event(report)
        self.engine.on_market_data(tick)
        self.pump()

    def signal(self, signal_id: str, action: SignalAction, quantity: int | None = None) -> int:
        orders = self.engine.process_signal(
            TradingSignal(
                signal_id=SignalId(signal_id),
                model_id=ModelId("m"),
                instrument_id=self.eurusd.id,
                action=action,
                confidence=D("0.5"),
                ts=self.clock.now_ns(),
                quantity=D(quantity) if quantity is not None else None,
            )
        )
        self.pump()
        return len(orders)

    @property
    def position(self) -> Decimal:
        return self.engine.state.position_quantity(self.eurusd.id)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [(OrderSide.BUY, SignalAction.CLOSE_LONG), (OrderSide.SELL, SignalAction.CLOSE_SHORT)],
)
def test_a_second_close_before_the_first_fills_sends_nothing(
    opening: OrderSide, closing: SignalAction
) -> None:
    desk = _Desk()
    desk.tick(0)
    desk.engine.submit(
        OrderRequest(
            instrument_id=desk.eurusd.id,
            side=opening,
            order_type=OrderType.MARKET,
            quantity=D(100_000),
        )
    )
    desk.pump()
    desk.tick(2 * SECOND)
    assert abs(desk.position) == D(100_000)
    assert desk.signal("close-1", closing) == 1
    assert desk.signal("close-2", closing) == 0  # the first covers the whole position
    desk.tick(2 * SECOND)
    assert desk.position == 0


def test_a_partial_close_in_flight_leaves_the_rest_to_the_next_close() -> None:
    desk = _Desk()
    desk.tick(0)
    desk.engine.submit(
        OrderRequest(
            instrument_id=desk.eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(100_000),
        )
    )
    desk.pump()
    desk.tick(2 * SECOND)
    assert desk.signal("part", SignalAction.CLOSE_LONG, 30_000) == 1
    assert desk.signal("rest", SignalAction.CLOSE_LONG) == 1
    rest = desk.engine.state.signal_orders[SignalId("rest")][0]
    assert rest.quantity == D(70_000)
    desk.tick(2 * SECOND)
    assert desk.position == 0
