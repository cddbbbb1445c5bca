"""Dated simple-return series: from daily closes, from an equity curve, and aligned.

A close series is a mapping from a date to an exact ``Decimal`` close. A return is
the simple return ``close_t / close_prev - 1`` between two consecutive dates of the
series, computed exactly (34-digit decimal context) and then rounded once to float,
and keyed by the *later* date. Returns are statistics, not money, so they are float.

Every function here is pure: no I/O, no clocks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Final, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from alphintra.portfolio.statistics import NS_PER_DAY, EquityPoint, period_returns

K = TypeVar("K", bound=Hashable)

_EPOCH: Final = date(1970, 1, 1)
_ONE: Final = Decimal(1)
_CONTEXT: Final = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


@dataclass(frozen=True, slots=True, eq=False)
class AlignedReturns(Generic[K]):
    """Simple returns of several series over their common dates.

    ``matrix[t, j]`` is the return of series ``names[j]`` from the common date before
    ``dates[t]`` to ``dates[t]``; its shape is ``(len(dates), len(names))``. The
    matrix is read-only.
    """

    names: tuple[K, ...]
    dates: tuple[date, ...]
    matrix: npt.NDArray[np.float64]

    def column(self, name: K) -> npt.NDArray[np.float64]:
        """Return the returns of one series (read-only); raise ``KeyError`` when absent."""
        try:
            index = self.names.index(name)
        except ValueError:
            raise KeyError(f"no series named {name!r}; series are {list(self.names)}") from None
        return self.matrix[:, index]

    def dated(self, name: K) -> dict[date, float]:
        """Return the returns of one series keyed by date."""
        return dict(zip(self.dates, (float(r) for r in self.column(name)), strict=True))


def simple_returns(closes: Mapping[date, Decimal]) -> dict[date, float]:
    """Return the simple returns of a close series, keyed by the later date, in date order.

    Consecutive dates of the series are used whatever the gap between them (a weekend
    or holiday is one return). Raise ``ValueError`` when a close that a return would
    divide by is not positive.
    """
    dates = sorted(closes)
    return dict(zip(dates[1:], _returns_over(closes, dates, "series"), strict=True))


def align_returns(closes: Mapping[K, Mapping[date, Decimal]]) -> AlignedReturns[K]:
    """Align several close series on their common dates and return their simple returns.

    The dates are the inner join (intersection) of every series' dates, sorted; each
    return runs between consecutive common dates, so a date missing from any one
    series is skipped by all of them. Names keep the mapping's order. With fewer than
    two common dates the matrix has no rows. Raise ``ValueError`` when a close that a
    return would divide by is not positive.
    """
    names = tuple(closes)
    common: set[date] | None = None
    for series in closes.values():
        common = set(series) if common is None else common & series.keys()
    dates = sorted(common or ())
    matrix = np.empty((max(len(dates) - 1, 0), len(names)), dtype=np.float64)
    for column, name in enumerate(names):
        matrix[:, column] = _returns_over(closes[name], dates, name)
    matrix.setflags(write=False)
    return AlignedReturns(names=names, dates=tuple(dates[1:]), matrix=matrix)


def daily_equity_returns(equity: Sequence[EquityPoint]) -> dict[date, float]:
    """Return the daily simple returns of an equity curve, keyed by UTC date.

    Each UTC day is sampled at its last point and the returns are exactly those of
    `alphintra.portfolio.statistics.period_returns` with a one-day period (days
    without points are skipped, so a return can span a gap). The first day with
    points is the baseline and has no return.
    """
    returns = period_returns(equity, NS_PER_DAY)
    days: list[date] = []
    for ts_ns, _ in equity:
        day = _EPOCH + timedelta(days=ts_ns // NS_PER_DAY)
        if not days or days[-1] != day:
            days.append(day)
    return dict(zip(days[1:], returns, strict=True))


def _returns_over(
    closes: Mapping[date, Decimal], dates: Sequence[date], name: object
) -> list[float]:
    result: list[float] = []
    for index in range(1, len(dates)):
        previous = closes[dates[index - 1]]
        if previous <= 0:
            raise ValueError(
                f"close of {name!r} on {dates[index - 1]} must be positive to take a return "
                f"from it, got {previous}"
            )
        ratio = _CONTEXT.divide(closes[dates[index]], previous)
        result.append(float(_CONTEXT.subtract(ratio, _ONE)))
    return result
