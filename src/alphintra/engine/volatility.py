"""Realised volatility per instrument, worked out only when it is read.

The engine notes each new mark (`RealizedVolatility.note`, a list append); a read of
an instrument's figure first folds the marks noted since the last read, in order,
through the same rolling window as ever, so every figure is the very float an eager
update on each mark would have left.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Final, TypeVar, overload

from alphintra.domain.identifiers import InstrumentId

_T = TypeVar("_T")
FOLD_AT: Final = 256
"""Marks kept unread per instrument before they are folded anyway (bounded memory)."""


class RollingReturns:
    """Sample standard deviation of the last ``size`` simple returns of a price series."""

    __slots__ = ("_last", "_returns", "_sum", "_sum_sq", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._returns: deque[float] = deque()
        self._sum = 0.0
        self._sum_sq = 0.0
        self._last: float | None = None

    def add(self, price: float) -> float | None:
        """Add a price; return the current volatility once two returns are known."""
        last, self._last = self._last, price
        if last is None or last <= 0:
            return None
        value = price / last - 1
        self._returns.append(value)
        self._sum += value
        self._sum_sq += value * value
        if len(self._returns) > self.size:
            old = self._returns.popleft()
            self._sum -= old
            self._sum_sq -= old * old
        count = len(self._returns)
        if count < 2:
            return None
        variance = (self._sum_sq - self._sum * self._sum / count) / (count - 1)
        return math.sqrt(max(variance, 0.0))


class RealizedVolatility(Mapping[InstrumentId, float]):
    """Realised volatility per instrument over the last ``window`` returns of its marks.

    An instrument has a figure once two returns are known; a mark that gives none (the
    first ones, or after a non-positive mark) leaves the figure as it was.
    """

    __slots__ = ("_pending", "_values", "_windows", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self._pending: dict[InstrumentId, list[Decimal]] = {}
        self._windows: dict[InstrumentId, RollingReturns] = {}
        self._values: dict[InstrumentId, float] = {}

    def note(self, instrument_id: InstrumentId, mark: Decimal) -> None:
        """Record the instrument's next mark (folded at the next read)."""
        pending = self._pending.get(instrument_id)
        if pending is None:
            self._pending[instrument_id] = [mark]
        else:
            pending.append(mark)
            if len(pending) >= FOLD_AT:
                self._fold(instrument_id, pending)

    def _fold(self, instrument_id: InstrumentId, pending: list[Decimal]) -> None:
        window = self._windows.get(instrument_id)
        if window is None:
            window = self._windows[instrument_id] = RollingReturns(self.window)
        volatility: float | None = None
        # `RollingReturns.add` for each mark, inline: the same operations, in order.
        returns, size = window._returns, window.size
        total, total_sq, last = window._sum, window._sum_sq, window._last
        for mark in pending:
            price = float(mark)
            if last is None or last <= 0:
                last = price
                continue
            value = price / last - 1
            last = price
            returns.append(value)
            total += value
            total_sq += value * value
            if len(returns) > size:
                old = returns.popleft()
                total -= old
                total_sq -= old * old
            count = len(returns)
            if count >= 2:
                volatility = math.sqrt(max((total_sq - total * total / count) / (count - 1), 0.0))
        window._sum, window._sum_sq, window._last = total, total_sq, last
        pending.clear()
        if volatility is not None:
            self._values[instrument_id] = volatility

    def _settle(self) -> None:
        for instrument_id, pending in self._pending.items():
            if pending:
                self._fold(instrument_id, pending)

    @overload
    def get(self, key: InstrumentId, /) -> float | None: ...
    @overload
    def get(self, key: InstrumentId, default: float, /) -> float: ...
    @overload
    def get(self, key: InstrumentId, default: _T, /) -> float | _T: ...
    def get(self, key: InstrumentId, default: object = None, /) -> object:
        """Return the instrument's volatility (its noted marks folded first)."""
        pending = self._pending.get(key)
        if pending:
            self._fold(key, pending)
        return self._values.get(key, default)

    def __getitem__(self, key: InstrumentId) -> float:
        pending = self._pending.get(key)
        if pending:
            self._fold(key, pending)
        return self._values[key]

    def __iter__(self) -> Iterator[InstrumentId]:
        self._settle()
        return iter(self._values)

    def __len__(self) -> int:
        self._settle()
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        pending = self._pending.get(key)  # type: ignore[call-overload]
        if pending:
            self._fold(key, pending)  # type: ignore[arg-type]
        return key in self._values
