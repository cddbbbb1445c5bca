"""A DAY algo parent ends with its UTC day, as the venue ends a DAY order.

The parent is emulated, so no venue expires it: before, a DAY TWAP that was paused (or
whose schedule ran past midnight) stayed open into the next day and went on trading.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.orders import NANOS_PER_DAY
from alphintra.execution.algorithms import TwapSpec
from orders.test_review_iceberg import MINUTE, XYZ, Desk

D = Decimal


def test_paused_day_twap_parent_expires_at_the_end_of_its_day() -> None:
    desk = Desk()
    desk.bar("1000")
    now = desk.clock.now_ns()
    spec = TwapSpec(start_ns=now, end_ns=now + 60 * MINUTE, slices=6)
    request = OrderRequest(
        instrument_id=XYZ.id,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=D(60),
        price=D(101),
        time_in_force=TimeInForce.DAY,
    )
    parent = desk.engine.submit_algo(request, spec)
    desk.dispatch()
    assert desk.engine.pause_algo(parent.client_order_id)
    desk.dispatch()
    midnight = (now // NANOS_PER_DAY + 1) * NANOS_PER_DAY
    desk.clock.advance_to(midnight - 1)
    desk.engine.on_timer(desk.clock.now_ns())
    assert parent.is_open
    desk.clock.advance_to(midnight)
    desk.engine.on_timer(desk.clock.now_ns())
    assert desk.engine.state.orders[parent.client_order_id].status is OrderStatus.EXPIRED
    assert desk.engine.algo_states() == []
