"""Review findings fixed in the engine (``src/alphintra/engine``): a modify is risk-checked,
the throttle survives a limits change, the breaker counts working orders, the kill switch
reaches a closed parent's slice, and HALTED is never downgraded to REDUCING. Each docstring
names the fix. Real engine, simulated venue, no mocks."""

from __future__ import annotations

import contextlib
import dataclasses
from decimal import Decimal

from alphintra.domain.commands import ModifyAtVenue, OrderRequest, VenueCommand
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TradingState
from alphintra.domain.events import OrderCancelRejected
from alphintra.domain.market import QuoteTick
from alphintra.domain.orders import Order
from alphintra.orders.factory import OrderValidationError
from alphintra.risk.limits import RiskLimits, Throttle
from alphintra.risk.monitors import MonitorLimits, RiskMonitor
from risk.eurusd_flow import Bench, bench_engine

D = Decimal
T0 = 1_700_000_000 * 10**9
MS = 1_000_000


def _tick(bench: Bench, mid: str) -> None:
    engine, venue, clock, eurusd = bench
    pip = D("0.00001")
    tick = QuoteTick(eurusd.id, D(mid) - pip, D(mid) + pip, D(10**6), D(10**6), clock.now_ns())
    for report in venue.on_market_data(tick):
        engine.on_venue_event(report)
    engine.on_market_data(tick)


def _answer(bench: Bench) -> list[VenueCommand]:
    """Hand every released command to the venue and its reports back; return them."""
    engine, venue, _, _ = bench
    sent: list[VenueCommand] = []
    commands = engine.flush()
    while commands:
        sent.extend(commands)
        for command in commands:
            for report in venue.handle(command):
                engine.on_venue_event(report)
        commands = engine.flush()
    return sent


def _submit(bench: Bench, side: OrderSide, quantity: int, price: str | None = None) -> Order:
    engine, _, _, eurusd = bench
    return engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=side,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            quantity=D(quantity),
            price=D(price) if price is not None else None,
        )
    )


def test_modify_cannot_take_a_working_order_beyond_the_limits() -> None:
    """Fix (core.py ``modify``): before emitting OrderModified or
    OrderPendingModify, when the quantity grows or a price changes, run ``check_order``
    on the order as modified (``msgspec.structs.replace(self._inits[id], quantity=...,
    price=..., trigger_price=...)``, its own ID so that its current leaves are left
    out) against the context with ``bound=None`` (the portfolio bound counts the order
    at its old quantity, so its fast path must not vouch), and refuse the change with
    ``OrderValidationError(denial.code, denial.reason)``; the order keeps working as it
    was. A REDUCING or HALTED account then refuses growth too."""
    limits = RiskLimits(max_order_quantity=D(10_000), max_position_quantity=D(10_000))
    bench = bench_engine(limits, D(1_000_000), T0)
    _tick(bench, "1.10000")
    resting = _submit(bench, OrderSide.BUY, 10_000, "1.05000")  # far below: it rests
    _answer(bench)
    assert resting.status is OrderStatus.ACCEPTED
    engine = bench[0]
    with contextlib.suppress(OrderValidationError):  # refused: it keeps working at 10,000
        engine.modify(resting.client_order_id, quantity=D(5_000_000))
    grown = [
        c
        for c in _answer(bench)
        if type(c) is ModifyAtVenue and c.quantity is not None and c.quantity > D(10_000)
    ]
    assert grown == []
    assert resting.quantity <= D(10_000)


def test_throttle_keeps_counting_across_a_runtime_limits_change() -> None:
    """Fix (core.py ``_risk_context``): keep the existing ``_order_rate`` when
    the new limits still have a throttle, widening its ``horizon_ns`` to the longest new
    window (``max(old, new)``) instead of ``OrderRateWindow.for_windows(...)`` anew; build
    one only when there was none."""
    throttle = Throttle(max_orders=2, window_ms=60_000)
    bench = bench_engine(RiskLimits(account_throttle=throttle), D(1_000_000), T0)
    engine, _, clock, _ = bench
    _tick(bench, "1.10000")
    for _ in range(2):
        assert _submit(bench, OrderSide.BUY, 1_000).status is not OrderStatus.DENIED
        _answer(bench)
        clock.advance_to(clock.now_ns() + MS)
    assert _submit(bench, OrderSide.BUY, 1_000).status is OrderStatus.DENIED  # 2 in 60 s
    # An unrelated limit changes at runtime; the throttle stays as it was.
    engine.limits = dataclasses.replace(engine.limits, max_order_quantity=D(10**9))
    clock.advance_to(clock.now_ns() + MS)
    third = _submit(bench, OrderSide.BUY, 1_000)
    assert third.status is OrderStatus.DENIED
    assert engine.state.denials[third.client_order_id].reason_code == "ACCOUNT_ORDER_RATE"


