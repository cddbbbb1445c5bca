"""Review: algo terms that can never work are refused when the parent is placed.

A POV whose ``max_child_quantity`` is below one lot, or below the instrument's minimum
quantity, caps every child to nothing: before the fix the parent was accepted (200
over the API) and then sat without ever sending a child, for ever when it had no end
time.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.execution.algorithms import AlgoSpec, IcebergSpec, PovSpec, SorSpec, TwapSpec
from alphintra.execution.routing import VenueProfile
from alphintra.orders.factory import OrderValidationError
from orders.test_review_iceberg import MINUTE, XYZ, Desk  # XYZ: lot 1, minimum 2


def _request(quantity: str) -> OrderRequest:
    return OrderRequest(
        instrument_id=XYZ.id,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(quantity),
        price=Decimal(101),
    )


@pytest.mark.parametrize("cap", ["1", "0.5", "1.9"])
def test_pov_whose_child_cap_is_below_the_instrument_minimum_is_refused(cap: str) -> None:
    desk = Desk()
    desk.bar("1000")
    spec = PovSpec(participation=Decimal("0.5"), start_ns=0, max_child_quantity=Decimal(cap))
    with pytest.raises(OrderValidationError) as caught:
        desk.engine.submit_algo(_request("10"), spec)
    assert caught.value.code == "INVALID_ALGO"
    assert f"max_child_quantity {cap}" in str(caught.value)
    assert list(desk.engine.state.orders) == []  # nothing recorded


def test_pov_child_cap_rounded_to_the_lot_still_works() -> None:
    desk = Desk()
    desk.bar("1000")
    spec = PovSpec(participation=Decimal("0.5"), start_ns=0, max_child_quantity=Decimal("3.5"))
    parent = desk.engine.submit_algo(_request("9"), spec)
    desk.dispatch()
    for _ in range(8):
        desk.bar("1000")
    assert parent.status is OrderStatus.FILLED
    children = [o for o in desk.engine.state.orders.values() if o.parent_id]
    assert all(c.quantity <= 3 for c in children)


# Post-only -------------------------------------------------------------------------------


def _post_only(quantity: str) -> OrderRequest:
    return OrderRequest(
        instrument_id=XYZ.id,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(quantity),
        price=Decimal(101),
        post_only=True,
    )


@pytest.mark.parametrize(
    "spec",
    [
        TwapSpec(start_ns=0, end_ns=10 * MINUTE, slices=2),
        PovSpec(participation=Decimal("0.5"), start_ns=0),
        SorSpec(),
    ],
    ids=["TWAP", "POV", "SOR"],
)
def test_post_only_parent_of_a_liquidity_taking_algo_is_refused(spec: AlgoSpec) -> None:
    """Children go out at the marketable price (SOR: IOC). A post-only TWAP's first
    child was rejected by the venue, which cancelled the parent; an SOR's children were
    sent without the flag and took liquidity the trader had refused to take."""
    desk = Desk()
    desk.engine.set_routing_profile(desk.venue.venue_id, VenueProfile())
    desk.bar("1000")
    with pytest.raises(OrderValidationError) as caught:
        desk.engine.submit_algo(_post_only("10"), spec)
    assert caught.value.code == "INVALID_ALGO"
    assert "post-only" in str(caught.value)
    assert list(desk.engine.state.orders) == []


def test_post_only_iceberg_algo_still_rests_its_slices_post_only() -> None:
    desk = Desk()
    desk.bar("1000")
    parent = desk.engine.submit_algo(_post_only("10"), IcebergSpec(Decimal(5)))
    desk.dispatch()
    children = [o for o in desk.engine.state.orders.values() if o.parent_id]
    assert parent.is_open and [c.post_only for c in children] == [True]


def test_child_cap_refusal_writes_decimals_plainly() -> None:
    desk = Desk()
    desk.bar("1000")
    spec = PovSpec(participation=Decimal("0.5"), start_ns=0, max_child_quantity=Decimal("1E-9"))
    with pytest.raises(OrderValidationError) as caught:
        desk.engine.submit_algo(_request("10"), spec)
    assert str(caught.value).startswith("max_child_quantity 0.000000001 leaves no child")
