"""The previous day's close survives a restart: the engine journals the monitor's latest
equity (``EquityMarksRecorded.last_equity``), sampled while it moves and exact at a clean
shutdown, and a restart on a later day starts that day at it, so an overnight gap over
the restart still counts toward the daily loss. Real engine, simulated venue, journal
replay (memory and SQLite); no mocks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType, TradingState
from alphintra.domain.events import EquityMarksRecorded
from alphintra.engine.engine import TradingEngine
from alphintra.engine.replay import rebuild_engine
from alphintra.risk.limits import RiskLimits
from alphintra.risk.monitors import (
    CLOSE_CARRY_DAYS,
    CLOSE_SAMPLE_NS,
    MonitorLimits,
    RiskMonitor,
)
from alphintra.store.codec import decode_event, encode_event
from alphintra.store.journal import Journal
from alphintra.store.memory import MemoryJournal
from alphintra.store.sqlite import SqliteJournal
from risk.eurusd_flow import Bench, bench_engine, pump, quote

D = Decimal
SECOND = 10**9
DAY = 86_400 * SECOND
T0 = (1_700_000_000 * SECOND // DAY) * DAY + 9 * 3600 * SECOND  # 09:00 UTC on a day
LIMIT = D(1_000)


def _tick(bench: Bench, mid: str, *, at: int | None = None) -> None:
    quote(bench, mid, at=at)
    bench[0].flush(force=True)  # as the service's dispatch does after every data point


def _long_1m(journal: Journal) -> Bench:
    """A monitored account long 1,000,000 EURUSD from 1.10000 (a pip is 100 USD)."""
    bench = bench_engine(RiskLimits(), D(1_000_000), T0, journal=journal)
    engine, _, _, eurusd = bench
    engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=LIMIT)))
    _tick(bench, "1.10000")
    engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(1_000_000),
        )
    )
    pump(bench)
    engine.flush(force=True)
    assert engine.state.position_quantity(eurusd.id) == D(1_000_000)
    return bench


def _restart(bench: Bench, journal: Journal) -> Bench:
    engine, venue, clock, eurusd = bench

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

    restarted = rebuild_engine(journal, engine.account_id, make_engine, use_snapshot=False)
    restarted.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=LIMIT)))
    return restarted, venue, clock, eurusd


def _marks_events(journal: Journal, engine: TradingEngine) -> list[EquityMarksRecorded]:
    return [
        record.event
        for record in journal.read(engine.account_id)
        if isinstance(record.event, EquityMarksRecorded)
    ]


def test_a_clean_shutdown_journals_the_close_and_the_overnight_gap_counts(
    tmp_path: Path,
) -> None:
    """Evening close at 1.10300 (3,000 up on the day), a clean shutdown, a restart the
    next morning, and the market opens at 1.10150: 1,500 below the close, over the
    1,000 limit, though 1,500 above the previous morning. REDUCING at the first update.
    Before the close was journaled, the new day started at that first update."""
    journal = SqliteJournal(tmp_path / "journal.db")
    bench = _long_1m(journal)
    engine = bench[0]
    _tick(bench, "1.10300", at=T0 + 11 * 3600 * SECOND)  # 20:00
    engine.record_close()  # what TradingService.flush_all does at shutdown
    engine.flush(force=True)
    assert engine.state.equity_marks is not None
    close = engine.state.equity_marks.last_equity
    assert close == engine.equity()
    restarted = _restart(bench, journal)
    _tick(restarted, "1.10150", at=T0 + DAY)  # 09:00 the next day
    monitor = restarted[0].monitor
    assert monitor is not None and monitor.day_start_equity == close
    assert restarted[0].state.trading_state is TradingState.REDUCING
    journal.close()


def test_after_a_crash_the_sampled_close_still_starts_the_next_day() -> None:
    """No clean shutdown: the close journaled is the latest sample, at most
    ``CLOSE_SAMPLE_NS`` old. Here the last sample is the close (nothing moved after it)."""
    journal = MemoryJournal()
    bench = _long_1m(journal)
    engine = bench[0]
    evening = T0 + 11 * 3600 * SECOND
    _tick(bench, "1.10300", at=evening)
    _tick(bench, "1.10300", at=evening + CLOSE_SAMPLE_NS)  # the sample falls due
    recorded = engine.state.equity_marks
    assert recorded is not None and recorded.last_equity == engine.equity()
    restarted = _restart(bench, journal)  # no record_close: a crash
    _tick(restarted, "1.10150", at=T0 + DAY)
    assert restarted[0].state.trading_state is TradingState.REDUCING


def test_the_close_is_sampled_not_journaled_on_every_update() -> None:
    """Equity moving on every tick adds one record per ``CLOSE_SAMPLE_NS``, not one per
    tick: 600 ticks a second apart over ten minutes (two sample periods) add at most 3."""
    journal = MemoryJournal()
    bench = _long_1m(journal)
    engine = bench[0]
    before = len(_marks_events(journal, engine))
    start = bench[2].now_ns()
    for i in range(600):
        _tick(bench, f"1.0{9990 + (i % 7)}", at=start + (i + 1) * SECOND)  # below the peak
    added = len(_marks_events(journal, engine)) - before
    assert 1 <= added <= 600 * SECOND // CLOSE_SAMPLE_NS + 1


def test_a_close_from_before_a_long_stop_does_not_start_the_day() -> None:
    """Restarted more than ``CLOSE_CARRY_DAYS`` after the journaled close: days of P&L
    are not one day's loss. The day starts at its first update (1,500 down from the
    close, but no REDUCING)."""
    journal = MemoryJournal()
    bench = _long_1m(journal)
    engine = bench[0]
    _tick(bench, "1.10300", at=T0 + 11 * 3600 * SECOND)
    engine.record_close()
    engine.flush(force=True)
    restarted = _restart(bench, journal)
    _tick(restarted, "1.10150", at=T0 + (CLOSE_CARRY_DAYS + 1) * DAY)
    monitor = restarted[0].monitor
    assert monitor is not None and monitor.day_start_equity == restarted[0].equity()
    assert restarted[0].state.trading_state is TradingState.ACTIVE


def test_a_restart_on_the_same_day_keeps_the_days_start() -> None:
    """The journaled close changes nothing within its own day: the day still starts at
    the morning's equity, and a loss of 1,100 from it trips the limit."""
    journal = MemoryJournal()
    bench = _long_1m(journal)
    engine = bench[0]
    monitor = engine.monitor
    assert monitor is not None
    morning = monitor.day_start_equity
    _tick(bench, "1.10300", at=T0 + 3600 * SECOND)
    engine.record_close()
    engine.flush(force=True)
    restarted = _restart(bench, journal)
    _tick(restarted, "1.09890", at=T0 + 2 * 3600 * SECOND)  # 1,100 below the morning
    again = restarted[0].monitor
    assert again is not None and again.day_start_equity == morning
    assert restarted[0].state.trading_state is TradingState.REDUCING


