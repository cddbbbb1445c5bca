"""The monitor's figures survive a restart: the engine journals them
(``EquityMarksRecorded``) and a restored engine's monitor carries on from them. Real
engine, simulated venue, journal replay; no mocks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType, TradingState
from alphintra.domain.market import QuoteTick
from alphintra.engine.engine import TradingEngine
from alphintra.engine.replay import rebuild_engine, take_snapshot
from alphintra.risk.limits import RiskLimits
from alphintra.risk.monitors import MonitorLimits, RiskMonitor
from alphintra.store.memory import MemoryJournal
from alphintra.store.sqlite import SqliteJournal
from risk.eurusd_flow import Bench, bench_engine

D = Decimal
T0 = 1_700_000_000 * 10**9
MS = 1_000_000


def _tick(bench: Bench, mid: str) -> None:
    engine, venue, clock, eurusd = bench
    clock.advance_to(clock.now_ns() + MS)
    pip = D("0.00001")
    tick = QuoteTick(eurusd.id, D(mid) - pip, D(mid) + pip, D(10**6), D(10**6), clock.now_ns())
    for report in venue.on_market_data(tick):
        engine.on_venue_event(report)
    engine.on_market_data(tick)


def test_daily_loss_before_a_restart_still_counts_after_it() -> None:
    """500 lost, a restart, 650 more lost: 1,150 since the day's start, over the 1,000
    limit. The engine journals the monitor's figures when they change (a new day's
    start, a new peak) as ``EquityMarksRecorded``, which the state keeps, and a monitor
    attached to the restored engine carries on from them."""
    bench = bench_engine(RiskLimits(), D(1_000_000), T0)
    engine, venue, clock, eurusd = bench
    engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=D(1_000))))
    _tick(bench, "1.10000")
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
    _tick(bench, "1.09500")  # about 500 lost
    assert engine.state.trading_state is TradingState.ACTIVE
    engine.flush(force=True)
    journal = engine.journal
    assert isinstance(journal, MemoryJournal)
    events = [record.event for record in journal.read(engine.account_id)]
    restarted = TradingEngine(
        account_id=engine.account_id,
        registry=engine.registry,
        journal=MemoryJournal(),
        clock=clock,
        venues=dict(engine.venues),
        default_venue=engine.default_venue,
        limits=RiskLimits(),
    )
    restarted.restore(events)
    assert restarted.state.position_quantity(eurusd.id) == D(100_000)
    restarted.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=D(1_000))))
    again: Bench = (restarted, venue, clock, eurusd)
    _tick(again, "1.09500")
    _tick(again, "1.08850")  # 1,150 lost since the day's start
    assert restarted.state.trading_state is TradingState.REDUCING


@pytest.mark.parametrize("use_snapshot", [False, True])
def test_drawdown_peak_survives_a_restart_from_a_sqlite_journal(
    tmp_path: Path, use_snapshot: bool
) -> None:
    """The peak reached before a restart (the SQLite journal, replayed whole or from a
    snapshot taken after it) still bounds the drawdown after it: equity falls from it
    by more than the limit across the restart, and the emergency stop halts."""
    journal = SqliteJournal(tmp_path / "journal.db")
    bench = bench_engine(RiskLimits(), D(1_000_000), T0, journal=journal)
    engine, venue, clock, eurusd = bench
    monitor_limits = MonitorLimits(max_drawdown=D("0.004"))
    engine.attach_monitor(RiskMonitor(monitor_limits))
    _tick(bench, "1.10000")
    engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(1_000_000),
        )
    )
    for command in engine.flush():
        for report in venue.handle(command):
            engine.on_venue_event(report)
    _tick(bench, "1.10300")  # a new peak, about 3,000 above the start
    engine.flush(force=True)
    recorded = engine.state.equity_marks
    assert recorded is not None and engine.monitor is not None
    assert recorded.high_water == engine.monitor.high_water
    if use_snapshot:
        take_snapshot(engine, journal)

    def make_engine() -> TradingEngine:
        return TradingEngine(
            account_id=engine.account_id,
            registry=engine.registry,
            journal=journal,
            clock=clock,
            venues=dict(engine.venues),
            default_venue=engine.default_venue,
            limits=RiskLimits(),
        )

    restarted = rebuild_engine(journal, engine.account_id, make_engine, use_snapshot=use_snapshot)
    assert restarted.state.equity_marks == recorded
    restarted.attach_monitor(RiskMonitor(monitor_limits))
    again: Bench = (restarted, venue, clock, eurusd)
    _tick(again, "1.10000")  # back at the start: 3,000 below the peak, within 0.4 %
    within = restarted.state.trading_state
    _tick(again, "1.09700")  # 6,000 below the peak of about 1,003,000: over 0.4 %
    assert (within, restarted.state.trading_state) == (TradingState.ACTIVE, TradingState.HALTED)
    journal.close()