def test_tripped_breaker_denies_a_burst_of_reducing_orders_that_crosses_zero() -> None:
    """Long 10,000 with the breaker tripped: one sell of 10,000 reduces; a second one,
    sent before the first fills, would open a 10,000 short (an entry the breaker must
    block). Fix (engine.py ``_breaker_denies``): allow only orders that are
    risk-reducing with the working orders, as REDUCING does: for a reduce-only order
    ``closes_within_position``, else ``is_reducing(side, position)`` and
    ``alphintra.risk.books.side_reach(self.state, init)[1] == 0`` (the order being
    already recorded, it is left out and added once)."""
    bench = bench_engine(RiskLimits(), D(1_000_000), T0)
    engine, _, clock, eurusd = bench
    engine.attach_monitor(
        RiskMonitor(MonitorLimits(jump_threshold=0.01, volatility_window=2, reduce_fraction=D(0)))
    )
    _tick(bench, "1.10000")
    _submit(bench, OrderSide.BUY, 10_000)
    _answer(bench)
    assert engine.state.position_quantity(eurusd.id) == D(10_000)
    clock.advance_to(clock.now_ns() + MS)
    _tick(bench, "1.20000")  # a 9 % jump: the breaker trips
    assert engine.monitor is not None and engine.monitor.entries_blocked(eurusd.id)
    first = _submit(bench, OrderSide.SELL, 10_000, "1.30000")  # rests: reduces the long
    assert first.status is not OrderStatus.DENIED
    second = _submit(bench, OrderSide.SELL, 10_000, "1.30000")
    assert second.status is OrderStatus.DENIED


def test_kill_switch_cancels_the_working_slice_of_a_closed_parent() -> None:
    """An iceberg is cancelled; the venue refuses its slice's cancel (the order stays
    as it was, working). The emergency stop must still cancel it. Fix
    (engine.py ``cancel_all``): skip a slice only while its parent is open, i.e.
    ``if order.parent_id is not None and self._is_slice(order) and
    self.state.orders[order.parent_id].is_open: continue``."""
    bench = bench_engine(RiskLimits(), D(1_000_000), T0)
    engine, _, clock, eurusd = bench
    _tick(bench, "1.10000")
    parent = engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.ICEBERG,
            quantity=D(50_000),
            display_quantity=D(10_000),
            price=D("1.05"),
        )
    )
    _answer(bench)
    (working,) = [o for o in engine.state.open_orders.values() if o.parent_id is not None]
    engine.cancel(parent.client_order_id)
    engine.flush()  # the slice's cancel goes out; the venue refuses it
    ts = clock.now_ns()
    engine.on_venue_event(
        OrderCancelRejected(
            account_id=engine.account_id,
            client_order_id=working.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            reason="venue busy",
        )
    )
    assert working.status is OrderStatus.ACCEPTED  # as it was before the cancel
    engine.set_trading_state(TradingState.HALTED, "kill switch")
    engine.cancel_all("kill switch")
    assert engine.state.orders[working.client_order_id].status is OrderStatus.PENDING_CANCEL


def test_daily_loss_breach_after_a_manual_kill_switch_keeps_the_account_halted() -> None:
    """Fix (engine.py ``_act``): for ``EnterReducing``, alert but change the
    state only from ACTIVE (``if self.state.trading_state is TradingState.ACTIVE``).
    (The monitor's own emergency stop is fixed in `RiskMonitor.on_equity`; the manual
    one, through ``set_trading_state(HALTED)``, is not visible to the monitor.)"""
    bench = bench_engine(RiskLimits(), D(1_000_000), T0)
    engine, _, clock, eurusd = bench
    engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=D(1_000))))
    _tick(bench, "1.10000")
    _submit(bench, OrderSide.BUY, 100_000)
    _answer(bench)
    assert engine.state.position_quantity(eurusd.id) == D(100_000)
    engine.set_trading_state(TradingState.HALTED, "kill switch")  # as the service does
    engine.cancel_all("kill switch")
    clock.advance_to(clock.now_ns() + MS)
    _tick(bench, "1.05000")  # 5,000 lost today, over 1,000
    assert engine.state.trading_state is TradingState.HALTED
