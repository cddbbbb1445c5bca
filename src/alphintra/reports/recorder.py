"""Record execution quality into ``execution_quality`` in the journal's own transaction.

`ExecutionQualityRecorder` is a journal commit hook, like the read-model projector.
It follows every order it saw created, collects its fills from the ``OrderFilled``
events, and at each commit that touched an order with fills (or closed one) it
measures the order with `alphintra.execution.quality.order_quality` against the
quotes `QuoteHistory` kept, and upserts its ORDER and FILL rows.

The arrival is the order's creation time; the decision price is the signal's entry
price when ``decision_price`` knows it, else the arrival mid. The *strategy* of an
order is its execution algorithm (``TWAP``, ``VWAP``...; a child slice inherits its
parent's) or, without one, its order type. An algo parent is measured on its
children's fills. The realised spread and the market impact need the mid
``horizon_ns`` after a fill: while the quotes do not reach it, a closed order stays
watched, and at the first commit once they do, the three columns that need it are
updated (`HORIZON_UPDATE`). The rest of the order cannot have changed, unless its
decision price became known meanwhile or a quote at or before its end arrived late:
then the whole order is measured and upserted again. Orders created before this
process started are not measured (their earlier fills are not known here).

Quotes are looked up by bisection in `QuoteHistory`'s own lists (in time order and of
one instrument by construction, so not checked again). If a commit fails, the orders
whose rows it held are measured again at the next one.

A fee charged in the base asset is converted at the fill price (``base_currency`` names
each instrument's base); an order with a fee in any other currency is not measured. A
failure to measure (no quote at arrival, an unconvertible fee) never fails the commit:
the order is logged and skipped.
"""

from __future__ import annotations

