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
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from typing import Any, Protocol

import structlog

from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from alphintra.domain.market import QuoteTick
from alphintra.venues.adapter import (
    OrderUpdateHandler,
    QuoteHandler,
    VenueError,
    VenueFill,
    VenueOrderState,
)

log = structlog.get_logger("alphintra.venues.ccxt")
_SEEN_TRADES = 10_000
_FILL_OVERLAP_NS = 5_000_000_000
_MISSES_BEFORE_DROP = 3
ZERO = Decimal(0)


class OrderSource(Protocol):
    """What the order-update poller reads."""

    async def open_orders(self, *, traded_only: bool = False) -> list[VenueOrderState]: ...

    async def query_order(
        self, instrument_id: InstrumentId, *, client_order_id: ClientOrderId | None = None
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
    followed from placement until a closed state is seen. ``catch_up`` reads fills since
    the oldest of (the newest fill seen, the placement of every order still followed),
    the open orders, and the state of each followed order that is no longer open: after
    it, nothing that happened at the venue before it started is missing.
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
        self._owing: set[VenueOrderId] = set()
        self._cursor = clock_ns() - _FILL_OVERLAP_NS
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
        self._balance(item.venue_order_id)
        self._cursor = max(self._cursor, item.ts)
        await deliver(self._venue, handler, item)

    async def state(self, state: VenueOrderState, handler: OrderUpdateHandler) -> None:
        """Deliver ``state`` when it differs from the last one delivered for the order."""
        cid = state.client_order_id
        before = self._known.get(cid)
        vid = state.venue_order_id
        self._state_filled[vid] = max(state.filled_quantity, self._state_filled.get(vid, ZERO))
        if len(self._state_filled) > _SEEN_TRADES:
            self._state_filled.pop(next(iter(self._state_filled)))
        self._balance(vid)
        if state.status.is_closed and state.filled_quantity <= self._filled.get(
            state.venue_order_id, ZERO
        ):
            self._watch.pop(cid, None)
            self._misses.pop(cid, None)
        elif cid not in self._watch:
            self._watch[cid] = (state.instrument_id, state.ts or self._clock())
        if before is None or not _same(before, state):
            self._known[cid] = state
            if len(self._known) > _SEEN_TRADES:
                self._known.pop(next(iter(self._known)))
            await deliver(self._venue, handler, state)

    def _balance(self, vid: VenueOrderId) -> None:
        if self._state_filled.get(vid, ZERO) > self._filled.get(vid, ZERO):
            self._owing.add(vid)
        else:
            self._owing.discard(vid)

    async def catch_up(self, source: OrderSource, handler: OrderUpdateHandler) -> None:
        """Read fills and order states from REST and deliver what was missed."""
        since = self._cursor - _FILL_OVERLAP_NS
        if self._watch:
            since = min(since, min(ts for _, ts in self._watch.values()) - _FILL_OVERLAP_NS)
        fills = await source.fills_since(max(0, since))
        for item in sorted(fills, key=lambda f: f.ts):
            await self.fill(item, handler)
        still_open: set[ClientOrderId] = set()
        for state in await source.open_orders(traded_only=True):
            still_open.add(state.client_order_id)
            await self.state(state, handler)
        for client_order_id, (instrument_id, _) in list(self._watch.items()):
            if client_order_id in still_open:
                continue
            found = await source.query_order(instrument_id, client_order_id=client_order_id)
            if found is None:  # not visible yet, or never reached the venue
                misses = self._misses.get(client_order_id, 0) + 1
                self._misses[client_order_id] = misses
                if misses >= _MISSES_BEFORE_DROP:
                    self._watch.pop(client_order_id, None)
                    self._misses.pop(client_order_id, None)
                continue
            self._misses.pop(client_order_id, None)
            await self.state(found, handler)
            if found.status.is_closed:
                self._watch.pop(client_order_id, None)
        self.catch_ups += 1


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
            await tracker.catch_up(source, handler)

        await self._run("orders", cycle)
