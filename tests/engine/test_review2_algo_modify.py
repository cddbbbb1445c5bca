"""Review: a change of an algo parent's quantity or guard must bind its working children.

The parent is emulated (the engine works it; no venue knows it). Before the fix a
change of a partly filled parent was sent to the venue as a modify of an order it
never had (refused, the parent kept its old quantity), and a change of an untouched
parent left the working child as it was: cut from 100 to 10 while a child of 50
worked, the parent bought 50; a guard moved below a working child's price was
crossed by that child's fill.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import ModifyAtVenue, OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.events import OrderFilled, RiskAlertRaised
from alphintra.domain.orders import Order
from alphintra.execution.algorithms import IcebergSpec, TwapSpec
from alphintra.orders.factory import OrderValidationError
from orders.test_review_iceberg import MINUTE, XYZ, Desk, iceberg


def _twap(desk: Desk, quantity: int, guard: str, slices: int) -> Order:
    now = desk.clock.now_ns()
    parent = desk.engine.submit_algo(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal(quantity),
            price=Decimal(guard),
        ),
        TwapSpec(start_ns=now, end_ns=now + 10 * MINUTE, slices=slices),
    )
    desk.dispatch()
    return parent


def _children(desk: Desk, parent: Order) -> list[Order]:
    coid = parent.client_order_id
    return [o for o in desk.engine.state.orders.values() if o.parent_id == coid]


def _record(desk: Desk) -> list[object]:
    events: list[object] = []
    desk.engine.subscribe(events.append)
    return events


def test_algo_parent_cut_below_its_working_child_buys_only_the_new_quantity() -> None:
    desk = Desk()
    events = _record(desk)
    desk.bar("0")  # no volume: the first child rests
    parent = _twap(desk, 100, "101", slices=2)
    [first] = _children(desk, parent)
    assert (first.quantity, first.status) == (Decimal(50), OrderStatus.ACCEPTED)
    assert desk.engine.modify(parent.client_order_id, quantity=Decimal(10))
    desk.dispatch()
    assert first.status is OrderStatus.CANCELLED  # 50 no longer fits in 10
    for _ in range(12):
        desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 10  # was 50
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(10))
    assert not [e for e in events if type(e) is RiskAlertRaised]  # no overfill


def test_partly_filled_algo_parent_change_is_made_by_the_engine_not_sent_to_a_venue() -> None:
    desk = Desk()
    desk.bar("1000")
    parent = _twap(desk, 100, "101", slices=4)
    desk.bar("10")  # the first child of 25 fills 10
    assert (parent.status, parent.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(10))
    assert desk.engine.modify(parent.client_order_id, quantity=Decimal(60))
    commands = desk.engine.flush()
    assert not [c for c in commands if type(c) is ModifyAtVenue]  # the venue has no parent
    for command in commands:
        for report in desk.venue.handle(command):
            desk.engine.on_venue_event(report)
    assert (parent.status, parent.quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(60))
    for _ in range(12):
        desk.bar("1000")
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(60))
    assert desk.engine.state.position_quantity(XYZ.id) == 60  # was 100


def test_algo_parent_cut_to_what_it_filled_is_filled_and_its_child_cancelled() -> None:
    desk = Desk()
    desk.bar("1000")
    parent = _twap(desk, 100, "101", slices=4)
    desk.bar("10")
    [first] = _children(desk, parent)
    assert desk.engine.modify(parent.client_order_id, quantity=Decimal(10))
    desk.dispatch()
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(10))
    assert first.status is OrderStatus.CANCELLED
    for _ in range(5):
        desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 10
    assert len(_children(desk, parent)) == 1


def test_algo_guard_moved_below_a_working_child_is_never_crossed() -> None:
    desk = Desk()
    events = _record(desk)
    desk.bar("0")
    parent = _twap(desk, 100, "101", slices=2)
    [first] = _children(desk, parent)
    assert first.price == Decimal(100)  # the market, better than the guard 101
    assert desk.engine.modify(parent.client_order_id, price=Decimal(99))
    desk.dispatch()
    for _ in range(12):
        desk.bar("1000")  # trades at 100, above the new guard
    fills = [e for e in events if type(e) is OrderFilled]
    assert all(f.last_price <= 99 for f in fills), fills
    assert parent.filled_quantity == 0
    assert all(c.price is not None and c.price <= 99 for c in _children(desk, parent)[1:])


def test_algo_iceberg_price_change_moves_the_shown_slice() -> None:
    desk = Desk()
    desk.bar("0")
    parent = desk.engine.submit_algo(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal(9),
            price=Decimal(99),
        ),
        IcebergSpec(display_quantity=Decimal(3)),
    )
    desk.dispatch()
    [first] = _children(desk, parent)
    assert desk.engine.modify(parent.client_order_id, price=Decimal(100))
    desk.dispatch()
    assert first.status is OrderStatus.CANCELLED
    shown = [c for c in _children(desk, parent) if c.is_open]
    assert [(c.quantity, c.price) for c in shown] == [(Decimal(3), Decimal(100))]
    for _ in range(4):
        desk.bar("1000")
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(9))


def test_reduce_only_algo_parent_partly_filled_is_fitted_to_a_shrunk_position() -> None:
    """The engine cuts working reduce-only orders to the position after another order
    closes part of it; a partly filled algo parent's cut went to the venue and was
    refused, so its next child was denied and it stopped with the position half open."""
    desk = Desk()
    desk.bar("1000")
    desk.engine.submit(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=Decimal(100),
        )
    )
    desk.dispatch()
    desk.bar("1000")
    now = desk.clock.now_ns()
    parent = desk.engine.submit_algo(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.SELL,
            order_type=OrderType.LIMIT,
            quantity=Decimal(100),
            price=Decimal(99),
            reduce_only=True,
        ),
        TwapSpec(start_ns=now, end_ns=now + 4 * MINUTE, slices=4),
    )
    desk.dispatch()
    desk.bar("10")  # its first child of 25 sells 10
    desk.engine.submit(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.SELL,
            order_type=OrderType.MARKET,
            quantity=Decimal(60),
        )
    )
    desk.dispatch()
    desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 30
    assert (parent.quantity, parent.filled_quantity) == (Decimal(40), Decimal(10))
    for _ in range(8):
        desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 0  # was 30: the parent stopped
    assert parent.status is OrderStatus.FILLED


def test_child_of_an_algo_cannot_be_changed_by_request() -> None:
    """A child's change was applied as asked: a TWAP of 100 whose child was raised to 500
    bought 500."""
    desk = Desk()
    desk.bar("0")
    parent = _twap(desk, 100, "101", slices=4)
    [child] = _children(desk, parent)
    with pytest.raises(OrderValidationError) as caught:
        desk.engine.modify(child.client_order_id, quantity=Decimal(500))
    assert caught.value.code == "INVALID_MODIFY"
    assert f"worked by parent {parent.client_order_id} (TWAP)" in str(caught.value)
    for _ in range(12):
        desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 100
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(100))


# Plain icebergs (OrderType.ICEBERG without an algo) -------------------------------------


def test_partly_filled_iceberg_is_cut_by_the_engine_and_buys_only_the_new_quantity() -> None:
    """Its change went to the venue, which never held the parent: refused, it bought 12."""
    desk = Desk()
    desk.bar("1000")
    parent = desk.engine.submit(iceberg("12", "4"))
    desk.dispatch()
    desk.bar("2")  # the first slice fills 2 of 4
    assert desk.engine.modify(parent.client_order_id, quantity=Decimal(6))
    commands = desk.engine.flush()
    assert not [c for c in commands if type(c) is ModifyAtVenue and c.client_order_id == "O-1"]
    for command in commands:
        for report in desk.venue.handle(command):
            desk.engine.on_venue_event(report)
    assert (parent.status, parent.quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(6))
    for _ in range(6):
        desk.bar("1000")
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(6))
    assert desk.engine.state.position_quantity(XYZ.id) == 6


def test_iceberg_cut_below_its_slice_resizes_the_slice() -> None:
    """The slice of 4 kept working after the parent was cut to 2, and filled 4."""
    desk = Desk()
    events = _record(desk)
    desk.bar("0")
    parent = desk.engine.submit(iceberg("12", "4"))
    desk.dispatch()
    [shown] = _children(desk, parent)
    assert desk.engine.modify(parent.client_order_id, quantity=Decimal(2))
    desk.dispatch()
    assert (shown.quantity, shown.status) == (Decimal(2), OrderStatus.ACCEPTED)
    for _ in range(4):
        desk.bar("1000")
    assert desk.engine.state.position_quantity(XYZ.id) == 2
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, Decimal(2))
    assert not [e for e in events if type(e) is RiskAlertRaised]


def test_iceberg_price_change_moves_its_slice_and_a_slice_below_the_minimum_is_refused() -> None:
    desk = Desk()
    desk.bar("0")
    parent = desk.engine.submit(iceberg("12", "4"))
    desk.dispatch()
    [shown] = _children(desk, parent)
    assert desk.engine.modify(parent.client_order_id, price=Decimal(100))
    desk.dispatch()
    assert shown.price == Decimal(100)
    desk.bar("4")  # the slice fills; the next slice of 4 shows
    assert parent.filled_quantity == 4
    with pytest.raises(OrderValidationError) as caught:  # a slice of 1: below the minimum 2
        desk.engine.modify(parent.client_order_id, quantity=Decimal(5))
    assert caught.value.code == "INVALID_MODIFY"
    assert "its slice" in str(caught.value)
    assert parent.quantity == 12  # nothing changed


def test_reduce_only_iceberg_fitted_twice_before_its_slice_answers_does_not_raise() -> None:
    """The engine's own cut of a reduce-only iceberg (fills of other orders shrinking the
    position) meets a slice whose resize is still in flight: it is left to the next fit,
    not refused with an error out of the fill handling."""
    desk = Desk()
    desk.bar("1000")
    buy = OrderRequest(
        instrument_id=XYZ.id, side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=Decimal(40)
    )
    desk.engine.submit(buy)
    desk.dispatch()
    desk.bar("1000")
    parent = desk.engine.submit(
        OrderRequest(
            instrument_id=XYZ.id,
            side=OrderSide.SELL,
            order_type=OrderType.ICEBERG,
            quantity=Decimal(40),
            price=Decimal(150),
            display_quantity=Decimal(10),
            reduce_only=True,
        )
    )
    desk.dispatch()
    for quantity in (20, 12, 3):  # all fill on the next bar, before any dispatch
        desk.engine.submit(
            OrderRequest(
                instrument_id=XYZ.id,
                side=OrderSide.SELL,
                order_type=OrderType.MARKET,
                quantity=Decimal(quantity),
            )
        )
    desk.dispatch()
    desk.bar("1000")  # position 40 -> 20 -> 8 (slice resized to 8) -> 5
    assert desk.engine.state.position_quantity(XYZ.id) == 5
    assert (parent.status, parent.quantity) == (OrderStatus.ACCEPTED, Decimal(5))
