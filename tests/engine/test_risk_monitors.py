"""Scenario tests of the risk monitors on real minute data."""

from __future__ import annotations

import csv
import itertools
import math
import time
from decimal import Decimal

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TradingState
from alphintra.domain.events import OrderDenied, RiskAlertRaised
from alphintra.risk.monitors import MonitorLimits, RiskMonitor
from helpers.csv_rows import ts_ns
from helpers.market_data import market_data_dir
from helpers.sim_harness import SimHarness

BTC_QUOTES = "crypto/minute/BTCUSD_quote.csv"


def _alerts(harness: SimHarness, kind: str) -> list[RiskAlertRaised]:
    return [e for e in harness.events if type(e) is RiskAlertRaised and e.kind == kind]


def test_drawdown_monitor_breach_halts_cancels_and_alerts() -> None:
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.engine.attach_monitor(
        RiskMonitor(MonitorLimits(max_drawdown=Decimal("0.0005"), flatten_on_drawdown=True))
    )
    harness.begin("2018-04-04T00:10:00Z")
    harness.submit(OrderSide.BUY, OrderType.MARKET, "1000")
    harness.step()
    resting = [
        harness.submit(OrderSide.BUY, OrderType.LIMIT, "1", price=Decimal(5000 + i))
        for i in range(5)
    ]
    assert harness.position() == Decimal(1000)
    # Walk the data and compute, independently, the first point where equity falls more
    # than 0.05 % below its running peak.
    peak = harness.engine.valuation().total
    breached_at = None
    for _ in range(3000):
        if harness.engine.state.trading_state is TradingState.HALTED:
            break
        before = harness.engine.valuation().total
        harness.step()
        equity = harness.engine.valuation().total
        if breached_at is None and (peak - equity) / peak > Decimal("0.0005"):
            breached_at = harness.clock.now_ns()
        peak = max(peak, before, equity)
    assert harness.engine.state.trading_state is TradingState.HALTED
    assert breached_at is not None
    alerts = _alerts(harness, "drawdown")
    assert len(alerts) == 1 and alerts[0].ts_event == breached_at
    assert all(order.status is OrderStatus.CANCELLED for order in resting)
    harness.step()  # the flattening market order fills on the next bar
    assert harness.position() == 0
    denied = harness.submit(OrderSide.BUY, OrderType.MARKET, "1")
    assert denied.status is OrderStatus.DENIED
    reason = next(e for e in harness.events if type(e) is OrderDenied)
    assert reason.reason_code == "TRADING_HALTED"


def test_daily_loss_monitor_breach_enters_reducing_and_allows_only_reductions() -> None:
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=Decimal(500))))
    harness.begin("2018-04-04T00:10:00Z")
    harness.submit(OrderSide.BUY, OrderType.MARKET, "100")
    for _ in range(3000):
        if harness.engine.state.trading_state is TradingState.REDUCING:
            break
        harness.step()
    assert harness.engine.state.trading_state is TradingState.REDUCING
    assert len(_alerts(harness, "daily_loss")) == 1
    day_start = harness.engine.monitor.day_start_equity if harness.engine.monitor else None
    assert day_start is not None
    assert day_start - harness.engine.valuation().total > Decimal(500) - Decimal(50)
    opening = harness.submit(OrderSide.BUY, OrderType.MARKET, "1")
    assert opening.status is OrderStatus.DENIED
    closing = harness.submit(OrderSide.SELL, OrderType.MARKET, "10")
    assert closing.status is not OrderStatus.DENIED


def test_daily_loss_breach_cancels_the_working_orders_reducing_would_deny() -> None:
    """Entering REDUCING cancels resting entries and sells that would cross zero.

    Kept: a reduce-only stop for 70 and a sell of 30 within what it leaves of the long.
    Cancelled: a buy that adds to the long and a sell that, after those, would take it
    short.
    """
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=Decimal(500))))
    harness.begin("2018-04-04T00:10:00Z")
    harness.submit(OrderSide.BUY, OrderType.MARKET, "100")
    harness.step()
    assert harness.position() == Decimal(100)
    entry = harness.submit(OrderSide.BUY, OrderType.LIMIT, "1", price=Decimal(5000))
    within = harness.submit(OrderSide.SELL, OrderType.LIMIT, "30", price=Decimal(100_000))
    beyond = harness.submit(OrderSide.SELL, OrderType.LIMIT, "80", price=Decimal(100_000))
    stop = harness.submit(
        OrderSide.SELL, OrderType.STOP, "70", trigger_price=Decimal(1000), reduce_only=True
    )
    for _ in range(3000):
        if harness.engine.state.trading_state is TradingState.REDUCING:
            break
        harness.step()
    assert harness.engine.state.trading_state is TradingState.REDUCING
    harness.dispatch()
    assert entry.status is OrderStatus.CANCELLED
    assert beyond.status is OrderStatus.CANCELLED
    assert within.status is OrderStatus.ACCEPTED
    assert stop.status is OrderStatus.ACCEPTED
    assert len(_alerts(harness, "daily_loss")) == 1


