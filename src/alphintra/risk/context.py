"""What the pre-trade checks see besides the order, the account state and the limits.

`RiskContext` is frozen; it may hold the engine's own live views (the marks dict, a
bound ``FxRates.convert``, a lazily computed equity), so the engine can build one
context and reuse it for every order until a wholesale input changes. The checks only
read it: given the same inputs, they return the same answer.

`OrderRateWindow` holds the recent order and message timestamps the throttles need.
The engine records into it; the checks only count.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.values import Currency
from alphintra.risk.correlation import CorrelationView

if TYPE_CHECKING:
    from alphintra.risk.monitors import RiskMonitor
    from alphintra.risk.portfolio_bound import PortfolioBound
    from alphintra.risk.working_books import WorkingBooks

FxConvert = Callable[[Decimal, Currency, Currency], Decimal | None]
"""Convert ``(amount, source, target)``; None when no rate is known (`FxRates.convert`)."""

InstrumentLookup = Callable[[InstrumentId], Instrument | None]
"""Return the instrument for an ID, or None when unknown (e.g. ``dict.get``)."""

LazyDecimal = Decimal | Callable[[], Decimal | None] | None
"""A value, a function computing it on first use in a check, or None (unknown)."""

NANOS_PER_MILLI: Final = 1_000_000
_EMPTY: Final[Mapping[InstrumentId, Decimal]] = MappingProxyType({})
_EMPTY_VOLS: Final[Mapping[InstrumentId, float | Decimal]] = MappingProxyType({})
_COMPACT_AT: Final = 4096


class _Series:
    """Non-decreasing timestamps; those at or before the horizon count no more, and are
    dropped now and then."""

    __slots__ = ("_floor", "_start", "_ts")

    def __init__(self) -> None:
        self._ts: list[int] = []
        self._start = 0
        self._floor = 0
        """Stamps at or before this one are beyond the horizon of the latest add."""

    def add(self, ts: int, horizon_ns: int) -> None:
        stamps = self._ts
        if stamps and ts < stamps[-1]:
            ts = stamps[-1]  # a clock step back must not unsort the series
        stamps.append(ts)
        self._floor = ts - horizon_ns
        if len(stamps) - self._start >= _COMPACT_AT:
            self.trim()

    def trim(self) -> None:
        """Find the horizon, and drop the stamps beyond it when they are many."""
        stamps = self._ts
        start = bisect_right(stamps, self._floor, self._start)
        if start >= _COMPACT_AT // 2 and start * 2 >= len(stamps):
            del stamps[:start]
            start = 0
        self._start = start

    def count_after(self, after_ns: int) -> int:
        stamps = self._ts
        floor = self._floor
        return len(stamps) - bisect_right(
            stamps, after_ns if after_ns > floor else floor, self._start
        )


class OrderRateWindow:
    """Recent order and message timestamps of one account, in total and per venue.

    Call `record_order` when an order is released to a venue (it is also a message)
    and `record_message` for every other venue request (cancel, modify). Timestamps
    older than ``horizon_ns`` are forgotten, so the horizon must be at least the
    longest throttle window (`for_windows` sizes it); a longer throttle window would
    undercount.
    """

    __slots__ = (
        "_fresh",
        "_messages",
        "_orders",
        "_sole",
        "_venue_messages",
        "_venue_orders",
        "horizon_ns",
    )

    def __init__(self, horizon_ns: int = 60_000 * NANOS_PER_MILLI) -> None:
        if horizon_ns < 0:
            raise ValueError(f"horizon_ns must not be negative, got {horizon_ns}")
        self.horizon_ns = horizon_ns
        self._orders = _Series()
        self._messages = _Series()
        self._venue_orders: dict[VenueId, _Series] = {}
        self._venue_messages: dict[VenueId, _Series] = {}
        self._sole: VenueId | None = None
        """The venue every record so far named (None: none yet, or several): its series
        are the account's own, kept once."""
        self._fresh = True
        """Nothing recorded yet."""

    @classmethod
    def for_windows(cls, *window_ms: int | None) -> OrderRateWindow:
        """Return a window whose horizon covers the longest of ``window_ms``."""
        longest = max((w for w in window_ms if w is not None), default=0)
        return cls(longest * NANOS_PER_MILLI)

    def _shares(self, venue: VenueId | None) -> bool:
        """Before a record naming ``venue``: return True when the account's series serve
        as that venue's too; part them when this record ends the sharing."""
        sole = self._sole
        if sole is not None:
            if venue == sole:
                return True
            for own, kept in (
                (self._orders, self._venue_orders),
                (self._messages, self._venue_messages),
            ):
                copy = kept[sole] = _Series()
                copy._ts, copy._start, copy._floor = list(own._ts), own._start, own._floor
            self._sole = None
            return False
        if self._fresh:
            self._fresh = False
            if venue is not None:
                self._sole = venue
                return True
        return False

    def record_order(self, ts_ns: int, venue: VenueId | None) -> None:
        """Record a new order (and its message) sent at ``ts_ns``."""
        horizon = self.horizon_ns
        if (venue is not None and venue == self._sole) or self._shares(venue) or venue is None:
            targets: tuple[_Series, ...] = (self._orders, self._messages)
        else:
            orders, messages = self._venue_orders.get(venue), self._venue_messages.get(venue)
            if orders is None:
                orders = self._venue_orders[venue] = _Series()
            if messages is None:
                messages = self._venue_messages[venue] = _Series()
            targets = (self._orders, self._messages, orders, messages)
        for series in targets:  # `_Series.add`, inline: this runs for every order
            stamps = series._ts
            ts = ts_ns if not stamps or ts_ns >= stamps[-1] else stamps[-1]
            stamps.append(ts)
            series._floor = ts - horizon
            if len(stamps) - series._start >= _COMPACT_AT:
                series.trim()

    def record_message(self, ts_ns: int, venue: VenueId | None) -> None:
        """Record a request other than a new order (cancel, modify) sent at ``ts_ns``."""
        shared = self._shares(venue)  # first: a parting copies the series before this
        self._messages.add(ts_ns, self.horizon_ns)
        if not shared and venue is not None:
            self._venue(self._venue_messages, venue).add(ts_ns, self.horizon_ns)

    @staticmethod
    def _venue(series: dict[VenueId, _Series], venue: VenueId) -> _Series:
        found = series.get(venue)
        if found is None:
            found = series[venue] = _Series()
        return found

    def _series(self, venue: VenueId | None) -> tuple[_Series | None, _Series | None]:
        """Return the order and message series of ``venue`` (None: the account's)."""
        if venue is None or venue == self._sole:
            return self._orders, self._messages
        return self._venue_orders.get(venue), self._venue_messages.get(venue)

    def orders_after(self, after_ns: int, venue: VenueId | None = None) -> int:
        """Return the orders recorded after ``after_ns`` (all venues, or one venue)."""
        found = self._series(venue)[0]
        return 0 if found is None else found.count_after(after_ns)

    def sent_after(self, after_ns: int, venue: VenueId | None = None) -> tuple[int, int]:
        """Return ``(orders_after(after_ns, venue), messages_after(after_ns, venue))``."""
        orders, messages = self._series(venue)
        return (
            0 if orders is None else orders.count_after(after_ns),
            0 if messages is None else messages.count_after(after_ns),
        )

    def below(
        self,
        after_ns: int,
        venue: VenueId | None,
        max_orders: int | None,
        max_messages: int | None,
    ) -> bool:
        """Return True when ``sent_after(after_ns, venue)`` is below both maxima (None:
        no maximum), i.e. when a throttle with them passes."""
        if venue is None or venue == self._sole:
            orders: _Series | None = self._orders
            messages: _Series | None = self._messages
        else:
            orders, messages = self._venue_orders.get(venue), self._venue_messages.get(venue)
        # Even every kept stamp may be too few to matter: then no search is needed.
        if max_orders is not None and orders is not None:
            stamps, start = orders._ts, orders._start
            if len(stamps) - start >= max_orders:
                floor = orders._floor
                cutoff = after_ns if after_ns > floor else floor
                if len(stamps) - bisect_right(stamps, cutoff, start) >= max_orders:
                    return False
        if max_messages is not None and messages is not None:
            stamps, start = messages._ts, messages._start
            if len(stamps) - start >= max_messages:
                floor = messages._floor
                cutoff = after_ns if after_ns > floor else floor
                if len(stamps) - bisect_right(stamps, cutoff, start) >= max_messages:
                    return False
        return True

    def messages_after(self, after_ns: int, venue: VenueId | None = None) -> int:
        """Return the messages recorded after ``after_ns`` (all venues, or one venue)."""
        found = self._series(venue)[1]
        return 0 if found is None else found.count_after(after_ns)


