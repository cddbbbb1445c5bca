"""The market benchmarks execution quality is measured against, and its arithmetic.

`alphintra.execution.quality` measures orders and fills; this module holds what those
measures stand on: the decimal contexts every amount is computed in (`MONEY`, exact;
`RATIO`, 34 significant digits), the quote at or before a time and its mid, the mid a
horizon later, and the interval VWAP and TWAP of trade bars or ticks. See the
``quality`` module docstring for every definition and sign.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Final

from alphintra.domain.market import QuoteTick, TradeBar, TradeTick

_ZERO: Final = Decimal(0)
_TWO: Final = Decimal(2)
MONEY: Final = Context(
    prec=80, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact]
)
"""Context for money amounts: wide enough to be exact, and raising if a step is not."""
RATIO: Final = Context(
    prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
"""Context for ratios, prices averaged by division, and basis points."""
# The contexts' operations, bound once: the measures call them on every order.
_m_add, _m_sub, _m_mul, _m_div = MONEY.add, MONEY.subtract, MONEY.multiply, MONEY.divide
_r_add, _r_sub, _r_mul, _r_div = RATIO.add, RATIO.subtract, RATIO.multiply, RATIO.divide


# --- market data look-ups -----------------------------------------------------------------


def _check_order(data: Sequence[QuoteTick | TradeBar | TradeTick], what: str) -> None:
    for before, after in itertools.pairwise(data):
        if after.ts < before.ts:
            raise ValueError(f"{what} must be in time order, got ts {before.ts} then {after.ts}")


def quote_at(quotes: Sequence[QuoteTick], ts: int) -> QuoteTick | None:
    """Return the last quote at or before ``ts`` (quotes in time order), or None."""
    return _at(quotes, [q.ts for q in quotes], ts)


def _at(quotes: Sequence[QuoteTick], times: Sequence[int], ts: int) -> QuoteTick | None:
    """`quote_at` with ``times`` the quotes' timestamps (a bisection, no scan)."""
    index = bisect.bisect_right(times, ts)
    return quotes[index - 1] if index else None


def _mid(quote: QuoteTick) -> Decimal:
    return _m_div(_m_add(quote.bid, quote.ask), _TWO)


def mid_after(quotes: Sequence[QuoteTick], ts: int, horizon_ns: int) -> Decimal | None:
    """Return the mid at ``ts + horizon_ns``, or None when the quotes do not reach it."""
    return _after(quotes, [q.ts for q in quotes], ts, horizon_ns)


def _after(
    quotes: Sequence[QuoteTick], times: Sequence[int], ts: int, horizon_ns: int
) -> Decimal | None:
    """`mid_after` with ``times`` the quotes' timestamps."""
    target = ts + horizon_ns
    if not times or times[-1] < target:
        return None
    quote = _at(quotes, times, target)
    return None if quote is None else _mid(quote)


def _ratio_sum(values: Sequence[Decimal]) -> Decimal:
    total = _ZERO
    for value in values:
        total = _r_add(total, value)
    return total


def _typical(bar: TradeBar) -> Decimal:
    return _r_div(_r_add(_r_add(bar.high, bar.low), bar.close), Decimal(3))


def _only(
    data: Sequence[TradeBar] | Sequence[TradeTick],
) -> tuple[list[TradeBar], list[TradeTick]]:
    bars = [d for d in data if isinstance(d, TradeBar)]
    ticks = [d for d in data if isinstance(d, TradeTick)]
    if bars and ticks:
        raise ValueError("give bars or ticks for VWAP/TWAP, not a mix of both")
    return bars, ticks


def _bars_in(bars: Sequence[TradeBar], start: int, end: int) -> list[tuple[TradeBar, int]]:
    """Return (bar, overlap in ns) for bars overlapping ``[start, end)`` (or the instant)."""
    if end == start:
        return [(b, 1) for b in bars if b.ts <= start < b.ts + b.interval_ns]
    return [
        (b, min(end, b.ts + b.interval_ns) - max(start, b.ts))
        for b in bars
        if b.ts < end and b.ts + b.interval_ns > start
    ]


def interval_vwap(
    data: Sequence[TradeBar] | Sequence[TradeTick], start: int, end: int
) -> Decimal | None:
    """Return the volume-weighted average price over ``[start, end)``.

    Bars count when they overlap the window (a zero-length window: the bar holding
    the instant), priced at their typical price ``(high + low + close) / 3`` and
    weighted by their whole volume. Ticks count when ``start <= ts <= end``. Return
    None when nothing with volume falls in the window.
    """
    bars, ticks = _only(data)
    pairs = [(_typical(b), b.volume) for b, _ in _bars_in(bars, start, end)]
    pairs += [(t.price, t.size) for t in ticks if start <= t.ts <= end]
    volume = _ratio_sum([v for _, v in pairs])
    if volume <= 0:
        return None
    return _r_div(_ratio_sum([_r_mul(p, v) for p, v in pairs]), volume)


def interval_twap(
    data: Sequence[TradeBar] | Sequence[TradeTick], start: int, end: int
) -> Decimal | None:
    """Return the time-weighted average price over ``[start, end)``.

    Each bar's typical price counts for the time it overlaps the window. Ticks form
    a step function: each price holds from its trade until the next one, starting
    from the last trade at or before ``start``. A zero-length window gives the price
    at that instant. Return None when no price covers the window.
    """
    bars, ticks = _only(data)
    if bars:
        spans = [(_typical(b), Decimal(w)) for b, w in _bars_in(bars, start, end)]
    else:
        before = [t for t in ticks if t.ts <= start]
        steps = ([before[-1]] if before else []) + [t for t in ticks if start < t.ts < end]
        if end == start:
            return before[-1].price if before else None
        spans = []
        for index, tick in enumerate(steps):
            begin = max(tick.ts, start)
            finish = steps[index + 1].ts if index + 1 < len(steps) else end
            spans.append((tick.price, Decimal(finish - begin)))
    weight = _ratio_sum([w for _, w in spans])
    if weight <= 0:
        return None
    return _r_div(_ratio_sum([_r_mul(p, w) for p, w in spans]), weight)
