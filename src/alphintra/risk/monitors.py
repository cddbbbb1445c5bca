"""Real-time risk monitors: drawdown, daily loss and a volatility circuit breaker.

Monitors are pure state machines. The engine feeds them valuations (after fills and
on market data) and prices; they answer with actions for the engine to carry out:

* drawdown from the high-water mark beyond the limit -> emergency stop (HALTED, cancel
  everything, optionally flatten, alert);
* loss since the start of the trading day beyond the limit -> REDUCING;
* realised volatility, or a price jump within a window, beyond a threshold -> halt new
  entries on that instrument, reduce its position by a fraction and tighten the stops
  of its open brackets, until a cool-down has passed.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from alphintra.domain.identifiers import InstrumentId

NANOS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class MonitorLimits:
    """Thresholds of the monitors; ``None`` disables one."""

    max_drawdown: Decimal | None = None
    """Fraction of the high-water mark, e.g. 0.10 for 10 %."""
    daily_loss_limit: Decimal | None = None
    """Loss since the start of the trading day, in the base currency (positive)."""
    flatten_on_drawdown: bool = False
    timezone: str = "UTC"
    """The account's time zone: the trading day starts at its midnight."""
    volatility_window: int = 30
    """Returns (between consecutive prices) in the realised-volatility window; the check
    waits until the window is full."""
    volatility_threshold: float | None = None
    """Standard deviation of those returns that trips the breaker."""
    jump_threshold: float | None = None
    """Absolute move, as a fraction, from the oldest to the newest price in the window."""
    reduce_fraction: Decimal = Decimal("0.5")
    tighten_factor: Decimal = Decimal("0.5")
    """New stop distance = old distance x factor."""
    cooldown_ns: int = 300 * NANOS_PER_SECOND


@dataclass(frozen=True, slots=True)
class EmergencyStop:
    """Halt the account, cancel every working order and optionally flatten."""

    reason: str
    flatten: bool


@dataclass(frozen=True, slots=True)
class EnterReducing:
    """Allow only orders that reduce exposure."""

    reason: str


@dataclass(frozen=True, slots=True)
class TripBreaker:
    """Stop new entries on an instrument, cut its position and tighten its stops."""

    instrument_id: InstrumentId
    reason: str
    reduce_fraction: Decimal
    tighten_factor: Decimal
    until_ns: int


@dataclass(frozen=True, slots=True)
class ResetBreaker:
    """The cool-down has passed: the instrument trades again."""

    instrument_id: InstrumentId


