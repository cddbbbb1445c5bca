"""An exit that cannot be cut to the position (what is left is below the instrument's
minimum quantity) is cancelled, and the fill that shrank the position is booked.

Before, the cut raised out of fill processing: the fill's follow-up stopped half way
and the service fail-stopped the account, with the oversized exit still working.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.registry import InstrumentRegistry
from alphintra.risk.limits import RiskLimits
from risk.eurusd_flow import bench_engine, pump, quote

D = Decimal
T0 = 1_700_000_000 * 10**9


def test_exit_below_the_minimum_after_a_partial_close_is_cancelled_not_raised() -> None:
    eurusd = dataclasses.replace(
        InstrumentRegistry().get("EURUSD"), lot_size=D(1), min_quantity=D(1000)
    )
    bench = bench_engine(RiskLimits(), D(1_000_000), T0, eurusd=eurusd)
    engine = bench[0]
    quote(bench, "1.10000")
    pump(bench)

    def send(side: OrderSide, quantity: int, price: str | None = None) -> None:
        engine.submit(
            OrderRequest(
                instrument_id=eurusd.id,
                side=side,
                order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                quantity=D(quantity),
                price=None if price is None else D(price),
                reduce_only=price is not None,
            )
        )
        pump(bench)

    send(OrderSide.BUY, 10_000)
    send(OrderSide.SELL, 10_000, price="1.20000")  # a reduce-only take-profit
    (exit_order,) = engine.state.open_orders.values()
    assert exit_order.reduce_only and exit_order.quantity == D(10_000)
    send(OrderSide.SELL, 9_500)  # leaves 500, below the minimum of 1,000
    assert engine.state.position_quantity(eurusd.id) == D(500)
    assert exit_order.status is OrderStatus.CANCELLED
    assert not engine.state.open_orders
