"""The portfolio bound does not keep every order it ever counted. In a flow that never
rebuilds it (market orders that fill at once, no modify, no snapshot mark) it used to
hold the ID of every order for the life of the process."""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.risk.limits import ExposureLimits, RiskLimits
from alphintra.risk.portfolio_bound import PRUNE_FLOOR
from risk.eurusd_flow import bench_engine, pump, quote

D = Decimal
T0 = 1_700_000_000 * 10**9


def test_the_bound_forgets_closed_orders_and_still_vouches_for_working_ones() -> None:
    limits = RiskLimits(exposure=ExposureLimits(max_gross_exposure=D(10) ** 15))
    bench = bench_engine(limits, D(10**9), T0)
    engine, _, _, eurusd = bench
    quote(bench, "1.10000")
    for _ in range(3 * PRUNE_FLOOR):
        engine.submit(
            OrderRequest(
                instrument_id=eurusd.id,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=D(1000),
            )
        )
        pump(bench)
        quote(bench, "1.10000")
    bound = engine._bound
    assert bound is not None and bound.valid
    working = engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D(1000),
            price=D("1.09000"),
        )
    )
    assert engine.state.position_quantity(eurusd.id) == D(1000) * 3 * PRUNE_FLOOR
    assert bound.vouches_for(working.client_order_id)
    # Before: one ID per order ever placed (3,073 here), growing without end.
    assert len(bound._counted) <= 2 * PRUNE_FLOOR, len(bound._counted)
