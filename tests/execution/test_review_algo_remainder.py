"""Review: an algo parent whose remainder can never be sent must close, not hang.

A POV parent without an end time runs until it is filled. When a child part-fills
and is replaced, what is left may be below the instrument's minimum quantity: no
child can ever carry it, and without an end time nothing closes the parent, which
stays open (PARTIALLY_FILLED, nothing working) for ever.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.execution.algorithms import PovSpec
from orders.test_review_iceberg import XYZ, Desk


def test_pov_remainder_below_the_minimum_closes_the_parent() -> None:
    desk = Desk()  # XYZ: lot 1, minimum 2; fills limited by the bar's volume
    desk.bar("1000")
    parent = desk.engine.submit_algo(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal(5),
            price=Decimal(101),
        ),
        PovSpec(participation=Decimal(1), start_ns=0),
    )
    desk.dispatch()
    desk.bar("10")  # the participation target reaches 5: a child of 5
    desk.bar("4")  # it fills 4 and is replaced; 1 is left, below the minimum 2
    assert parent.filled_quantity == 4
    for _ in range(3):
        desk.bar("1000")
    children = [o for o in desk.engine.state.orders.values() if o.parent_id]
    assert not any(child.is_open for child in children)
    assert parent.status is OrderStatus.CANCELLED  # was PARTIALLY_FILLED for ever
    assert desk.engine.state.position_quantity(XYZ.id) == 4