def resolve(value: LazyDecimal) -> Decimal | None:
    """Return a lazily given decimal's value."""
    if value is None or isinstance(value, Decimal):
        return value
    return value()


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskContext:
    """Inputs of the pre-trade checks besides the order, state and limits.

    Amounts are in the account's base currency. Every field is optional: a check
    whose input is missing denies with a ``*_UNAVAILABLE`` code only when its limit is
    enabled, and otherwise costs nothing.
    """

    now_ns: int | None = None
    """The decision time; None uses the order's ``ts_event``."""
    prices: Mapping[InstrumentId, Decimal] = field(default_factory=lambda: _EMPTY, hash=False)
    """Reference price per instrument (mid, or last trade); empty means
    ``AccountState.marks``."""
    instruments: InstrumentLookup | None = field(default=None, hash=False)
    """Instruments other than the order's (multiplier, quote currency, sector, venue).
    Without it, multipliers and quote currencies come from the account state."""
    fx: FxConvert | None = field(default=None, hash=False)
    """Conversion into the base currency; without it only base-currency amounts count."""
    equity: LazyDecimal = field(default=None, hash=False)
    day_start_equity: LazyDecimal = field(default=None, hash=False)
    """Equity at the start of the account's trading day (in its time zone)."""
    high_water_mark: LazyDecimal = field(default=None, hash=False)
    equity_marks: RiskMonitor | None = field(default=None, hash=False, compare=False)
    """The monitor that keeps the day's start and the peak equity, read directly in
    place of ``day_start_equity`` and ``high_water_mark`` while it has them (those two
    are the fallback: they may seed it)."""
    realized_vols: Mapping[InstrumentId, float | Decimal] = field(
        default_factory=lambda: _EMPTY_VOLS, hash=False
    )
    """Realised volatility per instrument, in the units of the volatility limits."""
    correlation: CorrelationView | None = field(default=None, hash=False)
    order_rate: OrderRateWindow | None = field(default=None, hash=False)
    default_venue: VenueId | None = None
    """The venue of instruments (and orders) that name none, for venue limits."""
    books: WorkingBooks | None = field(default=None, hash=False, compare=False)
    """The account's books kept from its events (for the state the checks are given);
    without them, the checks scan the open orders."""
    bound: PortfolioBound | None = field(default=None, hash=False, compare=False)
    """Bounds kept from the account's events (for the state and limits the checks are
    given) that can show no portfolio limit binds, sparing the exact portfolio checks."""
