"""Tests for the performance statistics: hand-computed examples, properties, and real SPY data.

The SPY comparison checks every statistic against an independent numpy
implementation written here, never against the module under test.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from decimal import Decimal, localcontext

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphintra.portfolio.statistics import (
    CALENDAR_DAYS_PER_YEAR,
    CALENDAR_HOURS_PER_YEAR,
    NS_PER_DAY,
    NS_PER_HOUR,
    TRADING_DAYS_PER_YEAR,
    PerformanceSummary,
    choose_period,
    drawdown_series,
    max_drawdown,
    period_returns,
    sharpe_ratio,
    sortino_ratio,
    summarize,
)
from helpers.market_data import market_data_dir

HOUR = 3_600 * 10**9
DAY = 24 * HOUR
REL = 1e-9


def _curve(*values: str, step_ns: int = DAY) -> list[tuple[int, Decimal]]:
    return [(index * step_ns, Decimal(value)) for index, value in enumerate(values)]


# --- hand-computed examples -------------------------------------------------------------


def test_drawdown_series_rise_fall_recover_exact_fractions() -> None:
    curve = _curve("100", "120", "90", "130", "117")

    assert drawdown_series(curve) == [
        Decimal(0),
        Decimal(0),
        Decimal("-0.25"),
        Decimal(0),
        Decimal("-0.1"),
    ]


def test_drawdown_series_opening_equity_above_curve_seeds_peak() -> None:
    assert drawdown_series(_curve("80", "100"), opening_equity=Decimal(100)) == [
        Decimal("-0.2"),
        Decimal(0),
    ]


def test_drawdown_series_non_terminating_ratio_rounded_to_34_digits() -> None:
    (_, drawdown) = drawdown_series(_curve("3", "2"))

    assert drawdown == Decimal("-0.3333333333333333333333333333333333")


def test_max_drawdown_rise_fall_recover_deepest_as_positive_fraction() -> None:
    assert max_drawdown(_curve("100", "120", "90", "130", "117")) == Decimal("0.25")


def test_max_drawdown_empty_curve_zero() -> None:
    assert max_drawdown([]) == Decimal(0)


def test_max_drawdown_equity_goes_negative_exceeds_one() -> None:
    assert max_drawdown(_curve("100", "-50")) == Decimal("1.5")


def test_drawdown_series_never_positive_peak_raises() -> None:
    with pytest.raises(ValueError, match="positive running peak"):
        drawdown_series(_curve("0", "-1"))


def test_drawdown_series_out_of_time_order_raises() -> None:
    curve = [(2 * DAY, Decimal(100)), (DAY, Decimal(101))]

    with pytest.raises(ValueError, match="time order"):
        drawdown_series(curve)


def test_period_returns_several_points_per_day_samples_last_of_each_day() -> None:
    curve = [
        (0, Decimal(100)),
        (23 * HOUR, Decimal(110)),  # end of day 0
        (DAY + 5 * HOUR, Decimal(99)),  # only point of day 1
        (3 * DAY, Decimal("108.9")),  # day 2 has no points: the return spans the gap
    ]

    assert period_returns(curve, DAY) == pytest.approx([-0.1, 0.1], rel=REL)
    assert period_returns(curve, DAY, opening_equity=Decimal(100)) == pytest.approx(
        [0.1, -0.1, 0.1], rel=REL
    )


def test_period_returns_day_boundary_is_utc_midnight() -> None:
    curve = [(DAY - 1, Decimal(100)), (DAY, Decimal(105))]

    assert period_returns(curve, DAY) == pytest.approx([0.05], rel=REL)


def test_period_returns_one_period_without_opening_empty() -> None:
    assert period_returns(_curve("100", "101", step_ns=HOUR), DAY) == []


def test_period_returns_non_positive_period_raises() -> None:
    with pytest.raises(ValueError, match="period_ns must be positive, got 0"):
        period_returns(_curve("100"), 0)


def test_period_returns_zero_equity_then_more_raises() -> None:
    with pytest.raises(ValueError, match="zero equity"):
        period_returns(_curve("100", "0", "5"), DAY)


def test_sharpe_ratio_small_sample_hand_computed() -> None:
    # mean 0.01; squared deviations 0, 1e-4, 4e-4, 1e-4 -> var 2e-4 (ddof=1);
    # 0.01 / sqrt(2e-4) * sqrt(4) = sqrt(2)
    assert sharpe_ratio([0.01, 0.02, -0.01, 0.02], 4) == pytest.approx(math.sqrt(2), rel=REL)


def test_sharpe_ratio_risk_free_subtracted_per_period() -> None:
    result = sharpe_ratio([0.02, 0.03, 0.00, 0.03], 4, risk_free_per_period=0.01)

    assert result == pytest.approx(math.sqrt(2), rel=REL)


def test_sharpe_ratio_fewer_than_two_returns_none() -> None:
    assert sharpe_ratio([], 252) is None
    assert sharpe_ratio([0.01], 252) is None


def test_sharpe_ratio_constant_returns_none() -> None:
    assert sharpe_ratio([0.1, 0.1, 0.1], 252) is None


def test_sharpe_ratio_non_positive_annualisation_raises() -> None:
    with pytest.raises(ValueError, match="periods_per_year"):
        sharpe_ratio([0.01, 0.02], 0)


def test_sortino_ratio_small_sample_hand_computed() -> None:
    # downside: min(r, 0)^2 = 0, 0, 1e-4, 0 -> mean 2.5e-5 -> 0.005; 0.01 / 0.005 * 2 = 4
    assert sortino_ratio([0.01, 0.02, -0.01, 0.02], 4) == pytest.approx(4.0, rel=REL)


def test_sortino_ratio_no_negative_returns_none() -> None:
    assert sortino_ratio([0.01, 0.0, 0.02], 252) is None


def test_sortino_ratio_fewer_than_two_returns_none() -> None:
    assert sortino_ratio([-0.01], 252) is None


def test_choose_period_under_30_days_hourly_calendar_hours() -> None:
    assert choose_period(0, 30 * DAY - 1) == (NS_PER_HOUR, float(CALENDAR_HOURS_PER_YEAR))


def test_choose_period_30_days_or_more_daily_calendar_days() -> None:
    assert choose_period(0, 30 * DAY) == (NS_PER_DAY, float(CALENDAR_DAYS_PER_YEAR))


def test_choose_period_reversed_span_raises() -> None:
    with pytest.raises(ValueError, match="before"):
        choose_period(DAY, 0)


def test_summarize_small_curve_hand_computed() -> None:
    curve = _curve("110", "99", "108.9")

    summary = summarize(curve, Decimal(100), 4, DAY)

    assert summary.starting_equity == Decimal(100)
    assert summary.final_equity == Decimal("108.9")
    assert summary.total_return == Decimal("0.089")
    assert summary.max_drawdown == Decimal("0.1")
    assert summary.return_count == 3
    # returns 0.1, -0.1, 0.1: mean 1/30, sample std sqrt(0.04/3)
    expected_sharpe = (1 / 30) / math.sqrt(0.04 / 3) * 2
    assert summary.sharpe_ratio == pytest.approx(expected_sharpe, rel=REL)
    # downside: sqrt(0.01 / 3)
    assert summary.sortino_ratio == pytest.approx((1 / 30) / math.sqrt(0.01 / 3) * 2, rel=REL)
    assert (summary.period_ns, summary.periods_per_year) == (DAY, 4)


def test_summarize_empty_curve_flat_at_start() -> None:
    summary = summarize([], Decimal(1000), 365, DAY)

    assert summary == PerformanceSummary(
        starting_equity=Decimal(1000),
        final_equity=Decimal(1000),
        total_return=Decimal(0),
        max_drawdown=Decimal(0),
        sharpe_ratio=None,
        sortino_ratio=None,
        return_count=0,
        period_ns=DAY,
        periods_per_year=365,
    )


def test_summarize_non_positive_start_raises() -> None:
    with pytest.raises(ValueError, match="starting_equity must be positive, got 0"):
        summarize(_curve("1"), Decimal(0), 365, DAY)


# --- properties --------------------------------------------------------------------------

_positive_equity = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("1e12"), places=2, allow_nan=False
)


@given(st.lists(_positive_equity, min_size=1, max_size=60))
def test_max_drawdown_positive_equity_within_zero_and_one(values: list[Decimal]) -> None:
    curve = [(index * HOUR, value) for index, value in enumerate(values)]

    result = max_drawdown(curve)

    assert Decimal(0) <= result <= Decimal(1)
    assert all(Decimal(-1) <= point <= Decimal(0) for point in drawdown_series(curve))


@given(st.lists(_positive_equity, min_size=1, max_size=60))
def test_drawdown_series_non_decreasing_curve_all_zero(values: list[Decimal]) -> None:
    curve = [(index * HOUR, value) for index, value in enumerate(sorted(values))]

    assert drawdown_series(curve) == [Decimal(0)] * len(curve)
    assert max_drawdown(curve) == Decimal(0)


# Moderate moves: float returns near -1 lose relative precision when compounded.
_moderate_equity = st.decimals(
    min_value=Decimal("50"), max_value=Decimal("200"), places=2, allow_nan=False
)


@given(
    _moderate_equity,
    st.lists(st.tuples(st.integers(0, 3 * DAY), _moderate_equity), min_size=1, max_size=40),
)
def test_period_returns_compounded_equal_total_return(
    start: Decimal, raw: list[tuple[int, Decimal]]
) -> None:
    curve = sorted(raw, key=lambda point: point[0])

    returns = period_returns(curve, HOUR, opening_equity=start)

    compounded = float(np.prod(np.add(returns, 1.0)))
    assert compounded == pytest.approx(float(curve[-1][1] / start), rel=1e-9)


# --- real data: SPY daily closes against an independent numpy implementation ------------


@pytest.fixture(scope="module")
def spy_closes() -> tuple[list[int], list[Decimal]]:
    path = market_data_dir() / "equity" / "daily" / "SPY.csv"
    epoch = date(1970, 1, 1)
    timestamps: list[int] = []
    closes: list[Decimal] = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            timestamps.append((date.fromisoformat(row["date"]) - epoch).days * DAY)
            closes.append(Decimal(row["close"]))
    return timestamps, closes


def _np_sharpe(returns: npt.NDArray[np.float64], annual: float) -> float:
    return float(returns.mean() / returns.std(ddof=1) * np.sqrt(annual))


def _np_sortino(returns: npt.NDArray[np.float64], annual: float) -> float:
    downside = np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))
    return float(returns.mean() / downside * np.sqrt(annual))


def test_statistics_spy_daily_closes_match_numpy(
    spy_closes: tuple[list[int], list[Decimal]],
) -> None:
    timestamps, closes = spy_closes
    curve = list(zip(timestamps, closes, strict=True))
    prices = np.array([float(close) for close in closes])
    np_returns = prices[1:] / prices[:-1] - 1.0
    np_drawdown = prices / np.maximum.accumulate(prices) - 1.0

    returns = period_returns(curve, NS_PER_DAY)
    drawdown = drawdown_series(curve)

    assert len(curve) > 5000
    np.testing.assert_allclose(returns, np_returns, rtol=REL, atol=0)
    np.testing.assert_allclose([float(x) for x in drawdown], np_drawdown, rtol=REL, atol=0)
    assert float(max_drawdown(curve)) == pytest.approx(-np_drawdown.min(), rel=REL)
    assert sharpe_ratio(returns, TRADING_DAYS_PER_YEAR) == pytest.approx(
        _np_sharpe(np_returns, TRADING_DAYS_PER_YEAR), rel=REL
    )
    assert sortino_ratio(returns, TRADING_DAYS_PER_YEAR) == pytest.approx(
        _np_sortino(np_returns, TRADING_DAYS_PER_YEAR), rel=REL
    )
    # SPY fell about 56 % from October 2007 to March 2009.
    assert 0.5 < float(max_drawdown(curve)) < 0.6


def test_summarize_spy_daily_closes_match_numpy(
    spy_closes: tuple[list[int], list[Decimal]],
) -> None:
    timestamps, closes = spy_closes
    curve = list(zip(timestamps, closes, strict=True))
    prices = np.array([float(close) for close in closes])
    # The opening equity equals the first close, so the first period's return is 0.
    np_returns = np.concatenate([[0.0], prices[1:] / prices[:-1] - 1.0])

    summary = summarize(curve, closes[0], TRADING_DAYS_PER_YEAR, NS_PER_DAY)

    with localcontext(prec=34):
        assert summary.total_return == closes[-1] / closes[0] - 1
    assert float(summary.total_return) == pytest.approx(prices[-1] / prices[0] - 1, rel=REL)
    assert summary.return_count == len(np_returns)
    assert summary.sharpe_ratio == pytest.approx(
        _np_sharpe(np_returns, TRADING_DAYS_PER_YEAR), rel=REL
    )
    assert summary.sortino_ratio == pytest.approx(
        _np_sortino(np_returns, TRADING_DAYS_PER_YEAR), rel=REL
    )
    expected_drawdown = -(prices / np.maximum.accumulate(prices) - 1.0).min()
    assert float(summary.max_drawdown) == pytest.approx(expected_drawdown, rel=REL)
