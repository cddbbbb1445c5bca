"""Review: a bracket's exits must cover the position its entry opened.

When more of the entry fills, the engine resizes the exits to the protected quantity.
An exit that has already part-filled must be resized so that what it *leaves* is that
quantity (its filled part plus it), not so that its total is: otherwise it covers less
than the position.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from orders.test_review_iceberg import XYZ, Desk


def test_part_filled_take_profit_is_resized_to_cover_the_whole_position() -> None:
    desk = Desk()  # native OCO, partial fills limited by the bar's volume
    desk.bar("1000", Decimal(101))
    entry, stop, take = desk.engine.submit_bracket(
        BracketRequest(
            entry=OrderRequest(
                instrument_id=XYZ.id,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal(10),
                price=Decimal(100),
            ),
            stop_loss=Decimal(90),
            take_profit=Decimal(110),
        )
    )
    desk.dispatch()
    desk.bar("3", Decimal(100))  # the entry fills 3: exits of 3 each are released
    desk.bar("2", Decimal(111))  # the take-profit sells 2 of its 3; the stop is cut to 1
    assert take.filled_quantity == 2
    desk.bar("7", Decimal(100))  # the entry fills its last 7
    assert entry.status is OrderStatus.FILLED
    position = desk.engine.state.position_quantity(XYZ.id)
    assert position == 8
    assert stop.leaves_quantity == position
    assert take.leaves_quantity == position  # was 6: quantity 8 with 2 already filled
