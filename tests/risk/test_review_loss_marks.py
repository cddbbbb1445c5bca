"""Review finding: the full loss checks must read the monitor's figures as the fast
path does (`RiskContext.equity_marks` is read "in place of" ``day_start_equity`` and
``high_water_mark`` while it has them), or ``check_order``'s answer depends on which
of the two decided it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide
from alphintra.risk.context import RiskContext
from alphintra.risk.fast_path import passes
from alphintra.risk.limits import LossLimits, RiskLimits
from alphintra.risk.monitors import MonitorLimits, RiskMonitor
from alphintra.risk.pretrade import _Call, check_order
from risk.builders import T0, D, equity, make_state, order

ACME = equity("ACME")


def _monitor(start: Decimal) -> RiskMonitor:
    monitor = RiskMonitor(MonitorLimits())
    monitor.on_equity(T0, start)  # the day's start and the high-water mark
    return monitor


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (RiskLimits(loss=LossLimits(max_daily_loss=D(100))), "DAILY_LOSS_LIMIT"),
        (RiskLimits(loss=LossLimits(max_drawdown_amount=D(100))), "MAX_DRAWDOWN"),
    ],
)
def test_loss_limits_full_checks_read_the_monitor_like_the_fast_path(
    limits: RiskLimits, code: str
) -> None:
    state = make_state([ACME])
    state.marks[ACME.id] = D(10)
    init = order(ACME, OrderSide.BUY, 1)
    state.apply(init)
    # The monitor: 2000 at the day's start and peak, 950 now: 1050 lost, over 100.
    breached = RiskContext(
        prices=state.marks,
        equity=D(950),
        day_start_equity=D(1000),  # the fallback, which the monitor's figures replace
        high_water_mark=D(1000),
        equity_marks=_monitor(D(2000)),
    )
    assert not passes(init, ACME, state, limits, breached, D(10))
    denial = check_order(init, ACME, state, limits, breached)
    assert denial is not None and denial.code == code
    # And the other way: the monitor's 1000 (50 lost) passes, whatever the fallback says;
    # the fast path vouches, so the full checks must pass too.
    within = RiskContext(
        prices=state.marks,
        equity=D(950),
        day_start_equity=D(2000),
        high_water_mark=D(2000),
        equity_marks=_monitor(D(1000)),
    )
    assert passes(init, ACME, state, limits, within, D(10))
    full = _Call(init, ACME, state, limits, within, D(10), D(0)).extended(
        limits.scope_for(ACME), T0
    )
    assert full is None
