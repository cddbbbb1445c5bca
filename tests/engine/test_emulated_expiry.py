"""Trigger orders the engine emulates expire like the venue's own would.

An emulated stop is held in the engine (the venue lacks the type), so no venue expires
it. Before, a GTD stop past its expire time, or a DAY stop on a later day, still
triggered and was released as a market order.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.risk.limits import RiskLimits
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from risk.eurusd_flow import Bench, bench_engine, pump, quote

D = Decimal
T0 = 1_700_000_000 * 10**9  # 2023-11-14T22:13:20Z
SECOND = 10**9
EMULATING = SimulatedVenueConfig(
    capabilities=VenueCapabilities(order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}))
)


def _bench() -> Bench:
    return bench_engine(RiskLimits(), D(1_000_000), T0, venue_config=EMULATING)


@pytest.mark.parametrize(
    ("tif", "expire_after_s", "later_s"),
    [
        (TimeInForce.GTD, 60, 61),  # one second past its expire time
        (TimeInForce.DAY, None, 2 * 3600),  # 22:13 UTC + 2 h: the next UTC day
    ],
)
def test_emulated_stop_expires_and_never_triggers_after(
    tif: TimeInForce, expire_after_s: int | None, later_s: int
) -> None:
    bench = _bench()
    engine, _, _, eurusd = bench
    quote(bench, "1.10000")
    stop = engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.SELL,
            order_type=OrderType.STOP,
            quantity=D(10_000),
            trigger_price=D("1.09000"),
            time_in_force=tif,
            expire_ts=None if expire_after_s is None else T0 + expire_after_s * SECOND,
        )
    )
    pump(bench)
    assert stop.emulated and stop.status is OrderStatus.ACCEPTED
    quote(bench, "1.10000", at=T0 + later_s * SECOND)  # after its time, not through it
    pump(bench)
    quote(bench, "1.08000")  # through the stop
    pump(bench)
    quote(bench, "1.08000")
    pump(bench)
    assert engine.state.position_quantity(eurusd.id) == 0, "the expired stop sold"
    assert engine.state.orders[stop.client_order_id].status is OrderStatus.EXPIRED


def test_emulated_gtd_stop_expires_on_the_timer_without_market_data() -> None:
    bench = _bench()
    engine, _, clock, eurusd = bench
    quote(bench, "1.10000")
    stop = engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.SELL,
            order_type=OrderType.STOP,
            quantity=D(10_000),
            trigger_price=D("1.09000"),
            time_in_force=TimeInForce.GTD,
            expire_ts=T0 + 60 * SECOND,
        )
    )
    pump(bench)
    clock.advance_to(T0 + 59 * SECOND)
    engine.on_timer(clock.now_ns())
    assert engine.state.orders[stop.client_order_id].status is OrderStatus.ACCEPTED
    clock.advance_to(T0 + 60 * SECOND)
    engine.on_timer(clock.now_ns())
    expired = engine.state.orders[stop.client_order_id]
    assert expired.status is OrderStatus.EXPIRED and not engine.state.open_orders
