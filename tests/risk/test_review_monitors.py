"""Review findings in the risk monitors (`alphintra.risk.monitors`)."""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType, TradingState
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.risk.limits import RiskLimits
from alphintra.risk.monitors import (
    NANOS_PER_SECOND,
    EnterReducing,
    MonitorLimits,
    RiskMonitor,
)
from risk.eurusd_flow import Bench, bench_engine

D = Decimal
DAY = 86_400 * NANOS_PER_SECOND
T_DAY2 = 1_700_006_400 * NANOS_PER_SECOND  # 2023-11-15 00:00:00 UTC
HOUR = 3_600 * NANOS_PER_SECOND


def test_daily_loss_late_timestamp_from_the_previous_day_does_not_reset_the_day() -> None:
    """A report stamped before midnight that arrives after the day rolled (a late
    fill or quote) must not move the trading day back, and then forward again: each
    move restarts the day's start equity at the current equity, erasing the loss."""
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(80)))
    assert monitor.on_equity(T_DAY2 + HOUR, D(1000)) == []  # today's start: 1000
    assert monitor.on_equity(T_DAY2 - NANOS_PER_SECOND * 5, D(950)) == []  # late, yesterday
    actions = monitor.on_equity(T_DAY2 + 2 * HOUR, D(900))  # 100 lost today, limit 80
    assert monitor.day_start_equity == D(1000)
    assert [type(a) for a in actions] == [EnterReducing]


def _halting_drop() -> tuple[Bench, Instrument]:
    """An account of 1,000,000 USD long 100,000 EURUSD at 1.1: a drop to 0.99 loses
    11,000, breaching the drawdown (limit 1 %) and the daily loss (limit 1,000) in the
    same update."""
    bench = bench_engine(RiskLimits(), D(1_000_000), T_DAY2 + HOUR)
    engine, venue, clock, eurusd = bench
    engine.attach_monitor(
        RiskMonitor(MonitorLimits(max_drawdown=D("0.01"), daily_loss_limit=D(1_000)))
    )
    _quote(bench, "1.10000")
    engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(100_000),
        )
    )
    for command in engine.flush():
        for report in venue.handle(command):
            engine.on_venue_event(report)
    assert engine.state.position_quantity(eurusd.id) == D(100_000)
    clock.advance_to(clock.now_ns() + NANOS_PER_SECOND)
    return bench, eurusd


def _quote(bench: Bench, mid: str) -> None:
    engine, venue, clock, eurusd = bench
    pip = D("0.00001")
    tick = QuoteTick(eurusd.id, D(mid) - pip, D(mid) + pip, D(10**6), D(10**6), clock.now_ns())
    engine.on_market_data(tick)
    venue.on_market_data(tick)


def test_drawdown_stop_and_daily_loss_in_one_update_leave_the_account_halted() -> None:
    """The emergency stop halts; the daily-loss breach seen in the same update must not
    then turn HALTED into REDUCING (which accepts orders again)."""
    bench, _ = _halting_drop()
    engine = bench[0]
    _quote(bench, "0.99000")  # about 11,000 lost: 1.1 % down
    assert engine.state.trading_state is TradingState.HALTED
