"""Working reduce-only orders stay within the position they protect. A partial close
by another order leaves a bracket's exits larger than the position, and a fill that
takes the position across zero leaves exits on the side that now adds to it; the
simulated venue, like IB, does not enforce reduce-only, so either filled in full would
open a position on the other side. The engine cuts the first to the position and
cancels the second. Real engine, simulated venue, EUR/USD quotes; no mocks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.orders import Order
from alphintra.risk.limits import RiskLimits
from risk.eurusd_flow import Bench, bench_engine, pump, quote

D = Decimal
T0 = 1_700_000_000 * 10**9


def _tick(bench: Bench, mid: str) -> None:
    quote(bench, mid)
    pump(bench)


def _long_with_bracket() -> tuple[Bench, Order, Order]:
    bench = bench_engine(RiskLimits(), D(1_000_000), T0)
    engine, _, _, eurusd = bench
    _tick(bench, "1.10000")
    entry, stop, target = engine.submit_bracket(
        BracketRequest(
            entry=OrderRequest(
                instrument_id=eurusd.id,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=D(100_000),
            ),
            stop_loss=D("1.09000"),
            take_profit=D("1.12000"),
        )
    )
    pump(bench)
    _tick(bench, "1.10000")
    assert entry.status is OrderStatus.FILLED
    assert engine.state.position_quantity(eurusd.id) == D(100_000)
    return bench, stop, target


def _sell(bench: Bench, quantity: int) -> None:
    engine, _, _, eurusd = bench
    engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.SELL,
            order_type=OrderType.MARKET,
            quantity=D(quantity),
        )
    )
    pump(bench)


def test_a_partial_close_cuts_the_exits_and_the_stop_then_only_flattens() -> None:
    bench, stop, target = _long_with_bracket()
    engine, _, _, eurusd = bench
    _sell(bench, 40_000)
    assert engine.state.position_quantity(eurusd.id) == D(60_000)
    assert (stop.quantity, target.quantity) == (D(60_000), D(60_000))
    _tick(bench, "1.08900")  # through the stop
    _tick(bench, "1.08800")
    assert stop.status is OrderStatus.FILLED and stop.filled_quantity == D(60_000)
    assert engine.state.position_quantity(eurusd.id) == 0  # before: short 40,000


def test_a_fill_across_zero_cancels_the_exits_that_would_add_to_the_new_side() -> None:
    bench, stop, target = _long_with_bracket()
    engine, _, _, eurusd = bench
    _sell(bench, 150_000)  # long 100,000 to short 50,000
    assert engine.state.position_quantity(eurusd.id) == D(-50_000)
    assert (stop.status, target.status) == (OrderStatus.CANCELLED, OrderStatus.CANCELLED)
    _tick(bench, "1.12100")  # through the old take-profit: nothing more sells
    assert engine.state.position_quantity(eurusd.id) == D(-50_000)


@pytest.mark.parametrize("closed", [10_000, 99_999])
def test_exits_are_cut_to_what_a_partial_close_leaves(closed: int) -> None:
    bench, stop, target = _long_with_bracket()
    engine, _, _, eurusd = bench
    _sell(bench, closed)
    left = D(100_000 - closed)
    assert engine.state.position_quantity(eurusd.id) == left
    assert [o.quantity for o in (stop, target)] == [left, left]
    assert stop.is_open and target.is_open


def test_exits_are_not_grown_when_another_order_adds_to_the_position() -> None:
    """Only what would go past zero is cut: an unprotected addition stays unprotected."""
    bench, stop, target = _long_with_bracket()
    engine, _, _, eurusd = bench
    engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(50_000),
        )
    )
    pump(bench)
    assert engine.state.position_quantity(eurusd.id) == D(150_000)
    assert [o.quantity for o in (stop, target)] == [D(100_000), D(100_000)]
