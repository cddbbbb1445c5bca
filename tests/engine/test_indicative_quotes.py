"""Quotes a venue marks indicative (a closed market, a halt) move the marks but never
trigger an emulated order: a native stop would wait for the reopen, and a market order
released on a closed market is refused, which would leave the position unprotected."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest, SubmitToVenue
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TrailingOffsetType
from alphintra.domain.identifiers import AccountId, InstrumentId, VenueId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.capabilities import VenueCapabilities

D = Decimal
EURUSD = InstrumentId("EURUSD")
VENUE = VenueId("FX")
T0 = 1_700_000_000_000_000_000


def _engine() -> tuple[TradingEngine, SimulatedClock]:
    clock = SimulatedClock(T0)
    engine = TradingEngine(
        account_id=AccountId("INDICATIVE"),
        registry=InstrumentRegistry(),
        journal=MemoryJournal(),
        clock=clock,
        venues={
            VENUE: VenueCapabilities(order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}))
        },
        default_venue=VENUE,
        limits=RiskLimits(enforce_min_notional=False),
    )
    engine.open_account("USD", {"USD": D(10**9)})
    engine.flush(force=True)
    return engine, clock


def _quote(
    engine: TradingEngine, clock: SimulatedClock, k: int, bid: str, *, indicative: bool
) -> list[SubmitToVenue]:
    ts = T0 + k * 1_000_000_000
    clock.advance_to(ts)
    engine.on_market_data(
        QuoteTick(EURUSD, D(bid), D(bid) + D("0.0002"), D(0), D(0), ts, indicative=indicative)
    )
    return [c for c in engine.flush(force=True) if type(c) is SubmitToVenue]


@pytest.mark.parametrize(
    "fields",
    [
        {"order_type": OrderType.STOP, "trigger_price": D("1.09900")},
        {
            "order_type": OrderType.TRAILING_STOP,
            "trailing_offset": D("0.00100"),
            "trailing_offset_type": TrailingOffsetType.PRICE,
        },
    ],
    ids=["stop", "trailing-stop"],
)
def test_an_emulated_stop_waits_through_indicative_quotes(fields: dict[str, object]) -> None:
    engine, clock = _engine()
    _quote(engine, clock, 0, "1.10000", indicative=False)
    stop = engine.submit(
        OrderRequest(
            instrument_id=EURUSD,
            side=OrderSide.SELL,
            quantity=D(1000),
            **fields,  # type: ignore[arg-type]
        )
    )
    engine.flush(force=True)
    assert stop.emulated and stop.status is OrderStatus.ACCEPTED
    assert _quote(engine, clock, 1, "1.10000", indicative=False) == []  # a trailing anchor
    # The market closes; its indicative price falls through the trigger.
    assert _quote(engine, clock, 2, "1.09700", indicative=True) == []
    assert stop.status is OrderStatus.ACCEPTED
    assert engine.state.marks[EURUSD] == D("1.09710")  # the mark still moves
    # It reopens there: the stop fires on the first tradeable quote.
    (released,) = _quote(engine, clock, 3, "1.09700", indicative=False)
    assert released.order.client_order_id == stop.client_order_id
    assert released.order.order_type is OrderType.MARKET
    assert engine.state.orders[stop.client_order_id].status is OrderStatus.TRIGGERED
