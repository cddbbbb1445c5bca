"""Performance statistics over an equity curve: drawdown, period returns, Sharpe, Sortino.

An equity curve is a sequence of ``(ts_ns, equity)`` points in time order, where
``ts_ns`` is nanoseconds since the Unix epoch (UTC) and ``equity`` is an exact
``Decimal``. Money-valued results (total return, drawdown) stay exact decimals,
computed in a fixed 34-digit decimal context so results do not depend on the
caller's thread-local context. Return-based ratios are statistics, not money, and
are computed in float64 with numpy.

Every function here is pure: no I/O, no clocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Final

import numpy as np

EquityPoint = tuple[int, Decimal]
"""One point of an equity curve: (nanoseconds since the epoch, UTC; equity)."""

NS_PER_HOUR: Final = 3_600 * 1_000_000_000
NS_PER_DAY: Final = 24 * NS_PER_HOUR

TRADING_DAYS_PER_YEAR: Final = 252
"""Trading days in a year on a US equity exchange (the usual annualisation for stocks)."""
CALENDAR_DAYS_PER_YEAR: Final = 365
"""Calendar days in a year (the annualisation for markets that trade every day)."""
CALENDAR_HOURS_PER_YEAR: Final = 24 * CALENDAR_DAYS_PER_YEAR
"""Calendar hours in a year (8,760)."""

HOURLY_SPAN_LIMIT_NS: Final = 30 * NS_PER_DAY
"""Backtests spanning less than this are measured in hourly returns, longer ones daily."""

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_CONTEXT: Final = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


@dataclass(frozen=True, slots=True)
class PerformanceSummary:
    """Headline statistics of one equity curve.

    ``total_return`` and ``max_drawdown`` are fractions (0.12 means 12 %);
    ``max_drawdown`` is non-negative. The ratios are annualised with
    ``periods_per_year`` and are ``None`` when undefined (too few returns, or no
    dispersion / no downside).
    """

    starting_equity: Decimal
    final_equity: Decimal
    total_return: Decimal
    max_drawdown: Decimal
    sharpe_ratio: float | None
    sortino_ratio: float | None
    return_count: int
    period_ns: int
    periods_per_year: float


def drawdown_series(
    equity: Sequence[EquityPoint], *, opening_equity: Decimal | None = None
) -> list[Decimal]:
    """Return the drawdown at each point: ``equity / running peak - 1`` (zero or negative).

    ``opening_equity``, when given, is the equity before the first point (for example
    the starting capital); it seeds the running peak. Raise ``ValueError`` when the
    points are out of time order or the running peak is not positive (drawdown is
    undefined for a curve that has never been above zero).
    """
    _check_time_order(equity)
    peak: Decimal | None = opening_equity
    result: list[Decimal] = []
    for ts_ns, value in equity:
        if peak is None or value > peak:
            peak = value
        if peak <= _ZERO:
            raise ValueError(
                f"drawdown needs a positive running peak; got peak {peak} at ts_ns={ts_ns}"
            )
        result.append(_CONTEXT.subtract(_CONTEXT.divide(value, peak), _ONE))
    return result


def max_drawdown(
    equity: Sequence[EquityPoint], *, opening_equity: Decimal | None = None
) -> Decimal:
    """Return the deepest drawdown as a non-negative fraction (0.12 for a 12 % fall).

    Return 0 for an empty curve or one that never falls below its running peak. The
    value exceeds 1 only when equity goes negative. ``opening_equity`` is as in
    `drawdown_series`.
    """
    deepest = min(drawdown_series(equity, opening_equity=opening_equity), default=_ZERO)
    return _CONTEXT.minus(deepest) if deepest < _ZERO else _ZERO


def period_returns(
    equity: Sequence[EquityPoint],
    period_ns: int,
    *,
    opening_equity: Decimal | None = None,
) -> list[float]:
    """Return simple returns between the equity at the end of consecutive periods.

    Periods are aligned to the Unix epoch (so daily periods are UTC days): point
    ``ts_ns`` falls in period ``ts_ns // period_ns``, and each period is sampled at
    its last point. Periods without points are skipped, so a return can span a gap
    (a weekend, a halt). With ``opening_equity`` the first period's return is
    measured from it, and there is one return per period with data; without it the
    first sample is only a baseline. Each return is computed exactly, then rounded
    to float.

    Raise ``ValueError`` for a non-positive ``period_ns``, points out of time order,
    or a zero equity sample that a later return would divide by.
    """
    if period_ns <= 0:
        raise ValueError(f"period_ns must be positive, got {period_ns}")
    _check_time_order(equity)
    samples: list[EquityPoint] = []
    current_period: int | None = None
    for ts_ns, value in equity:
        period = ts_ns // period_ns
        if period == current_period:
            samples[-1] = (ts_ns, value)
        else:
            samples.append((ts_ns, value))
            current_period = period
    previous = opening_equity
    returns: list[float] = []
    for ts_ns, value in samples:
        if previous is not None:
            if previous == _ZERO:
                raise ValueError(
                    f"cannot compute a return from zero equity (period ending at ts_ns={ts_ns})"
                )
            returns.append(float(_CONTEXT.subtract(_CONTEXT.divide(value, previous), _ONE)))
        previous = value
    return returns


def sharpe_ratio(
    returns: Sequence[float], periods_per_year: float, risk_free_per_period: float = 0.0
) -> float | None:
    """Return the annualised Sharpe ratio of per-period ``returns``.

    Sharpe = mean(excess) / std(excess, ddof=1) * sqrt(periods_per_year), where
    excess = return - ``risk_free_per_period``. Return ``None`` when there are fewer
    than two returns or every excess return is the same (zero dispersion).
    """
    _check_periods_per_year(periods_per_year)
    excess = np.asarray(returns, dtype=np.float64) - risk_free_per_period
    if excess.size < 2 or bool(np.all(excess == excess[0])):
        return None
    std = float(np.std(excess, ddof=1))
    if not math.isfinite(std) or std == 0.0:
        return None
    return float(np.mean(excess)) / std * math.sqrt(periods_per_year)


def sortino_ratio(
    returns: Sequence[float], periods_per_year: float, risk_free_per_period: float = 0.0
) -> float | None:
    """Return the annualised Sortino ratio of per-period ``returns``.

    Sortino = mean(excess) / downside deviation * sqrt(periods_per_year). The
    downside deviation follows empyrical: sqrt(mean(min(excess, 0) ** 2)) taken over
    *all* periods (periods above the target count as zero), with the risk-free rate
    as the target. Return ``None`` when there are fewer than two returns or no excess
    return is negative (zero downside deviation; empyrical would give infinity).
    """
    _check_periods_per_year(periods_per_year)
    excess = np.asarray(returns, dtype=np.float64) - risk_free_per_period
    if excess.size < 2:
        return None
    downside = float(np.sqrt(np.mean(np.square(np.minimum(excess, 0.0)))))
    if not math.isfinite(downside) or downside == 0.0:
        return None
    return float(np.mean(excess)) / downside * math.sqrt(periods_per_year)


def choose_period(first_ts_ns: int, last_ts_ns: int) -> tuple[int, float]:
    """Return ``(period_ns, periods_per_year)`` for measuring a backtest's returns.

    A span under 30 days gives hourly returns annualised with 24 * 365 = 8,760
    periods per year; a longer span gives daily returns with 365 per year. Both use
    calendar time, which is right for markets that trade around the clock (crypto,
    and FX on weekdays). For an exchange-hours market the curve has fewer sampled
    periods than calendar periods, so these factors overstate the annualised ratios;
    such callers should pass their own period and annualisation
    (e.g. `TRADING_DAYS_PER_YEAR` with daily returns) instead.
    """
    if last_ts_ns < first_ts_ns:
        raise ValueError(f"last_ts_ns {last_ts_ns} is before first_ts_ns {first_ts_ns}")
    if last_ts_ns - first_ts_ns < HOURLY_SPAN_LIMIT_NS:
        return NS_PER_HOUR, float(CALENDAR_HOURS_PER_YEAR)
    return NS_PER_DAY, float(CALENDAR_DAYS_PER_YEAR)


def summarize(
    equity: Sequence[EquityPoint],
    starting_equity: Decimal,
    periods_per_year: float,
    period_ns: int,
    risk_free_per_period: float = 0.0,
) -> PerformanceSummary:
    """Summarise an equity curve that started from ``starting_equity``.

    ``starting_equity`` is the equity before the first point: it seeds the drawdown
    peak and is the baseline of the first period's return (see `period_returns`).
    ``total_return`` is exactly ``final / starting - 1``; the final equity of an
    empty curve is the starting equity. Raise ``ValueError`` when
    ``starting_equity`` is not positive.
    """
    if starting_equity <= _ZERO:
        raise ValueError(f"starting_equity must be positive, got {starting_equity}")
    _check_periods_per_year(periods_per_year)
    final_equity = equity[-1][1] if equity else starting_equity
    returns = period_returns(equity, period_ns, opening_equity=starting_equity)
    return PerformanceSummary(
        starting_equity=starting_equity,
        final_equity=final_equity,
        total_return=_CONTEXT.subtract(_CONTEXT.divide(final_equity, starting_equity), _ONE),
        max_drawdown=max_drawdown(equity, opening_equity=starting_equity),
        sharpe_ratio=sharpe_ratio(returns, periods_per_year, risk_free_per_period),
        sortino_ratio=sortino_ratio(returns, periods_per_year, risk_free_per_period),
        return_count=len(returns),
        period_ns=period_ns,
        periods_per_year=periods_per_year,
    )


def _check_time_order(equity: Sequence[EquityPoint]) -> None:
    for index in range(1, len(equity)):
        if equity[index][0] < equity[index - 1][0]:
            raise ValueError(
                f"equity points must be in time order; point {index} has ts_ns="
                f"{equity[index][0]} before the previous ts_ns={equity[index - 1][0]}"
            )


def _check_periods_per_year(periods_per_year: float) -> None:
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be positive and finite, got {periods_per_year}")