import bisect
import heapq
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import (
    AnyEvent,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.orders import Order
from alphintra.domain.values import Currency
from alphintra.execution.quality import (
    MONEY,
    Execution,
    FillQuality,
    OrderQuality,
    OrderRecord,
    horizon_measures,
    measure,
)
from alphintra.reports.records import (
    HORIZON_UPDATE,
    UPSERT_ROWS,
    Params,
    RecordedOrder,
    horizon_rows,
    order_rows,
)

log = logging.getLogger("alphintra.reports")

DEFAULT_HORIZON_NS: Final = 60 * 1_000_000_000
"""The N of "mid N seconds after the last fill" (market impact, realised spread)."""
MAX_QUOTES: Final = 100_000
"""Quotes kept per instrument; the oldest half is dropped when the history is full."""
MAX_WATCHED: Final = 10_000
"""Closed orders kept waiting for their horizon; past this the oldest are given up."""
_ONE: Final = Decimal(1)
_MEASURED_WHEN_UNFILLED: Final = frozenset({OrderStatus.CANCELLED, OrderStatus.EXPIRED})
_IN_FLIGHT: Final = frozenset({OrderSubmitted, OrderAccepted})
"""Events that never close an order: one without fills has nothing to measure after them."""

OrderListener = Callable[[RecordedOrder, Sequence[FillQuality], bool], None]
"""Called with a measured order, its fills not reported before, and True once it closed."""
DecisionPriceFn = Callable[[AccountId, SignalId], Decimal | None]


class QuoteHistory:
    """The recent quotes of every instrument, in time order."""

    def __init__(self, max_quotes: int = MAX_QUOTES) -> None:
        if max_quotes < 2:
            raise ValueError(f"max_quotes must be at least 2, got {max_quotes}")
        self._max = max_quotes
        self._quotes: dict[InstrumentId, list[QuoteTick]] = {}
        self._times: dict[InstrumentId, list[int]] = {}

    def record(self, quote: QuoteTick) -> None:
        """Keep ``quote``; a quote older than the instrument's last one is ignored.

        So is a quote that is not a tradable two-sided market: a side of 0 or less (the
        source has no price there; the mid would be half the other side), a crossed
        quote, or an indicative one (a mark during a halt or a closed market). None of
        them is a benchmark an execution can be measured against.
        """
        if quote.indicative or quote.bid <= 0 or quote.ask <= 0 or quote.bid > quote.ask:
            return
        quotes = self._quotes.setdefault(quote.instrument_id, [])
        times = self._times.setdefault(quote.instrument_id, [])
        if times and quote.ts < times[-1]:
            return
        if len(quotes) >= self._max:
            del quotes[: self._max // 2]
            del times[: self._max // 2]
        quotes.append(quote)
        times.append(quote.ts)

    def latest_ts(self, instrument_id: InstrumentId) -> int | None:
        """Return the time of the instrument's last quote, or None."""
        times = self._times.get(instrument_id)
        return times[-1] if times else None

    def series(self, instrument_id: InstrumentId) -> tuple[list[QuoteTick], list[int]]:
        """Return the instrument's quotes and their times, as kept (not copies: do not change)."""
        return self._quotes.get(instrument_id, []), self._times.get(instrument_id, [])

    def at(self, instrument_id: InstrumentId, ts: int) -> QuoteTick | None:
        """Return the last quote at or before ``ts``, or None."""
        index = bisect.bisect_right(self._times.get(instrument_id, []), ts)
        return self._quotes[instrument_id][index - 1] if index else None


@dataclass(frozen=True, slots=True)
class _Measured:
    """A closed order's measure and what it depended on that could still change."""

    quality: OrderQuality
    signal_id: SignalId | None
    decision: Decimal | None
    """What ``decision_price`` answered for ``signal_id``."""
    end_ts: int
    end_quote: QuoteTick | None
    """The last quote at or before the order's end (a later one at or before it changes all)."""


@dataclass(slots=True)
class _Tracked:
    fills: list[Execution] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    closed_reported: bool = False
    unmeasurable: str | None = None
    """Why the order cannot be measured (a fee in a currency we cannot convert)."""
    measured: _Measured | None = None
    """The closed order's last measure, while it waits for its horizon."""


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    """Return True when ``a`` and ``b`` are the same number written the same way."""
    return a is b or (a is not None and b is not None and a.as_tuple() == b.as_tuple())


def _fill_key(fill: FillQuality) -> str:
    return fill.trade_id or f"#{fill.ts}"


class ExecutionQualityRecorder:
    """A journal commit hook that upserts execution-quality rows (see the module docstring)."""

    def __init__(
        self,
        account_state: Callable[[AccountId], AccountState | None],
        quotes: QuoteHistory,
        *,
        horizon_ns: int = DEFAULT_HORIZON_NS,
        decision_price: DecisionPriceFn | None = None,
        listener: OrderListener | None = None,
        base_currency: Callable[[InstrumentId], Currency | None] | None = None,
    ) -> None:
        if horizon_ns < 0:
            raise ValueError(f"horizon_ns must not be negative, got {horizon_ns}")
        self._state_of = account_state
        self.quotes = quotes
        self.horizon_ns = horizon_ns
        self._decision_price = decision_price
        self._listener = listener
        self._base_currency = base_currency
        self._tracked: dict[tuple[AccountId, ClientOrderId], _Tracked] = {}
        self._touched: set[tuple[AccountId, ClientOrderId]] = set()
        self._watched: set[tuple[AccountId, ClientOrderId]] = set()
        """Closed orders waiting for the quotes to reach their horizon."""
        self._due: dict[InstrumentId, list[tuple[int, tuple[AccountId, ClientOrderId]]]] = {}
        """Per instrument, a heap of (time the horizon is reached, watched order)."""
        self._drained: list[tuple[AccountId, ClientOrderId]] = []
        """The orders whose rows the commit being written holds."""

    @property
    def tracked_orders(self) -> int:
        """Return how many orders are followed (working, or closed and awaiting the horizon)."""
        return len(self._tracked)

    def appended(self, event: AnyEvent, seq: int) -> None:
        """Note an order's creation, fills and changes."""
        if not isinstance(event, OrderEvent):
            return
        key = (event.account_id, event.client_order_id)
        if type(event) is OrderInitialized:
            self._tracked[key] = _Tracked()
            return
        tracked = self._tracked.get(key)
        if tracked is None:
            return
        kind = type(event)
        if kind in _IN_FLIGHT and not tracked.fills and tracked.unmeasurable is None:
            return  # it neither closes the order nor fills it: nothing to measure
        self._touched.add(key)
        if type(event) is not OrderFilled:
            return
        trackers = [tracked]
        state = self._state_of(event.account_id)
        order = state.orders.get(event.client_order_id) if state is not None else None
        parent = None
        if order is not None and order.parent_id is not None and state is not None:
            parent = state.orders.get(order.parent_id)
        if parent is not None and parent.exec_algorithm:
            parent_key = (event.account_id, parent.client_order_id)
            parent_tracked = self._tracked.get(parent_key)
            if parent_tracked is not None:
                trackers.append(parent_tracked)
                self._touched.add(parent_key)
        try:
            fee_in_quote = self._fee_in_quote(event, state)
            execution = Execution.from_event(event, fee_in_quote=fee_in_quote)
        except ValueError as exc:  # a fee we cannot convert, a price at or below zero
            for each in trackers:
                each.unmeasurable = each.unmeasurable or str(exc)
            return
        for each in trackers:
            each.fills.append(execution)

    def _fee_in_quote(self, event: OrderFilled, state: AccountState | None) -> Decimal | None:
        """Return the fee in the quote currency when it was charged in another one.

        A fee in the base asset (crypto venues) is worth fee x price; a fee in any other
        currency raises ``ValueError``: it cannot be converted here. ``state`` is the
        account's state.
        """
        quote_currency = state.quote_currencies.get(event.instrument_id) if state else None
        if quote_currency is None or event.fee_currency == quote_currency or not event.fee:
            return None
        base = None
        if self._base_currency is not None:
            try:
                base = self._base_currency(event.instrument_id)
            except KeyError:  # an instrument the registry does not know has no base here
                base = None
        if event.fee_currency == base:
            return MONEY.multiply(event.fee, event.last_price)
        raise ValueError(
            f"fee of trade {event.trade_id} is in {event.fee_currency}, not in the quote "
            f"currency {quote_currency} or the base currency {base}"
        )

    def drain(self) -> list[tuple[str, list[Params]]]:
        """Return the upserts for the commit now starting."""
        keys = self._touched
        self._touched = set()
        again: set[tuple[AccountId, ClientOrderId]] = set()
        for instrument, heap in self._due.items():
            latest = self.quotes.latest_ts(instrument)
            while heap and latest is not None and heap[0][0] <= latest:
                key = heapq.heappop(heap)[1]
                if key in self._watched:
                    again.add(key)
        rows: list[Params] = []
        updates: list[Params] = []
        drained = sorted(keys | again)
        for key in drained:
            if key in keys or not self._reach_horizon(key, updates):
                rows.extend(self._measure(key, final=key in again))
        self._drained = drained
        batches = UPSERT_ROWS.batches(rows)
        if updates:
            batches.append((HORIZON_UPDATE, updates))
        return batches

    def discard(self) -> None:
        """The commit failed: measure again at the next one what it would have written."""
        self._touched.update(key for key in self._drained if key in self._tracked)
        self._drained = []

    def _reach_horizon(self, key: tuple[AccountId, ClientOrderId], updates: list[Params]) -> bool:
        """Add the horizon measures of a watched order that nothing touched; False: measure it.

        Only the measures that need the mid ``horizon_ns`` after the fills change then,
        unless the decision price changed or a quote arrived at or before the order's
        end: then (and if anything is amiss) the whole order is measured again.
        """
        tracked = self._tracked.get(key)
        measured = tracked.measured if tracked is not None else None
        if measured is None:
            return False
        quality = measured.quality
        state = self._state_of(key[0])
        order = state.orders.get(key[1]) if state is not None else None
        if state is None or order is None or not order.status.is_closed:
            return False
        decision = None
        if measured.signal_id is not None and self._decision_price is not None:
            decision = self._decision_price(state.account_id, measured.signal_id)
        if not _same(decision, measured.decision):
            return False
        if self.quotes.at(quality.instrument_id, measured.end_ts) is not measured.end_quote:
            return False
        quotes, times = self.quotes.series(quality.instrument_id)
        measures = horizon_measures(quality, quotes, times, self.horizon_ns)
        if measures.market_impact_bps is None:
            return False
        updates.extend(horizon_rows(quality, measures))
        self._forget(key)
        return True

    def _measure(self, key: tuple[AccountId, ClientOrderId], final: bool = False) -> list[Params]:
        """Return the rows of a touched order; ``final``: its horizon is reached, last time."""
        account, order_id = key
        tracked = self._tracked.get(key)
        state = self._state_of(account)
        order = state.orders.get(order_id) if state is not None else None
        if tracked is None or state is None or order is None:
            self._forget(key)
            return []
        closed = order.status.is_closed
        if tracked.unmeasurable is not None:
            log.warning("execution quality of %s/%s not measured: %s", *key, tracked.unmeasurable)
            self._forget(key)
            return []
        if not tracked.fills and not (closed and order.status in _MEASURED_WHEN_UNFILLED):
            if closed:
                self._forget(key)
            return []
        try:
            recorded, decision = self._record(state, order, tracked)
        except (ValueError, ArithmeticError) as exc:
            log.warning("execution quality of %s/%s not measured: %s", account, order_id, exc)
            if closed:
                self._forget(key)
            return []
        quality = recorded.quality
        tracked.measured = None
        new_fills = [f for f in quality.fills if _fill_key(f) not in tracked.reported]
        tracked.reported.update(_fill_key(f) for f in new_fills)
        newly_closed = closed and not tracked.closed_reported
        tracked.closed_reported = tracked.closed_reported or closed
        if self._listener is not None and (new_fills or newly_closed):
            try:
                self._listener(recorded, new_fills, newly_closed)
            except Exception:  # a metrics failure must not fail the journal's commit
                log.exception("execution quality listener failed on %s/%s", *key)
        if closed:
            waiting = not final and quality.fills and quality.market_impact_bps is None
            if waiting and key not in self._watched and len(self._watched) < MAX_WATCHED:
                self._watched.add(key)
                due = quality.fills[-1].ts + self.horizon_ns
                heapq.heappush(self._due.setdefault(order.instrument_id, []), (due, key))
            elif not (waiting and key in self._watched):
                self._forget(key)
                return order_rows(recorded)
            tracked.measured = _Measured(
                quality,
                recorded.signal_id,
                decision,
                recorded.end_ts,
                self.quotes.at(order.instrument_id, recorded.end_ts),
            )
        return order_rows(recorded)

    def _forget(self, key: tuple[AccountId, ClientOrderId]) -> None:
        self._tracked.pop(key, None)
        self._watched.discard(key)

    def _record(
        self, state: AccountState, order: Order, tracked: _Tracked
    ) -> tuple[RecordedOrder, Decimal | None]:
        """Measure ``order``; return it and what ``decision_price`` answered."""
        parent = state.orders.get(order.parent_id) if order.parent_id is not None else None
        algo = order.exec_algorithm or (parent.exec_algorithm if parent is not None else None)
        signal_id = order.signal_id or (parent.signal_id if parent is not None else None)
        signal = state.signals.get(signal_id) if signal_id is not None else None
        decision = None
        if signal_id is not None and self._decision_price is not None:
            decision = self._decision_price(state.account_id, signal_id)
        fills = tuple(tracked.fills)
        if len(fills) > 1:
            fills = tuple(sorted(fills, key=lambda f: f.ts))
        end = order.last_event_ts if order.status.is_closed else None
        if end is not None and fills:
            end = max(end, fills[-1].ts)
        record = OrderRecord(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            side=order.side,
            quantity=order.quantity,
            arrival_ts=order.ts_init,
            fills=fills,
            currency=state.quote_currencies.get(order.instrument_id, state.base_currency),
            decision_price=decision,
            end_ts=end,
            multiplier=state.multipliers.get(order.instrument_id, _ONE),
            account_id=state.account_id,
            model_id=signal.model_id if signal is not None else None,
            strategy=algo or order.order_type.value,
        )
        # The history is in time order and of this instrument: nothing to check.
        quotes, times = self.quotes.series(order.instrument_id)
        quality = measure(record, quotes, times, horizon_ns=self.horizon_ns)
        recorded = RecordedOrder(
            quality=quality,
            end_ts=record.life_end,
            signal_id=signal_id,
            parent_id=order.parent_id,
            algo=algo,
        )
        return recorded, decision