def _local_ordinal(ts_ns: int, zone: ZoneInfo) -> int:
    # Whole seconds, floored: exact (a float of ns rounds 23:59:59.999999999 up to the
    # next day), and every zone's day starts on a whole second.
    local = datetime.fromtimestamp(ts_ns // NANOS_PER_SECOND, tz=UTC).astimezone(zone)
    return local.toordinal()


_MARGIN_NS = NANOS_PER_SECOND
"""Kept clear of a day's edges: there the day is always computed afresh."""
_NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND
CLOSE_SAMPLE_NS = 300 * NANOS_PER_SECOND
"""How often, at most, the engine journals the monitor's latest equity on its own while
it moves: after a crash the journaled close is at most this old (a clean shutdown
journals it exactly), and a day of updates adds at most 288 events."""
CLOSE_CARRY_DAYS = 4
"""How many days after its own a restored latest equity may still start a trading day
(`RiskMonitor.restore_marks`): a weekend with a holiday on either side."""
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu"})


def _day_interior(ts_ns: int, day: int, zone: ZoneInfo) -> tuple[int, int, int]:
    """Return an interval around ``ts_ns`` on which `_local_ordinal` is ``day``.

    In UTC that is the day less `_MARGIN_NS` at each end; elsewhere, where offsets
    change within a day, it is empty.
    """
    if zone.key not in _UTC_KEYS:
        return (0, -1, day)
    from_ns = (day - _EPOCH_ORDINAL) * _NANOS_PER_DAY + _MARGIN_NS
    until_ns = from_ns + _NANOS_PER_DAY - 2 * _MARGIN_NS
    if not from_ns <= ts_ns < until_ns:
        return (0, -1, day)
    return (from_ns, until_ns, day)


MonitorAction = EmergencyStop | EnterReducing | TripBreaker | ResetBreaker


class RiskMonitor:
    """The monitors of one account."""

    def __init__(self, limits: MonitorLimits) -> None:
        self.limits = limits
        self.high_water: Decimal | None = None
        self.day: int | None = None
        self.day_start_equity: Decimal | None = None
        self.last_equity: Decimal | None = None
        """The equity of the latest update (or the journaled one): the next day's start."""
        self.last_equity_day = 0
        """The trading day of ``last_equity``."""
        self.halted = False
        self.reducing = False
        self._prices: dict[InstrumentId, deque[float]] = {}
        self.tripped: dict[InstrumentId, int] = {}
        self._zone = ZoneInfo(limits.timezone)
        self._day_span: tuple[int, int, int] = (0, -1, 0)
        """(from_ns, until_ns, day): every ts in [from_ns, until_ns) falls on ``day``."""

    def reconfigure(self, limits: MonitorLimits) -> None:
        """Apply new thresholds, keeping the high-water mark and the day's start.

        The last equity seen is dropped: while no threshold needed equity the engine fed
        the monitor nothing, so it may be days old rather than the previous day's close.
        The next update sets it again; a day that rolls first starts at its own update.
        """
        self.limits = limits
        self.last_equity = None
        self._zone = ZoneInfo(limits.timezone)
        self._day_span = (0, -1, 0)
        for instrument_id, window in list(self._prices.items()):
            self._prices[instrument_id] = deque(window, maxlen=limits.volatility_window + 1)

    def restore_marks(
        self,
        day: int,
        day_start_equity: Decimal,
        high_water: Decimal,
        last_equity: Decimal | None = None,
    ) -> None:
        """Carry on from journaled figures (after a restart): the trading day with the
        equity at its start, the peak, and the day's latest equity journaled. A newer day
        or a higher peak already held stays.

        The latest equity becomes the start of the next day the monitor sees if that day
        is at most `CLOSE_CARRY_DAYS` later: the previous close across a weekend or a
        holiday, so an overnight gap over a restart counts toward the day's loss. After a
        longer stop it would fold days of P&L into one, and the day starts at its first
        update instead.
        """
        if self.day is None or day > self.day:
            self.day = day
            self.day_start_equity = day_start_equity
            self.last_equity = last_equity
            self.last_equity_day = day
        elif day == self.day:
            self.day_start_equity = day_start_equity  # the day's true start, not a restart's
            if self.last_equity is None:
                self.last_equity = last_equity
                self.last_equity_day = day
        if self.high_water is None or high_water > self.high_water:
            self.high_water = high_water

    def rearm(self, equity: Decimal) -> None:
        """Start again after a resume: the current equity is the new high-water mark and,
        for the rest of the trading day, the daily-loss reference. Left at the day's
        start, a loss past the limit would set REDUCING again on the next update and a
        resume from it could never hold; now a further loss of the limit trips it."""
        self.high_water = equity
        if self.day is not None:
            self.day_start_equity = equity
        self.halted = False
        self.reducing = False

    def _trading_day(self, ts_ns: int) -> int:
        span = self._day_span
        if span[0] <= ts_ns < span[1]:
            return span[2]
        day = _local_ordinal(ts_ns, self._zone)
        self._day_span = _day_interior(ts_ns, day, self._zone)
        return day

    def on_equity(self, ts_ns: int, equity: Decimal) -> list[MonitorAction]:
        """Update the high-water mark and day start; return any action a breach needs."""
        actions: list[MonitorAction] = []
        span = self._day_span  # `_trading_day`, its cached span inline
        day = span[2] if span[0] <= ts_ns < span[1] else self._trading_day(ts_ns)
        if self.day is None or day > self.day:
            # Only forward: a late report stamped before midnight must not restart the
            # day (twice, with the next on-time one) at the current equity. The day
            # starts at the last equity seen before it (the previous day's close), so
            # an overnight gap counts as the new day's loss; with none seen, at this one.
            last = self.last_equity
            if last is not None and day - self.last_equity_day > CLOSE_CARRY_DAYS:
                last = None  # journaled before a long stop: not the previous close
            self.day = day
            self.day_start_equity = equity if last is None else last
            self.reducing = False
        self.last_equity = equity
        self.last_equity_day = day
        if self.high_water is None or equity > self.high_water:
            self.high_water = equity
        limits = self.limits
        if limits.max_drawdown is not None and not self.halted and self.high_water > 0:
            drawdown = (self.high_water - equity) / self.high_water
            if drawdown > limits.max_drawdown:
                self.halted = True
                actions.append(
                    EmergencyStop(
                        f"drawdown {drawdown:.6f} from the high-water mark {self.high_water} "
                        f"exceeds the limit {limits.max_drawdown}",
                        limits.flatten_on_drawdown,
                    )
                )
        start = self.day_start_equity
        if (
            limits.daily_loss_limit is not None
            and start is not None
            and not self.reducing
            and not self.halted  # REDUCING after the emergency stop would undo the halt
        ):
            loss = start - equity
            if loss > limits.daily_loss_limit:
                self.reducing = True
                actions.append(
                    EnterReducing(
                        f"daily loss {loss} since the day's start equity {start} exceeds the "
                        f"limit {limits.daily_loss_limit}"
                    )
                )
        return actions

    def on_price(
        self, instrument_id: InstrumentId, ts_ns: int, price: Decimal
    ) -> list[MonitorAction]:
        """Track one price; return a breaker trip or reset when one is due."""
        limits = self.limits
        until = self.tripped.get(instrument_id)
        if until is not None and ts_ns >= until:
            del self.tripped[instrument_id]
            self._prices.pop(instrument_id, None)
            return [ResetBreaker(instrument_id)]
        if limits.volatility_threshold is None and limits.jump_threshold is None:
            return []
        window = self._prices.get(instrument_id)
        if window is None:
            window = self._prices[instrument_id] = deque(maxlen=limits.volatility_window + 1)
        window.append(float(price))
        if until is not None or len(window) < 2:
            return []
        reason = self._breach(window)
        if reason is None:
            return []
        until_ns = ts_ns + limits.cooldown_ns
        self.tripped[instrument_id] = until_ns
        return [
            TripBreaker(
                instrument_id, reason, limits.reduce_fraction, limits.tighten_factor, until_ns
            )
        ]

    def _breach(self, window: deque[float]) -> str | None:
        limits = self.limits
        prices = list(window)
        if limits.jump_threshold is not None and prices[0] > 0:
            jump = abs(prices[-1] / prices[0] - 1)
            if jump > limits.jump_threshold:
                return f"price moved {jump:.6f} within the window, over {limits.jump_threshold}"
        if limits.volatility_threshold is not None and len(prices) > limits.volatility_window:
            returns = [b / a - 1 for a, b in itertools.pairwise(prices) if a > 0]
            if len(returns) >= 2:
                mean = sum(returns) / len(returns)
                variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
                volatility = math.sqrt(variance)
                if volatility > limits.volatility_threshold:
                    return (
                        f"realised volatility {volatility:.6f} over {len(returns)} returns "
                        f"exceeds {limits.volatility_threshold}"
                    )
        return None

    def entries_blocked(self, instrument_id: InstrumentId) -> bool:
        """Return True while the instrument's breaker is tripped."""
        return instrument_id in self.tripped
