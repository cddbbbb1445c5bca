"""An emergency stop's flatten closes a position larger than one order may be: in pieces
within the order-size limits, each passing the pre-trade checks. Real engine, simulated
venue, no mocks."""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TradingState
from alphintra.domain.market import QuoteTick
from alphintra.risk.limits import RiskLimits
from alphintra.risk.monitors import MonitorLimits, RiskMonitor
from risk.eurusd_flow import Bench, bench_engine, pump

D = Decimal
T0 = 1_700_000_000 * 10**9
MS = 1_000_000


def _tick(bench: Bench, mid: str) -> None:
    engine, venue, clock, eurusd = bench
    clock.advance_to(clock.now_ns() + MS)
    pip = D("0.00001")
    tick = QuoteTick(eurusd.id, D(mid) - pip, D(mid) + pip, D(10**7), D(10**7), clock.now_ns())
    for report in venue.on_market_data(tick):
        engine.on_venue_event(report)
    engine.on_market_data(tick)


def _long(limits: RiskLimits, pieces: int) -> Bench:
    """A bench long ``pieces`` x 10,000 EURUSD, bought in orders of 10,000."""
    bench = bench_engine(limits, D(10_000_000), T0)
    engine, _, _, eurusd = bench
    _tick(bench, "1.10000")
    for _ in range(pieces):
        order = engine.submit(
            OrderRequest(
                instrument_id=eurusd.id,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=D(10_000),
            )
        )
        assert order.status is not OrderStatus.DENIED
        pump(bench)
    assert engine.state.position_quantity(eurusd.id) == D(10_000 * pieces)
    return bench


def test_drawdown_flatten_closes_a_position_over_the_order_quantity_limit() -> None:
    bench = _long(RiskLimits(max_order_quantity=D(10_000)), 3)
    engine, _, _, eurusd = bench
    engine.attach_monitor(
        RiskMonitor(MonitorLimits(max_drawdown=D("0.0001"), flatten_on_drawdown=True))
    )
    _tick(bench, "1.10000")  # the peak
    _tick(bench, "1.05000")  # 1,500 lost of 10,000,000: over 0.01 %
    assert engine.state.trading_state is TradingState.HALTED
    closes = [o for o in engine.state.orders.values() if o.reduce_only]
    assert [(o.quantity, o.status is OrderStatus.DENIED) for o in closes] == [
        (D(10_000), False)
    ] * 3
    pump(bench)
    _tick(bench, "1.05000")
    assert engine.state.position_quantity(eurusd.id) == 0


def test_flatten_pieces_respect_the_order_notional_limit() -> None:
    bench = _long(RiskLimits(max_order_notional=D(12_000)), 2)  # about 10,000 per order
    engine, _, _, eurusd = bench
    orders = engine.flatten("kill switch")
    # 12,000 / 1.1 = 10,909.09...: pieces of 10,909 (lot 1), the last 20,000 - 10,909.
    assert [o.quantity for o in orders] == [D(10_909), D(9_091)]
    assert all(o.status is not OrderStatus.DENIED for o in orders)
    pump(bench)
    _tick(bench, "1.10000")
    assert engine.state.position_quantity(eurusd.id) == 0
