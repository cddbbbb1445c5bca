"""Clocks: injected into the engine so backtests and live trading run the same code."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in integer nanoseconds UTC."""

    def now_ns(self) -> int:
        """Return the current time."""
        ...


class LiveClock:
    """Wall-clock time."""

    def now_ns(self) -> int:
        """Return the current wall-clock time."""
        return time.time_ns()


class SimulatedClock:
    """Time set explicitly by a backtest; it never moves backwards."""

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        """Return the simulated time."""
        return self._now

    def advance_to(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns``; moving backwards is an error."""
        if ts_ns < self._now:
            raise ValueError(f"clock cannot move backwards from {self._now} to {ts_ns}")
        self._now = ts_ns
