"""Review: a GTD algo parent expires at its expire time; it never trades after it.

The parent is emulated, so no venue expires it, and nothing in the engine did: an SOR
parent (its children are IOC and carry no expire time) routed and filled after its
expire time once books arrived, and a paused TWAP stayed open past it for as long as
it was paused.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderExpired
from alphintra.execution.algorithms import IcebergSpec, SorSpec, TwapSpec
from engine.sor_venues import MS, Quote, Venues, VenueSetup
from orders.test_review_iceberg import MINUTE, XYZ, Desk

D = Decimal


def test_sor_gtd_parent_whose_books_come_after_its_expiry_expires_unfilled() -> None:
    run = Venues([VenueSetup("A", D(0)), VenueSetup("B", D(5))])
    now = run.clock.now_ns()
    parent = run.engine.submit_algo(
        OrderRequest(
            instrument_id=run.instrument.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(10),
            time_in_force=TimeInForce.GTD,
            expire_ts=now + 1_000 * MS,
        ),
        SorSpec(),
    )
    run.dispatch()
    run.clock.advance_to(now + 5_000 * MS)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(10)))
    assert run.children(parent) == []  # was a child of 10, filled 4 s after the expiry
    assert (parent.status, parent.filled_quantity) == (OrderStatus.EXPIRED, D(0))
    assert [e.ts_event for e in run.events if type(e) is OrderExpired] == [now + 5_000 * MS]


def _gtd(quantity: str, expire_ts: int) -> OrderRequest:
    return OrderRequest(
        instrument_id=XYZ.id,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=D(quantity),
        price=D(101),
        time_in_force=TimeInForce.GTD,
        expire_ts=expire_ts,
    )


def test_paused_twap_gtd_parent_expires_at_its_expire_time() -> None:
    desk = Desk()
    desk.bar("1000")
    now = desk.clock.now_ns()
    spec = TwapSpec(start_ns=now, end_ns=now + 60 * MINUTE, slices=6)
    parent = desk.engine.submit_algo(_gtd("60", now + 15 * MINUTE), spec)
    desk.dispatch()
    desk.bar("1000")
    assert parent.filled_quantity == 10
    assert desk.engine.pause_algo(parent.client_order_id)
    desk.dispatch()
    desk.clock.advance_to(now + 20 * MINUTE)
    desk.engine.on_timer(desk.clock.now_ns())
    assert (parent.status, parent.filled_quantity) == (OrderStatus.EXPIRED, D(10))
    assert desk.engine.algo_states() == []


def test_paused_iceberg_gtd_parent_expires_on_market_data() -> None:
    desk = Desk()
    desk.bar("0")
    now = desk.clock.now_ns()
    parent = desk.engine.submit_algo(_gtd("9", now + 2 * MINUTE), IcebergSpec(D(3)))
    desk.dispatch()
    assert desk.engine.pause_algo(parent.client_order_id)
    desk.dispatch()
    for _ in range(3):
        desk.bar("0")
    assert parent.status is OrderStatus.EXPIRED
