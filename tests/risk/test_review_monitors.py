"""Review findings in the risk monitors (`alphintra.risk.monitors`)."""

from __future__ import annotations

from decimal import Decimal

from alphintra.risk.monitors import (
    NANOS_PER_SECOND,
    EnterReducing,
    MonitorLimits,
    RiskMonitor,
)

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
