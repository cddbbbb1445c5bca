"""Tests for the portfolio risk metrics: hand-computed examples, properties, real daily data.

The real-data tests read SPY, AAPL and BAC daily closes with the stdlib ``csv`` module
and check every metric against an independent numpy/scipy implementation written
here, never against the module under test.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped]

from alphintra.domain.account import AccountState
from alphintra.domain.enums import AssetClass, LiquiditySide, OrderSide, OrderType
from alphintra.domain.events import (
    AccountFunded,
    MarkUpdated,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.instruments import Instrument
from alphintra.domain.registry import default_instrument
from alphintra.domain.values import Quantity
from alphintra.portfolio.exposure import (
    UNCLASSIFIED_SECTOR,
    Exposure,
    MissingFxRateError,
    account_exposure,
    leverage,
)
from alphintra.portfolio.fx import FxRates
from alphintra.portfolio.return_series import (
    AlignedReturns,
    align_returns,
    daily_equity_returns,
    simple_returns,
)
from alphintra.portfolio.risk_metrics import (
    ReturnSource,
    RiskMetricsReport,
    RiskSettings,
    beta,
    beta_from_closes,
    build_risk_report,
    correlation_matrix,
    historical_expected_shortfall,
    historical_var,
    loss_amount,
    parametric_var,
    parametric_var_of_returns,
    portfolio_mean_std,
    portfolio_returns,
)
from helpers.market_data import market_data_dir

FloatArray = npt.NDArray[np.float64]
REL = 1e-9
NS = 1_000_000_000
ACCOUNT = AccountId("ACC")
VENUE = VenueId("SIM")
SPY, AAPL, BAC, DE30 = (InstrumentId(s) for s in ("SPY", "AAPL", "BAC", "DE30EUR"))
LEVELS = [(0.95, 95), (0.99, 99)]
"""Confidence levels, with the same level in whole percent for exact integer tails."""


# --- helpers: an account built from real events -------------------------------------------


def _instruments() -> dict[InstrumentId, Instrument]:
    return {
        SPY: default_instrument("SPY"),
        AAPL: dataclasses.replace(default_instrument("AAPL"), sector="Technology"),
        BAC: dataclasses.replace(default_instrument("BAC"), sector="Financials"),
        DE30: dataclasses.replace(default_instrument("DE30EUR"), sector="Equity index"),
    }


def _account(
    funding: Decimal,
    fills: Sequence[tuple[InstrumentId, OrderSide, str, str]],
    marks: dict[InstrumentId, Decimal],
) -> AccountState:
    """Return an account funded in USD, with each (instrument, side, qty, price) filled."""
    instruments = _instruments()
    state = AccountState(
        ACCOUNT,
        {i: spec.multiplier for i, spec in instruments.items()},
        {i: spec.quote_currency for i, spec in instruments.items()},
    )
    state.apply(
        AccountFunded(account_id=ACCOUNT, ts_event=0, ts_recv=0, currency="USD", amount=funding)
    )
    for index, (instrument, side, quantity, price) in enumerate(fills, start=1):
        common: dict[str, Any] = {
            "account_id": ACCOUNT,
            "client_order_id": ClientOrderId(f"O-{index}"),
            "ts_event": index,
            "ts_recv": index,
        }
        for event in (
            OrderInitialized(
                **common,
                instrument_id=instrument,
                side=side,
                order_type=OrderType.MARKET,
                quantity=Quantity(Decimal(quantity)),
                venue=VENUE,
            ),
            OrderSubmitted(**common, venue=VENUE),
            OrderAccepted(**common, venue_order_id=VenueOrderId(f"V{index}")),
            OrderFilled(
                **common,
                venue=VENUE,
                venue_order_id=VenueOrderId(f"V{index}"),
                trade_id=TradeId(f"T{index}"),
                instrument_id=instrument,
                side=side,
                last_quantity=Quantity(Decimal(quantity)),
                last_price=Decimal(price),
                fee=Decimal(0),
                fee_currency="USD",
                liquidity=LiquiditySide.TAKER,
            ),
        ):
            assert state.apply(event) is True
    for instrument, mark in marks.items():
        state.apply(
            MarkUpdated(
                account_id=ACCOUNT, ts_event=99, ts_recv=99, instrument_id=instrument, mark=mark
            )
        )
    return state


def _lookup(instrument: InstrumentId) -> Instrument:
    return _instruments()[instrument]


def _fx() -> FxRates:
    rates = FxRates()
    rates.update("EUR", "USD", Decimal("1.1"))
    return rates


# --- helpers: independent reference implementation -----------------------------------------


@cache
def _read_closes(symbol: str) -> dict[date, Decimal]:
    path = market_data_dir() / "equity" / "daily" / f"{symbol}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            date.fromisoformat(row["date"]): Decimal(row["close"]) for row in csv.DictReader(handle)
        }


def _closes(symbol: str) -> dict[date, Decimal]:
    market_data_dir()  # skip (or fail under CI) before touching the cache
    return _read_closes(symbol)


def _ref_returns(*symbols: str) -> tuple[list[date], FloatArray]:
    """Return the common return dates and a (dates × symbols) matrix of simple returns."""
    series = [_closes(symbol) for symbol in symbols]
    common = sorted(set.intersection(*(set(s) for s in series)))
    prices = np.array([[float(s[d]) for s in series] for d in common], dtype=np.float64)
    return common[1:], prices[1:] / prices[:-1] - 1.0


def _ref_var_es(returns: FloatArray, percent: int) -> tuple[float, float]:
    """Return (VaR, ES): the ceil(n(100 - percent)/100)-th smallest return, and its tail."""
    ordered = np.sort(returns)
    k = -(-ordered.size * (100 - percent) // 100)  # exact integer ceiling
    q = float(ordered[k - 1])
    return -q, -float(ordered[ordered <= q].mean())


def _ref_parametric(returns: FloatArray, confidence: float, days: int) -> float:
    z = float(stats.norm.ppf(confidence))
    return z * float(returns.std(ddof=1)) * math.sqrt(days) - float(returns.mean()) * days


def _ref_sharpe(returns: FloatArray) -> float:
    return float(returns.mean() / returns.std(ddof=1) * math.sqrt(252))


def _ref_sortino(returns: FloatArray) -> float:
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    return float(returns.mean()) / downside * math.sqrt(252)


def _ref_max_drawdown(levels: FloatArray) -> float:
    peaks = np.maximum.accumulate(levels)
    return float(np.max(1.0 - levels / peaks))


def _ref_beta(asset: FloatArray, benchmark: FloatArray) -> float:
    return float(np.cov(asset, benchmark, ddof=1)[0, 1] / np.var(benchmark, ddof=1))


def _close(expected: float) -> Any:
    return pytest.approx(expected, rel=REL, abs=0.0)


# --- historical VaR and ES: hand-computed -------------------------------------------------

TEN = [0.02, -0.01, 0.04, -0.08, 0.0, 0.01, -0.03, 0.06, -0.05, 0.03]


@pytest.mark.parametrize(
    ("confidence", "expected_var", "expected_es"),
    [
        (0.95, 0.08, 0.08),  # k = ceil(10 × 0.05) = 1: the worst return
        (0.9, 0.08, 0.08),  # k = ceil(10 × 0.1) = 1 exactly, not 2
        (0.8, 0.05, 0.065),  # k = 2: mean of the two worst
        (0.75, 0.03, 0.16 / 3),  # k = ceil(2.5) = 3
        (0.7, 0.03, 0.16 / 3),  # k = 3
    ],
)
def test_historical_var_ten_returns_kth_smallest_loss_and_tail_mean(
    confidence: float, expected_var: float, expected_es: float
) -> None:
    assert historical_var(TEN, confidence) == expected_var
    assert historical_expected_shortfall(TEN, confidence) == pytest.approx(expected_es, rel=1e-12)


def test_historical_var_hundred_returns_exact_tail_count_no_float_off_by_one() -> None:
    # 1 - 0.95 is 0.050000000000000044 in float: a float ceiling would pick the 6th.
    returns = [-i / 1000 for i in range(1, 101)]

    assert historical_var(returns, 0.95) == 0.096
    assert historical_var(returns, 0.99) == 0.1
    assert historical_expected_shortfall(returns, 0.95) == pytest.approx(0.098, rel=1e-12)


def test_historical_var_matches_numpy_inverted_cdf_quantile() -> None:
    returns = np.array(TEN * 3 + [0.005, -0.002, 0.011], dtype=np.float64)

    for confidence in (0.95, 0.9, 0.8):
        quantile = np.quantile(returns, 1 - confidence, method="inverted_cdf")
        assert historical_var(returns, confidence) == -float(quantile)


def test_historical_expected_shortfall_tied_tail_not_below_var() -> None:
    # The float mean of six -0.05s is -0.049999999999999996; ES must not fall below VaR.
    returns = [-0.05] * 6 + [0.01] * 14

    assert float(np.mean(returns[:6])) > -0.05
    assert historical_var(returns, 0.95) == 0.05
    assert historical_expected_shortfall(returns, 0.95) == 0.05


def test_historical_var_ten_day_horizon_scaled_by_root_ten() -> None:
    assert historical_var(TEN, 0.8, 10) == 0.05 * math.sqrt(10)
    assert historical_expected_shortfall(TEN, 0.8, 10) == pytest.approx(
        0.065 * math.sqrt(10), rel=1e-12
    )


def test_historical_var_only_gains_negative_loss() -> None:
    assert historical_var([0.01, 0.02, 0.03], 0.95) == -0.01


@pytest.mark.parametrize(
    ("returns", "confidence", "horizon"),
    [
        ([], 0.95, 1),
        ([0.01, math.nan], 0.95, 1),
        ([0.01, math.inf], 0.95, 1),
        ([0.01], 1.0, 1),
        ([0.01], 0.0, 1),
        ([0.01], 1.5, 1),
        ([0.01], math.nan, 1),
        ([0.01], 0.95, 0),
    ],
)
def test_historical_var_invalid_input_raises_value_error(
    returns: list[float], confidence: float, horizon: int
) -> None:
    with pytest.raises(ValueError):
        historical_var(returns, confidence, horizon)


# --- parametric VaR and portfolio moments: hand-computed ----------------------------------

Z95 = 1.6448536269514722
Z99 = 2.3263478740408408


def test_parametric_var_mean_included_z_sigma_minus_mu() -> None:
    assert parametric_var(0.001, 0.02, 0.95) == pytest.approx(Z95 * 0.02 - 0.001, rel=1e-12)
    assert parametric_var(0.001, 0.02, 0.99) == pytest.approx(Z99 * 0.02 - 0.001, rel=1e-12)


def test_parametric_var_ten_days_sigma_root_h_mean_linear() -> None:
    expected = Z95 * 0.02 * math.sqrt(10) - 0.001 * 10

    assert parametric_var(0.001, 0.02, 0.95, 10) == pytest.approx(expected, rel=1e-12)


def test_parametric_var_mean_excluded_z_sigma_only() -> None:
    assert parametric_var(0.001, 0.02, 0.95, include_mean=False) == pytest.approx(
        Z95 * 0.02, rel=1e-12
    )


def test_parametric_var_of_returns_sample_std_ddof_one() -> None:
    std = math.sqrt(10 / 3) * 0.01  # deviations 1, 1, 2, 2 (× 0.01) over n - 1 = 3

    assert parametric_var_of_returns([0.01, -0.01, 0.02, -0.02]) == pytest.approx(
        Z95 * std, rel=1e-12
    )


def test_parametric_var_negative_std_raises_value_error() -> None:
    with pytest.raises(ValueError, match="std"):
        parametric_var(0.0, -0.01)


def test_portfolio_mean_std_two_assets_matches_weighted_series() -> None:
    matrix = np.array([[0.01, 0.02], [-0.01, 0.0], [0.03, -0.02]], dtype=np.float64)

    # Weighted series 0.015, -0.005, 0.005: mean 0.005, deviations ±0.01 and 0.
    mean, std = portfolio_mean_std(matrix, [0.5, 0.5])

    assert mean == pytest.approx(0.005, rel=1e-12)
    assert std == pytest.approx(0.01, rel=1e-12)
    assert list(portfolio_returns(matrix, [0.5, 0.5])) == pytest.approx([0.015, -0.005, 0.005])


def test_portfolio_returns_weights_of_wrong_length_raises_value_error() -> None:
    with pytest.raises(ValueError, match="one entry per matrix column"):
        portfolio_returns(np.zeros((3, 2)), [1.0])


def test_loss_amount_fraction_of_value_rounded_half_even() -> None:
    assert loss_amount(0.0123, Decimal("10000")) == Decimal("123.00")
    assert loss_amount(0.000125, Decimal(1000)) == Decimal("0.12")  # 0.125: ties to even
    assert loss_amount(0.000135, Decimal(1000)) == Decimal("0.14")  # 0.135: ties to even
    assert loss_amount(0.5, Decimal(3), places=0) == Decimal(2)


# --- return series -------------------------------------------------------------------------

D1, D2, D3, D4 = (date(2024, 1, day) for day in (2, 3, 4, 5))


def test_simple_returns_unsorted_closes_dated_by_later_close() -> None:
    closes = {D3: Decimal(99), D1: Decimal(100), D2: Decimal(110)}

    assert simple_returns(closes) == {D2: 0.1, D3: -0.1}


def test_simple_returns_zero_close_raises_value_error() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        simple_returns({D1: Decimal(0), D2: Decimal(1)})


def test_align_returns_missing_date_inner_join_spans_gap() -> None:
    closes = {
        "A": {D1: Decimal(100), D2: Decimal(110), D3: Decimal(99), D4: Decimal(100)},
        "B": {D1: Decimal(50), D3: Decimal(55), D4: Decimal(44)},
    }

    aligned = align_returns(closes)

    assert aligned.names == ("A", "B")
    assert aligned.dates == (D3, D4)
    assert aligned.dated("A") == {D3: -0.01, D4: pytest.approx(1 / 99, rel=1e-15)}
    assert aligned.dated("B") == {D3: 0.1, D4: -0.2}
    assert not aligned.matrix.flags.writeable


def test_align_returns_one_common_date_empty_matrix() -> None:
    aligned = align_returns({"A": {D1: Decimal(1), D2: Decimal(2)}, "B": {D2: Decimal(3)}})

    assert aligned.dates == ()
    assert aligned.matrix.shape == (0, 2)


def test_daily_equity_returns_intraday_points_last_of_each_utc_day() -> None:
    day = 86_400 * NS
    base = 19_723 * day  # 2024-01-01
    curve = [
        (base + 3_600 * NS, Decimal(100)),
        (base + 7_200 * NS, Decimal(90)),  # the close of 2024-01-01
        (base + day + 60 * NS, Decimal(120)),
        (base + day + 120 * NS, Decimal(99)),  # the close of 2024-01-02
        (base + 3 * day, Decimal("108.9")),  # 2024-01-04: spans the empty day
    ]

    assert daily_equity_returns(curve) == {
        date(2024, 1, 2): 0.1,
        date(2024, 1, 4): 0.1,
    }


# --- beta and correlation: hand-computed --------------------------------------------------


def test_beta_twice_benchmark_plus_constant_two() -> None:
    bench = {D1: 0.01, D2: -0.02, D3: 0.03, D4: 0.0}
    asset = {day: 2 * r + 0.001 for day, r in bench.items()}

    assert beta(asset, bench) == pytest.approx(2.0, rel=1e-12)


def test_beta_mismatched_dates_uses_common_dates_only() -> None:
    bench = {D1: 0.01, D2: -0.02, D3: 0.03}
    asset = {D2: -0.04, D3: 0.06, D4: 0.5}  # D4 has no benchmark return

    assert beta(asset, bench) == pytest.approx(2.0, rel=1e-12)


def test_beta_constant_benchmark_or_single_date_none() -> None:
    assert beta({D1: 0.01, D2: 0.02}, {D1: 0.01, D2: 0.01}) is None
    assert beta({D1: 0.01}, {D1: 0.02}) is None


def test_correlation_matrix_mirror_series_minus_one_constant_nan() -> None:
    matrix = np.array([[0.01, -0.01, 0.0], [0.02, -0.02, 0.0], [-0.01, 0.01, 0.0]])
    aligned = AlignedReturns(names=("A", "B", "C"), dates=(D1, D2, D3), matrix=matrix)

    corr = correlation_matrix(aligned)

    assert corr.between("A", "A") == 1.0
    assert corr.between("A", "B") == pytest.approx(-1.0, rel=1e-12)
    assert math.isnan(corr.between("A", "C"))
    assert math.isnan(corr.between("C", "C"))


def test_correlation_matrix_single_date_raises_value_error() -> None:
    aligned = AlignedReturns(names=("A",), dates=(D1,), matrix=np.zeros((1, 1)))

    with pytest.raises(ValueError, match="at least 2"):
        correlation_matrix(aligned)


# --- exposure and leverage: a hand-made account -------------------------------------------


def _mixed_account() -> AccountState:
    # USD cash 100000 - 10×400 - 5×150 + 20×30 = 95850; EUR cash -2×15000 = -30000.
    return _account(
        Decimal(100_000),
        [
            (SPY, OrderSide.BUY, "10", "400"),
            (AAPL, OrderSide.BUY, "5", "150"),
            (BAC, OrderSide.SELL, "20", "30"),
            (DE30, OrderSide.BUY, "2", "15000"),
        ],
        {SPY: Decimal(410), AAPL: Decimal(160), BAC: Decimal(25), DE30: Decimal(15100)},
    )


def test_account_exposure_mixed_book_gross_net_by_sector_and_class_exact() -> None:
    exposure = account_exposure(_mixed_account(), _lookup, _fx().convert)

    # Values: SPY 4100, AAPL 800, BAC -500, DE30 2 × 15100 EUR × 1.1 = 33220 USD.
    assert [(p.instrument_id, p.value) for p in exposure.positions] == [
        (AAPL, Decimal(800)),
        (BAC, Decimal(-500)),
        (DE30, Decimal(33220)),
        (SPY, Decimal(4100)),
    ]
    assert exposure.total == Exposure(gross=Decimal(38620), net=Decimal(37620))
    assert exposure.total.long == Decimal(38120)
    assert exposure.total.short == Decimal(500)
    assert dict(exposure.by_sector) == {
        "Equity index": Exposure(Decimal(33220), Decimal(33220)),
        "Financials": Exposure(Decimal(500), Decimal(-500)),
        "Technology": Exposure(Decimal(800), Decimal(800)),
        UNCLASSIFIED_SECTOR: Exposure(Decimal(4100), Decimal(4100)),
    }
    assert dict(exposure.by_asset_class) == {
        AssetClass.EQUITY: Exposure(Decimal(5400), Decimal(4400)),
        AssetClass.INDEX: Exposure(Decimal(33220), Decimal(33220)),
    }
    # Cash 95850 - 30000 × 1.1; equity = 100000 + P&L (100 + 50 + 100 + 200 × 1.1).
    assert exposure.cash == Decimal(62850)
    assert exposure.equity == Decimal(100470)
    assert exposure.currency == "USD"


def test_account_exposure_mixed_book_leverage_gross_over_equity_34_digits() -> None:
    exposure = account_exposure(_mixed_account(), _lookup, _fx().convert)

    assert exposure.leverage is not None
    error = abs(Fraction(exposure.leverage) - Fraction(38620, 100470))
    assert error < Fraction(1, 10**34)
    assert leverage(Decimal(300), Decimal(100)) == Decimal(3)


def test_account_exposure_mixed_book_weights_value_over_equity() -> None:
    weights = account_exposure(_mixed_account(), _lookup, _fx().convert).weights()

    assert weights is not None
    assert abs(Fraction(weights[BAC]) - Fraction(-500, 100470)) < Fraction(1, 10**34)
    assert abs(Fraction(weights[DE30]) - Fraction(33220, 100470)) < Fraction(1, 10**33)


def test_account_exposure_without_mark_valued_at_cost() -> None:
    state = _account(Decimal(10_000), [(AAPL, OrderSide.BUY, "3", "150.5")], {})

    exposure = account_exposure(state, _lookup, _fx().convert)

    (position,) = exposure.positions
    assert position.mark is None
    assert position.value == Decimal("451.5")
    assert exposure.equity == Decimal(10_000)


def test_account_exposure_no_fx_rate_raises_missing_fx_rate() -> None:
    state = _account(Decimal(10_000), [(DE30, OrderSide.BUY, "1", "15000")], {})

    with pytest.raises(MissingFxRateError, match="EUR"):
        account_exposure(state, _lookup, FxRates().convert)


def test_account_exposure_negative_equity_no_leverage_no_weights() -> None:
    # Cash 100 + 10 × 30 = 400; the short is worth -10 × 50 = -500: equity -100.
    state = _account(Decimal(100), [(BAC, OrderSide.SELL, "10", "30")], {BAC: Decimal(50)})

    exposure = account_exposure(state, _lookup, _fx().convert)

    assert exposure.equity == Decimal(-100)
    assert exposure.leverage is None
    assert exposure.weights() is None
    assert leverage(Decimal(1), Decimal(0)) is None


def test_build_risk_report_open_position_without_closes_raises_value_error() -> None:
    with pytest.raises(ValueError, match="no daily closes"):
        build_risk_report(_mixed_account(), _lookup, _fx().convert, closes={SPY: {D1: Decimal(1)}})


def test_build_risk_report_no_history_exposure_only() -> None:
    report = build_risk_report(_mixed_account(), _lookup, _fx().convert)

    assert report.equity_curve_risk is None
    assert report.current_weights_risk is None
    assert report.correlation is None
    assert report.instrument_betas == {}
    assert report.leverage == report.exposure.leverage


def test_risk_settings_confidence_of_one_raises_value_error() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        RiskSettings(confidences=(0.95, 1.0))


# --- real data: SPY, AAPL and BAC daily closes --------------------------------------------

HOLDINGS = [(SPY, OrderSide.BUY, "100"), (AAPL, OrderSide.BUY, "200"), (BAC, OrderSide.SELL, "300")]


def _real_account() -> tuple[AccountState, FloatArray]:
    """Return an account holding SPY, AAPL and short BAC at the last closes, and its weights."""
    last = {symbol: _closes(symbol)[max(_closes(symbol))] for symbol in ("SPY", "AAPL", "BAC")}
    fills = [(i, side, qty, str(last[i] - 1)) for i, side, qty in HOLDINGS]
    state = _account(Decimal(100_000), fills, {i: last[i] for i, _, _ in HOLDINGS})
    values = [Decimal(qty) * side.sign * last[i] for i, side, qty in HOLDINGS]
    cash = Decimal(100_000) - sum(
        (Decimal(qty) * side.sign * (last[i] - 1) for i, side, qty in HOLDINGS), Decimal(0)
    )
    equity = cash + sum(values, Decimal(0))
    weights = np.array([float(v / equity) for v in values], dtype=np.float64)
    return state, weights


def _real_report() -> tuple[RiskMetricsReport, FloatArray, FloatArray, list[date]]:
    state, weights = _real_account()
    dates, matrix = _ref_returns("SPY", "AAPL", "BAC")
    report = build_risk_report(
        state,
        _lookup,
        _fx().convert,
        closes={SPY: _closes("SPY"), AAPL: _closes("AAPL"), BAC: _closes("BAC")},
        benchmark_closes=_closes("SPY"),
    )
    return report, weights, matrix, dates


def test_align_returns_real_closes_match_numpy_simple_returns() -> None:
    dates, expected = _ref_returns("SPY", "AAPL", "BAC")

    aligned = align_returns({"SPY": _closes("SPY"), "AAPL": _closes("AAPL"), "BAC": _closes("BAC")})

    assert list(aligned.dates) == dates
    assert aligned.matrix.shape == expected.shape == (5848, 3)
    np.testing.assert_allclose(aligned.matrix, expected, rtol=REL, atol=1e-15)


@pytest.mark.parametrize(("confidence", "percent"), LEVELS)
@pytest.mark.parametrize("days", [1, 10])
def test_historical_var_real_spy_matches_order_statistic(
    confidence: float, percent: int, days: int
) -> None:
    _, matrix = _ref_returns("SPY")
    spy = matrix[:, 0]
    expected_var, expected_es = _ref_var_es(spy, percent)

    assert historical_var(spy, confidence, days) == _close(expected_var * math.sqrt(days))
    assert historical_expected_shortfall(spy, confidence, days) == _close(
        expected_es * math.sqrt(days)
    )


@pytest.mark.parametrize(("confidence", "percent"), LEVELS)
@pytest.mark.parametrize("days", [1, 10])
def test_build_risk_report_real_weights_historical_var_matches_independent(
    confidence: float, percent: int, days: int
) -> None:
    report, weights, matrix, _ = _real_report()
    expected_var, expected_es = _ref_var_es(matrix @ weights, percent)

    risk = report.current_weights_risk
    assert risk is not None
    estimate = risk.historical_at(confidence, days)
    assert estimate.value_at_risk == _close(expected_var * math.sqrt(days))
    assert estimate.expected_shortfall == _close(expected_es * math.sqrt(days))
    equity = float(report.exposure.equity)
    assert estimate.value_at_risk_amount is not None
    assert float(estimate.value_at_risk_amount) == pytest.approx(
        expected_var * math.sqrt(days) * equity, abs=0.01
    )


@pytest.mark.parametrize(("confidence", "_percent"), LEVELS)
@pytest.mark.parametrize("days", [1, 10])
def test_build_risk_report_real_weights_parametric_var_matches_scipy(
    confidence: float, _percent: int, days: int
) -> None:
    report, weights, matrix, _ = _real_report()
    z = float(stats.norm.ppf(confidence))
    sigma = math.sqrt(float(weights @ np.cov(matrix, rowvar=False, ddof=1) @ weights))
    mu = float(matrix.mean(axis=0) @ weights)

    risk = report.current_weights_risk
    assert risk is not None
    assert risk.parametric_at(confidence, days).value_at_risk == _close(
        z * sigma * math.sqrt(days) - mu * days
    )


def test_build_risk_report_real_weights_sharpe_sortino_drawdown_match_numpy() -> None:
    report, weights, matrix, dates = _real_report()
    series = matrix @ weights
    growth = np.concatenate([[1.0], np.cumprod(1.0 + series)])

    risk = report.current_weights_risk
    assert risk is not None
    assert risk.source is ReturnSource.CURRENT_WEIGHTS
    assert (risk.first_date, risk.last_date, risk.observations) == (dates[0], dates[-1], 5848)
    assert risk.sharpe_ratio == _close(_ref_sharpe(series))
    assert risk.sortino_ratio == _close(_ref_sortino(series))
    assert float(risk.max_drawdown) == _close(_ref_max_drawdown(growth))
    assert risk.beta == _close(_ref_beta(series, matrix[:, 0]))
    assert dict(report.weights) == {
        SPY: _close(weights[0]),
        AAPL: _close(weights[1]),
        BAC: _close(weights[2]),
    }


def test_build_risk_report_real_instrument_betas_match_numpy_cov() -> None:
    report, _, matrix, _ = _real_report()

    assert report.instrument_betas[SPY] == _close(1.0)
    assert report.instrument_betas[AAPL] == _close(_ref_beta(matrix[:, 1], matrix[:, 0]))
    assert report.instrument_betas[BAC] == _close(_ref_beta(matrix[:, 2], matrix[:, 0]))
    # The least-squares slope of BAC on SPY is the same beta.
    assert beta_from_closes(_closes("BAC"), _closes("SPY")) == _close(
        float(stats.linregress(matrix[:, 0], matrix[:, 2]).slope)
    )


def test_build_risk_report_real_correlation_matches_numpy_corrcoef() -> None:
    report, _, matrix, _ = _real_report()
    expected = np.atleast_2d(np.corrcoef(matrix, rowvar=False))

    assert report.correlation is not None
    # Positions are listed by instrument id: AAPL, BAC, SPY.
    assert report.correlation.names == (AAPL, BAC, SPY)
    order = [1, 2, 0]
    for row, i in enumerate(order):
        for column, j in enumerate(order):
            assert report.correlation.values[row][column] == _close(float(expected[i, j]))


def test_build_risk_report_real_equity_curve_metrics_match_numpy() -> None:
    closes = _closes("SPY")
    days = sorted(closes)
    # Equity = 50000 cash + 100 SPY, stamped at 21:00 UTC (after the US close).
    curve = [
        (
            int(datetime(d.year, d.month, d.day, 21, tzinfo=UTC).timestamp()) * NS,
            Decimal(50_000) + 100 * closes[d],
        )
        for d in days
    ]
    levels = np.array([float(equity) for _, equity in curve], dtype=np.float64)
    series = levels[1:] / levels[:-1] - 1.0
    _, spy_matrix = _ref_returns("SPY")
    state = _account(Decimal(100_000), [], {})

    report = build_risk_report(
        state, _lookup, _fx().convert, equity_curve=curve, benchmark_closes=closes
    )

    risk = report.equity_curve_risk
    assert risk is not None
    assert risk.source is ReturnSource.EQUITY_CURVE
    assert risk.observations == series.size
    for confidence, percent in LEVELS:
        expected_var, expected_es = _ref_var_es(series, percent)
        for horizon in (1, 10):
            estimate = risk.historical_at(confidence, horizon)
            assert estimate.value_at_risk == _close(expected_var * math.sqrt(horizon))
            assert estimate.expected_shortfall == _close(expected_es * math.sqrt(horizon))
            assert risk.parametric_at(confidence, horizon).value_at_risk == _close(
                _ref_parametric(series, confidence, horizon)
            )
        assert risk.historical_at(confidence).value_at_risk_amount == loss_amount(
            risk.historical_at(confidence).value_at_risk, Decimal(100_000)
        )
    assert risk.sharpe_ratio == _close(_ref_sharpe(series))
    assert risk.sortino_ratio == _close(_ref_sortino(series))
    assert float(risk.max_drawdown) == _close(_ref_max_drawdown(levels))
    assert risk.beta == _close(_ref_beta(series, spy_matrix[:, 0]))
    assert report.current_weights_risk is None


# --- properties ----------------------------------------------------------------------------

_returns = st.lists(
    st.integers(min_value=-5_000, max_value=5_000).map(lambda n: n / 10_000),
    min_size=1,
    max_size=300,
)
_confidences = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999])


@settings(max_examples=300, deadline=None)
@given(returns=_returns, confidence=_confidences, days=st.integers(min_value=1, max_value=250))
def test_historical_expected_shortfall_any_returns_at_least_var(
    returns: list[float], confidence: float, days: int
) -> None:
    assert historical_expected_shortfall(returns, confidence, days) >= historical_var(
        returns, confidence, days
    )


@settings(max_examples=300, deadline=None)
@given(returns=_returns)
def test_historical_var_any_returns_99_at_least_95(returns: list[float]) -> None:
    assert historical_var(returns, 0.99) >= historical_var(returns, 0.95)
    # The ES tails are nested; allow for the last bit of two different float means.
    es_95 = historical_expected_shortfall(returns, 0.95)
    assert historical_expected_shortfall(returns, 0.99) >= es_95 - 1e-15


@settings(max_examples=300, deadline=None)
@given(returns=_returns, confidence=_confidences, days=st.integers(min_value=1, max_value=250))
def test_historical_var_any_horizon_scaled_by_root_days(
    returns: list[float], confidence: float, days: int
) -> None:
    root = math.sqrt(days)

    assert historical_var(returns, confidence, days) == historical_var(returns, confidence) * root
    assert historical_expected_shortfall(returns, confidence, days) == (
        historical_expected_shortfall(returns, confidence) * root
    )


@settings(max_examples=200, deadline=None)
@given(
    mean=st.floats(min_value=-0.01, max_value=0.01),
    std=st.floats(min_value=1e-4, max_value=0.1),
    days=st.integers(min_value=1, max_value=250),
)
def test_parametric_var_any_moments_99_above_95(mean: float, std: float, days: int) -> None:
    assert parametric_var(mean, std, 0.99, days) > parametric_var(mean, std, 0.95, days)


@settings(max_examples=200, deadline=None)
@given(returns=_returns.filter(lambda r: len(set(r)) > 1))
def test_beta_any_series_against_itself_one(returns: list[float]) -> None:
    dated = {D1 + timedelta(days=index): r for index, r in enumerate(returns)}

    assert beta(dated, dated) == pytest.approx(1.0, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    columns=st.integers(min_value=1, max_value=5).flatmap(
        lambda width: st.lists(
            st.lists(
                st.integers(min_value=-500, max_value=500).map(lambda n: n / 10_000),
                min_size=width,
                max_size=width,
            ),
            min_size=3,
            max_size=40,
        )
    )
)
def test_correlation_matrix_any_returns_symmetric_unit_diagonal_bounded(
    columns: list[list[float]],
) -> None:
    matrix = np.array(columns, dtype=np.float64)
    assume(bool(np.all(np.ptp(matrix, axis=0) > 0)))
    names = tuple(f"I{j}" for j in range(matrix.shape[1]))
    dates = tuple(D1 + timedelta(days=t) for t in range(matrix.shape[0]))

    corr = correlation_matrix(AlignedReturns(names=names, dates=dates, matrix=matrix))

    values = np.array(corr.values)
    assert np.array_equal(values, values.T)
    assert np.all(np.diag(values) == 1.0)
    assert np.all(np.abs(values) <= 1.0)
