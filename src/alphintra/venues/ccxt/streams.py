"""Polling streams of quotes and order updates, with backoff, and the order tracker.

Where an exchange's user-data WebSocket is not used (see ``ws_stream.py``), order
updates are polled from REST: every cycle is the same catch-up the WebSocket stream
runs after each reconnect (``OrderTracker.catch_up``: fills since the last one seen,
open orders, the final state of orders that left the book), at the cost of latency
(``poll_interval_s``) and request weight. Failed polls back off exponentially up to
``max_backoff_s``, honouring a venue's ``Retry-After``; a failing handler is logged and
does not stop the stream.

Cost per cycle on Binance, per traded instrument: openOrders (weight 6) and myTrades
(weight 20), plus depth (5) per quoted instrument: about 1 900 of the 6 000 weight a
minute at a one-second period for one instrument. Use a longer ``poll_interval_s`` for
many instruments; a websocket user-data stream (ccxt.pro) is the way past this.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, TypeVar

import structlog

from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from alphintra.domain.market import QuoteTick
from alphintra.venues.adapter import (
    OrderUpdateHandler,
    QuoteHandler,
    VenueError,
    VenueErrorKind,
    VenueFill,
    VenueOrderState,
)

log = structlog.get_logger("alphintra.venues.ccxt")
_SEEN_TRADES = 10_000
_FILL_OVERLAP_NS = 5_000_000_000
_MISSES_BEFORE_DROP = 3
ZERO = Decimal(0)
_CATCH_UP_RETRIES = 4
_T = TypeVar("_T")


class OrderSource(Protocol):
    """What the order-update poller reads."""

    async def open_orders(self, *, traded_only: bool = False) -> list[VenueOrderState]: ...

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None: ...

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]: ...


class Backoff:
    """Exponential backoff with jitter, capped, reset on success."""

    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        self._base = base_s
        self._cap = cap_s
        self._attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self, retry_after_s: float | None = None) -> float:
        """Return how long to wait before the next attempt."""
        self._attempt += 1
        delay: float = min(self._cap, self._base * 2.0 ** (self._attempt - 1))
        delay = delay * (0.5 + float(self._rng.random()) / 2)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self._cap))
        return delay

    def reset(self) -> None:
        """Forget earlier failures."""
        self._attempt = 0


def _same(a: VenueOrderState, b: VenueOrderState) -> bool:
    return (a.status, a.filled_quantity, a.quantity, a.price, a.trigger_price) == (
        b.status,
        b.filled_quantity,
        b.quantity,
        b.price,
        b.trigger_price,
    )


async def deliver(venue: str, handler: Callable[[Any], Awaitable[None]], item: object) -> None:
    """Call ``handler``; a failing handler is logged and never stops a stream."""
    try:
        await handler(item)
    except asyncio.CancelledError:
        raise
    except Exception:  # a failing handler must not stop the stream
        log.exception("stream handler failed", venue=venue, item=repr(item)[:200])


class OrderTracker:
    """What an order-update stream has delivered, and the catch-up that fills any gap.

    Fills are delivered once per trade ID and order states once per change. Orders are
    followed from placement until a closed state is seen. ``catch_up`` reads the fills
    since the previous catch-up began (everything before was read then) or since the
    state before one that showed more filled than the fills delivered, whichever is
    older, less a clock-skew margin; then the open orders, and the state of each
    followed order that is no longer open. After it, nothing that happened at the venue
    before it began is missing.
    """

    def __init__(self, venue: str, clock_ns: Callable[[], int]) -> None:
        self._venue = venue
        self._clock = clock_ns
        self._seen: OrderedDict[TradeId, None] = OrderedDict()
        self._known: dict[ClientOrderId, VenueOrderState] = {}
        self._watch: dict[ClientOrderId, tuple[InstrumentId, int]] = {}
        self._misses: dict[ClientOrderId, int] = {}
        self._filled: dict[VenueOrderId, Decimal] = {}
        self._state_filled: dict[VenueOrderId, Decimal] = {}
        self._state_ts: dict[VenueOrderId, int] = {}
        self._owing: dict[VenueOrderId, int] = {}
        """Orders with fewer fills delivered than their state shows, and since when."""
        self._since = clock_ns()
        self.catch_ups = 0
        """How many catch-ups completed."""

    def track(self, client_order_id: ClientOrderId, instrument_id: InstrumentId) -> None:
        """Follow an order until it closes, even if it is never seen open."""
        self._watch.setdefault(client_order_id, (instrument_id, self._clock()))

    def owing(self) -> set[VenueOrderId]:
        """Return the orders whose last state shows more filled than the fills delivered."""
        return set(self._owing)

    async def fill(self, item: VenueFill, handler: OrderUpdateHandler) -> None:
        """Deliver ``item`` unless its trade ID was delivered before."""
        if item.trade_id in self._seen:
            return
        self._seen[item.trade_id] = None
        if len(self._seen) > _SEEN_TRADES:
            self._seen.popitem(last=False)
        self._filled[item.venue_order_id] = self._filled.get(item.venue_order_id, ZERO) + (
            item.quantity
        )
        if len(self._filled) > _SEEN_TRADES:
            self._filled.pop(next(iter(self._filled)))
        self._balance(item.venue_order_id, item.ts)
        await deliver(self._venue, handler, item)

    async def state(self, state: VenueOrderState, handler: OrderUpdateHandler) -> None:
        """Deliver ``state`` when it differs from the last one delivered for the order."""
        cid = state.client_order_id
        before = self._known.get(cid)
        vid = state.venue_order_id
        previous_ts = self._state_ts.get(vid, state.ts)
        self._state_ts[vid] = state.ts
        self._state_filled[vid] = max(state.filled_quantity, self._state_filled.get(vid, ZERO))
        for memo in (self._state_filled, self._state_ts):
            if len(memo) > _SEEN_TRADES:
                memo.pop(next(iter(memo)))
        self._balance(vid, previous_ts)  # a missing fill happened after the previous state
        if state.status.is_closed:  # fills it still owes are found through ``_owing``
            self._watch.pop(cid, None)
            self._misses.pop(cid, None)
        elif cid not in self._watch:
            self._watch[cid] = (state.instrument_id, state.ts or self._clock())
        if before is None or not _same(before, state):
            self._known[cid] = state
            if len(self._known) > _SEEN_TRADES:
                self._known.pop(next(iter(self._known)))
            await deliver(self._venue, handler, state)

    def _balance(self, vid: VenueOrderId, since_ns: int) -> None:
        if self._state_filled.get(vid, ZERO) > self._filled.get(vid, ZERO):
            self._owing.setdefault(vid, since_ns)
        else:
            self._owing.pop(vid, None)

    async def catch_up(self, source: OrderSource, handler: OrderUpdateHandler) -> bool:
        """Read order states and fills from REST and deliver what was missed.

        Order states come first, so that the fills (which carry only the venue's order
        ID) find their orders linked. A read that keeps failing does not undo the reads
        that succeeded; the result is False when anything is left to read again.
        """
        started = self._clock()
        owing = set(self._owing)
        complete = True
        still_open: set[ClientOrderId] = set()
        try:
            for state in await _retried(lambda: source.open_orders(traded_only=True)):
                still_open.add(state.client_order_id)
                await self.state(state, handler)
        except VenueError as exc:
            log.warning("catch-up: open orders unreadable", venue=self._venue, error=str(exc))
            complete = False
        if complete:
            for client_order_id, (instrument_id, since_ns) in list(self._watch.items()):
                if client_order_id not in still_open:
                    complete &= await self._check(
                        source, handler, client_order_id, instrument_id, since_ns
                    )
        since = min([self._since, *self._owing.values()]) - _FILL_OVERLAP_NS
        try:
            fills = await _retried(lambda: source.fills_since(max(0, since)))
        except VenueError as exc:
            log.warning("catch-up: fills unreadable", venue=self._venue, error=str(exc))
            return False
        for item in sorted(fills, key=lambda f: f.ts):
            named = item
            if item.client_order_id is None and item.trade_id not in self._seen:
                named = await self._named(source, handler, item)
            await self.fill(named, handler)
        self._since = started
        for vid in owing & set(self._owing):  # the venue has no such fills to give
            log.warning("fills never found", venue=self._venue, venue_order_id=vid)
            self._owing.pop(vid, None)
        if complete:
            self.catch_ups += 1
        return complete

    async def _named(
        self, source: OrderSource, handler: OrderUpdateHandler, item: VenueFill
    ) -> VenueFill:
        """Return ``item`` with its client order ID, read from its order at the venue.

        A fill read from REST carries only the venue's order ID; when neither the order's
        acknowledgement nor any stream message linked the two, nobody could book it.
        """
        try:
            state = await _retried(
                partial(source.query_order, item.instrument_id, venue_order_id=item.venue_order_id)
            )
        except VenueError:
            return item
        if state is None:
            return item
        await self.state(state, handler)
        return dataclasses.replace(item, client_order_id=state.client_order_id)

    async def _check(
        self,
        source: OrderSource,
        handler: OrderUpdateHandler,
        client_order_id: ClientOrderId,
        instrument_id: InstrumentId,
        followed_since: int,
    ) -> bool:
        """Read one followed order that is not open; return False when unreadable.

        An order the venue does not know is dropped after a few such answers, or at
        once when it was followed from before the previous catch-up began (the venue
        has had the time to show it)."""
        try:
            found = await _retried(
                partial(source.query_order, instrument_id, client_order_id=client_order_id)
            )
        except VenueError:
            return False
        if found is None:  # not visible yet, or never reached the venue
            misses = self._misses.get(client_order_id, 0) + 1
            self._misses[client_order_id] = misses
            if misses >= _MISSES_BEFORE_DROP or followed_since < self._since:
                self._watch.pop(client_order_id, None)
                self._misses.pop(client_order_id, None)
            return True
        self._misses.pop(client_order_id, None)
        await self.state(found, handler)
        if found.status.is_closed:
            self._watch.pop(client_order_id, None)
        return True


async def _retried(call: Callable[[], Awaitable[_T]]) -> _T:
    """Run one catch-up read, retrying a TRANSIENT failure a few times at once: a
    catch-up is several reads, and redoing all of them for one failure costs more."""
    for attempt in range(_CATCH_UP_RETRIES):
        try:
            return await call()
        except VenueError as exc:
            if exc.kind is not VenueErrorKind.TRANSIENT or attempt == _CATCH_UP_RETRIES - 1:
                raise
            await asyncio.sleep(min(1.0, exc.retry_after_s or 0.02 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


class PollingStreams:
    """Background tasks that poll an adapter and feed handlers until ``stop``."""

    def __init__(
        self,
        venue: str,
        interval_s: float,
        max_backoff_s: float,
        clock_ns: Callable[[], int],
    ) -> None:
        self._venue = venue
        self._interval = interval_s
        self._max_backoff = max_backoff_s
        self._clock = clock_ns
        self._tasks: list[asyncio.Task[None]] = []
        self.tracker = OrderTracker(venue, clock_ns)

    def track(self, client_order_id: ClientOrderId, instrument_id: InstrumentId) -> None:
        """Follow an order until it closes, even if it is never seen open."""
        self.tracker.track(client_order_id, instrument_id)

    def start_quotes(
        self,
        instruments: list[InstrumentId],
        fetch: Callable[[InstrumentId], Awaitable[QuoteTick]],
        handler: QuoteHandler,
    ) -> None:
        """Poll quotes for ``instruments`` and deliver each change."""
        self._spawn(self._quotes(list(instruments), fetch, handler), "quotes")

    def start_orders(self, source: OrderSource, handler: OrderUpdateHandler) -> None:
        """Poll fills and order states and deliver each change."""
        self._spawn(self._orders(source, handler), "orders")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"ccxt-{self._venue}-{name}")
        self._tasks.append(task)

    async def stop(self) -> None:
        """Cancel every polling task and wait for them."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, name: str, cycle: Callable[[], Awaitable[None]]) -> None:
        backoff = Backoff(min(1.0, self._interval), self._max_backoff)
        while True:
            try:
                await cycle()
            except asyncio.CancelledError:
                raise
            except VenueError as exc:
                delay = backoff.next_delay(exc.retry_after_s)
                log.warning(
                    "poll failed", venue=self._venue, stream=name, error=str(exc), retry_in=delay
                )
                await asyncio.sleep(delay)
                continue
            except Exception:  # an adapter bug must not end the stream silently
                delay = backoff.next_delay()
                log.exception("poll crashed", venue=self._venue, stream=name, retry_in=delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            await asyncio.sleep(self._interval)

    async def _quotes(
        self,
        instruments: list[InstrumentId],
        fetch: Callable[[InstrumentId], Awaitable[QuoteTick]],
        handler: QuoteHandler,
    ) -> None:
        last: dict[InstrumentId, tuple[object, ...]] = {}

        async def cycle() -> None:
            for instrument in instruments:
                quote = await fetch(instrument)
                key = (quote.bid, quote.ask, quote.bid_size, quote.ask_size)
                if last.get(instrument) != key:
                    last[instrument] = key
                    await deliver(self._venue, handler, quote)

        await self._run("quotes", cycle)

    async def _orders(self, source: OrderSource, handler: OrderUpdateHandler) -> None:
        tracker = self.tracker

        async def cycle() -> None:
            if not await tracker.catch_up(source, handler):
                raise VenueError(
                    VenueErrorKind.TRANSIENT,
                    self._venue,
                    "order poll: some reads failed; polling again",
                    code="CATCH_UP_INCOMPLETE",
                )

        await self._run("orders", cycle)