@pytest.mark.parametrize("later", [1, 3, CLOSE_CARRY_DAYS, CLOSE_CARRY_DAYS + 1])
def test_monitor_starts_a_later_day_at_a_restored_close_unless_too_old(later: int) -> None:
    day = T0 // DAY + 719_163  # T0's proleptic ordinal, the monitor's trading day
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(500)))
    monitor.restore_marks(day, D(100_000), D(101_000), D(100_400))
    actions = monitor.on_equity(T0 + later * DAY, D(99_800))  # 600 below the close
    if later <= CLOSE_CARRY_DAYS:
        assert (monitor.day_start_equity, len(actions)) == (D(100_400), 1)
    else:
        assert (monitor.day_start_equity, actions) == (D(99_800), [])


def test_a_journal_written_before_the_close_was_recorded_still_decodes() -> None:
    event = EquityMarksRecorded(
        account_id="A",  # type: ignore[arg-type]
        ts_event=1,
        ts_recv=1,
        day=700_000,
        day_start_equity=D(100),
        high_water=D(110),
    )
    old = msgspec.json.decode(encode_event(event))
    del old["last_equity"]
    decoded = decode_event(msgspec.json.encode(old))
    assert isinstance(decoded, EquityMarksRecorded)
    assert (decoded.last_equity, decoded.day_start_equity) == (None, D(100))