def test_daily_loss_breach_counts_reduce_only_exits_before_plain_orders_on_their_side() -> None:
    """A plain sell kept beside a reduce-only stop for the whole long could open a short.

    Long 100 with a reduce-only stop for 100: the stop fills first and flattens, then a
    plain sell of 30 opens a short of 30. REDUCING denies that sell when it is new
    (the reduce-only exits count up to the position they close), so the breach must
    cancel it when it rests; the reduce-only stop stays.
    """
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=Decimal(500))))
    harness.begin("2018-04-04T00:10:00Z")
    harness.submit(OrderSide.BUY, OrderType.MARKET, "100")
    harness.step()
    assert harness.position() == Decimal(100)
    stop = harness.submit(
        OrderSide.SELL, OrderType.STOP, "100", trigger_price=Decimal(1000), reduce_only=True
    )
    plain = harness.submit(OrderSide.SELL, OrderType.LIMIT, "30", price=Decimal(100_000))
    for _ in range(3000):
        if harness.engine.state.trading_state is TradingState.REDUCING:
            break
        harness.step()
    assert harness.engine.state.trading_state is TradingState.REDUCING
    harness.dispatch()
    assert stop.status is OrderStatus.ACCEPTED
    assert plain.status is OrderStatus.CANCELLED
    again = harness.submit(OrderSide.SELL, OrderType.LIMIT, "30", price=Decimal(100_000))
    assert again.status is OrderStatus.DENIED  # as REDUCING judges it new


def test_daily_loss_breach_counts_a_brackets_oco_exits_once() -> None:
    """The stop-loss and take-profit of a bracket fill one or the other, not both.

    Long 100, 40 of it under a bracket whose two exits (40 each) are one OCO list: they
    close 40 at most, so a plain sell of the other 60 stays working.
    """
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.engine.attach_monitor(RiskMonitor(MonitorLimits(daily_loss_limit=Decimal(500))))
    harness.begin("2018-04-04T00:10:00Z")
    harness.submit(OrderSide.BUY, OrderType.MARKET, "60")
    _, stop, target = harness.submit_bracket(
        harness.request(OrderSide.BUY, OrderType.MARKET, "40"),
        stop_loss=Decimal(1000),
        take_profit=Decimal(100_000),
    )
    harness.step()
    assert harness.position() == Decimal(100)
    plain = harness.submit(OrderSide.SELL, OrderType.LIMIT, "60", price=Decimal(100_000))
    for _ in range(3000):
        if harness.engine.state.trading_state is TradingState.REDUCING:
            break
        harness.step()
    assert harness.engine.state.trading_state is TradingState.REDUCING
    harness.dispatch()
    assert stop.is_open and target.is_open
    assert stop.quantity == target.quantity == Decimal(40)
    assert plain.status is OrderStatus.ACCEPTED


def _rolling_volatility_trip(path: str, window: int, threshold: float) -> str | None:
    """Independently find the first bar whose window of mid returns breaches the threshold."""
    mids: list[float] = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            mids.append((float(row["bid_close"]) + float(row["ask_close"])) / 2)
            recent = mids[-(window + 1) :]
            if len(recent) < window + 1:
                continue
            returns = [b / a - 1 for a, b in itertools.pairwise(recent)]
            mean = sum(returns) / len(returns)
            sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
            if sd > threshold:
                return row["timestamp"]
    return None


def test_volatility_breaker_on_btc_spike_trips_reduces_and_tightens_stops() -> None:
    window, threshold = 30, 0.0025
    expected = _rolling_volatility_trip(str(market_data_dir() / BTC_QUOTES), window, threshold)
    assert expected is not None, "the BTCUSD minute data has a volatility spike"
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.engine.attach_monitor(
        RiskMonitor(
            MonitorLimits(
                volatility_window=window,
                volatility_threshold=threshold,
                reduce_fraction=Decimal("0.5"),
                tighten_factor=Decimal("0.5"),
            )
        )
    )
    harness.begin("2018-04-04T00:02:00Z", warmup_bars=2)
    entry = harness.request(OrderSide.BUY, OrderType.MARKET, "10")
    _, stop, _ = harness.submit_bracket(entry, Decimal("1000.00"), Decimal("20000.00"))
    harness.step()
    assert harness.position() == Decimal(10)
    assert stop.status is OrderStatus.ACCEPTED
    while not _alerts(harness, "volatility_breaker"):
        harness.step()
    alert = _alerts(harness, "volatility_breaker")[0]
    assert alert.ts_event == ts_ns(expected)
    assert alert.instrument_id == "BTCUSD"
    mark = harness.engine.state.marks[harness.instrument_id]
    # The stop moved to half its distance from the mark, rounded down to the tick.
    expected_stop = mark - (mark - Decimal("1000.00")) * Decimal("0.5")
    assert stop.trigger_price == (expected_stop / Decimal("0.01")).to_integral_value(
        rounding="ROUND_FLOOR"
    ) * Decimal("0.01")
    blocked = harness.submit(OrderSide.BUY, OrderType.MARKET, "1")
    assert blocked.status is OrderStatus.DENIED
    harness.step()  # the reducing market order fills on the next bar
    assert harness.position() == Decimal(5)


def test_kill_switch_cancels_500_working_orders_and_blocks_new_ones() -> None:
    harness = SimHarness("BTCUSD", BTC_QUOTES)
    harness.begin("2018-04-04T00:10:00Z")
    orders = [
        harness.submit(OrderSide.BUY, OrderType.LIMIT, "0.01", price=Decimal(4000 + i))
        for i in range(500)
    ]
    assert all(o.status is OrderStatus.ACCEPTED for o in orders)
    started = time.perf_counter()
    harness.engine.set_trading_state(TradingState.HALTED, "kill switch")
    cancelled = harness.engine.cancel_all("kill switch")
    harness.dispatch()
    elapsed = time.perf_counter() - started
    assert cancelled == 500
    assert all(o.status is OrderStatus.CANCELLED for o in orders)
    assert harness.venue.open_order_ids() == []
    assert harness.submit(OrderSide.BUY, OrderType.MARKET, "0.01").status is OrderStatus.DENIED
    print(f"kill switch: 500 working orders cancelled in {elapsed * 1000:.1f} ms")
