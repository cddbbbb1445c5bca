"""Polling streams of quotes and order updates, with backoff.

The ccxt adapter streams by polling REST rather than through ccxt.pro websockets:
the local fakes speak REST only, and polling gives the same guarantees the contract
asks of a stream after a reconnect (every cycle reads open orders, the final state of
orders that left the book, and fills since the last one seen), at the cost of latency
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
from typing import Any, Protocol

import structlog

from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId
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
        self._watch: dict[ClientOrderId, InstrumentId] = {}
        self._known: dict[ClientOrderId, VenueOrderState] = {}
        self._misses: dict[ClientOrderId, int] = {}

    def track(self, client_order_id: ClientOrderId, instrument_id: InstrumentId) -> None:
        """Follow an order until it closes, even if it is never seen open."""
        self._watch[client_order_id] = instrument_id

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

    async def _deliver(self, handler: Callable[[Any], Awaitable[None]], item: object) -> None:
        try:
            await handler(item)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing handler must not stop the stream
            log.exception("stream handler failed", venue=self._venue, item=repr(item)[:200])

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
                    await self._deliver(handler, quote)

        await self._run("quotes", cycle)

    async def _orders(self, source: OrderSource, handler: OrderUpdateHandler) -> None:
        seen: OrderedDict[TradeId, None] = OrderedDict()
        cursor = self._clock() - _FILL_OVERLAP_NS

        async def emit(state: VenueOrderState) -> None:
            before = self._known.get(state.client_order_id)
            if before is None or not _same(before, state):
                self._known[state.client_order_id] = state
                await self._deliver(handler, state)

        async def cycle() -> None:
            nonlocal cursor
            fills = await source.fills_since(max(0, cursor - _FILL_OVERLAP_NS))
            for item in sorted(fills, key=lambda f: f.ts):
                if item.trade_id in seen:
                    continue
                seen[item.trade_id] = None
                if len(seen) > _SEEN_TRADES:
                    seen.popitem(last=False)
                cursor = max(cursor, item.ts)
                await self._deliver(handler, item)
            still_open: set[ClientOrderId] = set()
            for state in await source.open_orders(traded_only=True):
                still_open.add(state.client_order_id)
                self._watch.setdefault(state.client_order_id, state.instrument_id)
                await emit(state)
            for client_order_id, instrument_id in list(self._watch.items()):
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
                await emit(found)
                if found.status.is_closed:
                    self._watch.pop(client_order_id, None)

        await self._run("orders", cycle)
