"""Properties of the monitors' inputs: the lean equity equals the full valuation's
total, Decimal for Decimal, and the cached trading day equals the day computed afresh.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.values import Currency
from alphintra.portfolio.fx import FxRates
from alphintra.portfolio.valuation import account_equity, value_account
from alphintra.risk.loss_checks import exceeds
from alphintra.risk.monitors import (
    NANOS_PER_SECOND,
    EnterReducing,
    MonitorLimits,
    RiskMonitor,
    _local_ordinal,
)
from risk.builders import D, equity, hold, make_state

NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND
T0 = 1_700_000_000 * NANOS_PER_SECOND
USD_STOCK = equity("USDSTK")
EUR_STOCK = equity("EURSTK", quote="EUR")
JPY_FUTURE = equity("JPYFUT", quote="JPY", multiplier=D(1000))
GBP_STOCK = equity("GBPSTK", quote="GBP")  # no rate ever: its amounts stay unconverted
INSTRUMENTS = (USD_STOCK, EUR_STOCK, JPY_FUTURE, GBP_STOCK)
CURRENCIES: tuple[Currency, ...] = ("USD", "EUR", "JPY", "GBP")

_prices = st.integers(1, 10**7).map(lambda n: Decimal(n) / 1000)
_quantities = st.integers(-500, 500).map(Decimal)
_cash = st.integers(-(10**9), 10**9).map(lambda n: Decimal(n) / 100)
_rates = st.integers(1, 10**8).map(lambda n: Decimal(n) / 10**5)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(CURRENCIES), _cash, max_size=4),
    st.lists(st.tuples(st.integers(0, 3), _quantities, _prices), max_size=8),
    st.dictionaries(st.integers(0, 3), st.none() | _prices, max_size=4),
    st.dictionaries(
        st.sampled_from([("EUR", "USD"), ("USD", "JPY"), ("EUR", "JPY")]), _rates, max_size=3
    ),
    st.sampled_from(["USD", "EUR", "JPY"]),
)
def test_account_equity_random_accounts_equals_value_account_total(
    cash: dict[Currency, Decimal],
    fills: list[tuple[int, Decimal, Decimal]],
    marks: dict[int, Decimal | None],
    rates: dict[tuple[Currency, Currency], Decimal],
    base: Currency,
) -> None:
    state = make_state(INSTRUMENTS, cash, base=base)
    for index, quantity, price in fills:
        if quantity:
            hold(state, INSTRUMENTS[index], quantity, price)
    for index, mark in marks.items():
        if mark is not None:
            state.marks[INSTRUMENTS[index].id] = mark
    fx = FxRates()
    for (source, target), rate in rates.items():
        fx.update(source, target, rate)
    lean = account_equity(state, fx)
    full = value_account(state, fx).total
    assert lean == full
    assert str(lean) == str(full)  # the same Decimal, exponent and all


def test_account_equity_position_without_mark_is_valued_at_cost() -> None:
    state = make_state([EUR_STOCK], {"USD": D(1000)})
    hold(state, EUR_STOCK, "10", "20")
    fx = FxRates()
    fx.update("EUR", "USD", D("1.5"))
    # Cash 1000 - 10 x 20 EUR (= -200 EUR, -300 USD), position 10 x 20 EUR = 300 USD.
    assert account_equity(state, fx) == value_account(state, fx).total == D(1000)


_ZONES = st.sampled_from(["UTC", "Etc/UTC", "America/New_York", "Asia/Kolkata", "Europe/London"])
_STEPS = st.lists(
    st.one_of(
        st.integers(0, 10 * NANOS_PER_SECOND),  # a little later
        st.integers(0, 3 * NANOS_PER_DAY),  # days later
        st.integers(-NANOS_PER_DAY, 0),  # a clock step back
        st.integers(-3, 3).map(lambda n: ("midnight", n)),  # a few ns around a midnight
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(_ZONES, st.integers(0, 400 * NANOS_PER_DAY), _STEPS)
def test_risk_monitor_cached_trading_day_equals_day_computed_afresh(
    zone: str, start: int, steps: list[int | tuple[str, int]]
) -> None:
    monitor = RiskMonitor(MonitorLimits(timezone=zone))
    info = ZoneInfo(zone)
    ts = T0 + start
    for step in steps:
        if isinstance(step, tuple):
            ts = (ts // NANOS_PER_DAY + 1) * NANOS_PER_DAY + step[1]
        else:
            ts += step
        assert monitor._trading_day(ts) == _local_ordinal(ts, info)


def test_risk_monitor_day_rolls_at_utc_midnight_to_the_nanosecond() -> None:
    monitor = RiskMonitor(MonitorLimits())
    midnight = (T0 // NANOS_PER_DAY + 1) * NANOS_PER_DAY
    monitor.on_equity(midnight - 2 * NANOS_PER_SECOND, D(100))
    monitor.on_equity(midnight - NANOS_PER_SECOND, D(90))
    assert monitor.day_start_equity == D(100)
    monitor.on_equity(midnight - 1, D(85))
    assert monitor.day_start_equity == D(100)
    monitor.on_equity(midnight, D(80))
    # The new day starts at the previous day's close (the last equity before
    # midnight), so the loss across midnight is the new day's.
    assert monitor.day_start_equity == D(85)
    assert monitor.high_water == D(100)


def test_overnight_gap_counts_toward_the_new_days_loss() -> None:
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(500)))
    midnight = (T0 // NANOS_PER_DAY + 1) * NANOS_PER_DAY
    assert monitor.on_equity(midnight - 3600 * NANOS_PER_SECOND, D(100_000)) == []
    # The market opens 1,000 lower: no update in between.
    actions = monitor.on_equity(midnight + 9 * 3600 * NANOS_PER_SECOND, D(99_000))
    assert [type(a) for a in actions] == [EnterReducing]
    assert monitor.day_start_equity == D(100_000)


def test_monitor_reenabled_days_later_starts_the_day_at_its_first_update() -> None:
    """Thresholds switched off, then on again a week later (``set_limits`` reconfigures).

    While nothing watches equity the engine feeds the monitor nothing, so the equity it
    last saw is a week old, not the previous day's close: the week's losses (or gains)
    are not the new day's. The day starts at its first update, as with none seen.
    """
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(500)))
    assert monitor.on_equity(T0, D(100_000)) == []
    monitor.reconfigure(MonitorLimits())  # off: the engine stops feeding it
    monitor.reconfigure(MonitorLimits(daily_loss_limit=D(500)))  # on, a week later
    assert monitor.on_equity(T0 + 7 * NANOS_PER_DAY, D(95_000)) == []
    assert monitor.day_start_equity == D(95_000)


def test_marks_restored_for_a_later_day_drop_the_equity_seen_before_it() -> None:
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(500)))
    assert monitor.on_equity(T0, D(100_000)) == []
    day = monitor.day
    assert day is not None
    monitor.restore_marks(day + 5, D(95_000), D(100_000))
    assert monitor.on_equity(T0 + 6 * NANOS_PER_DAY, D(94_800)) == []
    assert monitor.day_start_equity == D(94_800)


def test_first_update_ever_starts_the_day_at_its_own_equity() -> None:
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(500)))
    assert monitor.on_equity(T0, D(99_000)) == []
    assert monitor.day_start_equity == D(99_000)


_FLOATS = st.floats(allow_nan=False, allow_infinity=True) | st.floats(0, 1)
_LIMITS = st.decimals(min_value=0, max_value=10, places=8) | st.integers(0, 10**30).map(
    lambda n: Decimal(n) / 10**28
)


@settings(max_examples=2000, deadline=None)
@given(_FLOATS, _LIMITS)
def test_exceeds_float_against_decimal_equals_exact_comparison(
    value: float, limit: Decimal
) -> None:
    assert exceeds(value, limit) == (value > limit)
    nudged = math.nextafter(float(limit), math.inf)
    assert exceeds(nudged, limit) == (nudged > limit)
    assert exceeds(float(limit), limit) == (float(limit) > limit)


def test_exceeds_nan_raises_as_the_exact_comparison_does() -> None:
    with pytest.raises(InvalidOperation):
        exceeds(math.nan, D(1))


def test_a_resume_rebases_the_daily_loss_so_it_holds_until_a_further_loss() -> None:
    monitor = RiskMonitor(MonitorLimits(daily_loss_limit=D(500)))
    assert monitor.on_equity(T0, D(100_000)) == []
    assert [type(a) for a in monitor.on_equity(T0 + NANOS_PER_SECOND, D(99_400))] == [EnterReducing]
    monitor.rearm(D(99_400))  # the operator resumes
    assert monitor.day_start_equity == D(99_400)
    assert monitor.on_equity(T0 + 2 * NANOS_PER_SECOND, D(99_300)) == []
    assert [type(a) for a in monitor.on_equity(T0 + 3 * NANOS_PER_SECOND, D(98_899))] == [
        EnterReducing
    ]
