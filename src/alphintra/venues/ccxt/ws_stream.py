"""Order updates from an exchange's user-data WebSocket (ccxt.pro), gap-free.

Two ccxt.pro watches run on the exchange's private stream, ``watch_orders`` and
``watch_my_trades``; each batch is translated and handed to the tracker, which
delivers an order state once per change and a fill once per trade ID. Orders are
handled before trades so that a fill's order is already linked to its client order
ID.

A WebSocket loses messages in three ways, and each is closed here:

* The connection drops. The watches fail, the stream backs off (exponential with
  jitter, capped at ``max_backoff_s``), subscribes again and, once the venue has
  confirmed the subscription, runs the tracker's REST catch-up: fills since the last
  one seen (and since the placement of every order not yet seen closed), open orders,
  and the state of every followed order. Anything that happened while the stream was
  down is delivered then.
* A message is lost on a live connection (Binance has no sequence numbers on its user
  stream). The order states carry the cumulative filled quantity; when it exceeds the
  fills delivered for that order, the gap is detected and a catch-up runs shortly after
  (a short grace lets the trade that travels with the state arrive first).
* A message cannot be read (bad input from the venue). It is logged and skipped, and
  the same catch-up runs; nothing crashes and no state is taken from it.

A trade whose order cannot be named yet (its order update travels separately and has
not arrived) is held back and tried again with the next batch; if it is still unnamed
after a short grace, a catch-up reads it from REST and names it by reading its order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from alphintra.domain.identifiers import VenueOrderId
from alphintra.venues.adapter import OrderUpdateHandler, VenueFill, VenueOrderState
from alphintra.venues.ccxt.streams import Backoff, OrderSource, OrderTracker

log = structlog.get_logger("alphintra.venues.ccxt")
_REPAIR_GRACE_S = 0.25
_UNNAMED_KEPT = 1_000

Json = dict[str, Any]


class WatchSource(Protocol):
    """What the WebSocket stream reads: ccxt.pro watches and their translation."""

    async def watch_orders(self) -> list[Json]: ...

    async def watch_trades(self) -> list[Json]: ...

    async def subscribed(self) -> None:
        """Return once the venue has confirmed the private subscription."""
        ...

    async def reset(self) -> None:
        """Drop the stream connections (after a failure)."""
        ...

    def losses(self) -> int:
        """Return how many stream connections were lost so far."""
        ...

    def order_update(self, raw: Json) -> VenueOrderState:
        """Translate one ccxt order; raise ``ValueError`` when it makes no sense."""
        ...

    def fill_update(self, raw: Json) -> VenueFill:
        """Translate one ccxt trade; raise ``ValueError`` when it makes no sense."""
        ...


class UserDataStream:
    """The background task that watches the user-data stream until ``stop``."""

    def __init__(
        self,
        venue: str,
        tracker: OrderTracker,
        max_backoff_s: float,
        *,
        first_backoff_s: float = 0.05,
    ) -> None:
        self._venue = venue
        self._tracker = tracker
        self._max_backoff = max_backoff_s
        self._first_backoff = first_backoff_s
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0
        """How many times the stream was lost and subscribed again."""
        self.gaps = 0
        """How many lost or unreadable messages were detected on a live connection."""
        self._unnamed: list[Json] = []
        """Trades whose order could not be named yet (its order update not yet seen)."""
        self._unnamed_since = 0.0
        self.live = asyncio.Event()
        """Set while the subscription is confirmed and caught up."""

    def start(self, watch: WatchSource, source: OrderSource, handler: OrderUpdateHandler) -> None:
        """Start watching; a second call while running does nothing."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(watch, source, handler), name=f"ccxt-{self._venue}-user-stream"
            )

    async def stop(self) -> None:
        """Stop watching and wait for the task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(
        self, watch: WatchSource, source: OrderSource, handler: OrderUpdateHandler
    ) -> None:
        backoff = Backoff(self._first_backoff, self._max_backoff)
        tasks: dict[str, asyncio.Task[list[Json]]] = {}
        calls: dict[str, Callable[[], Awaitable[list[Json]]]] = {
            "orders": watch.watch_orders,
            "trades": watch.watch_trades,
        }
        loop = asyncio.get_running_loop()
        caught_up = False
        incomplete = False
        losses = 0
        repair_at: float | None = None
        repaired: set[VenueOrderId] = set()
        try:
            while True:
                try:
                    if not caught_up:
                        losses = watch.losses()
                        await watch.subscribed()  # before the watches: they would not wait
                    for name, call in calls.items():
                        if name not in tasks:
                            tasks[name] = loop.create_task(_batch(call))
                    if not caught_up:
                        caught_up = True
                        repair_at = None
                        if await self._catch_up(source, handler):
                            self.live.set()
                            backoff.reset()
                        else:
                            repair_at = loop.time() + backoff.next_delay()
                            incomplete = True
                    elif repair_at is not None and loop.time() >= repair_at:
                        repair_at = None
                        owing = self._tracker.owing()
                        if incomplete or owing - repaired:
                            if not incomplete:
                                self.gaps += 1
                                log.warning("user stream gap", venue=self._venue, orders=len(owing))
                            incomplete = not await self._catch_up(source, handler)
                            if incomplete:
                                repair_at = loop.time() + backoff.next_delay()
                            else:
                                self.live.set()
                                backoff.reset()
                        repaired = owing
                    timeout = None if repair_at is None else max(0.0, repair_at - loop.time())
                    await asyncio.wait(
                        tasks.values(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                    await asyncio.sleep(0)  # the sibling watch resolves in the same turn
                    failure, unreadable = await self._drain(tasks, watch, handler)
                    if unreadable:
                        repair_at, incomplete = loop.time(), True
                    elif self._unnamed and not incomplete:
                        # Not named after the grace: a catch-up reads the trade from REST
                        # and its order, which names it.
                        repair_at, incomplete = self._unnamed_since + _REPAIR_GRACE_S, True
                    elif repair_at is None and self._tracker.owing() - repaired:
                        repair_at = loop.time() + _REPAIR_GRACE_S
                    if failure is None and watch.losses() != losses:
                        failure = ConnectionError("the stream connection was lost and renewed")
                    if failure is not None:
                        raise failure
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the connection or the venue failed: resubscribe
                    self.live.clear()
                    caught_up = incomplete = False
                    self.reconnects += 1
                    for task in tasks.values():
                        task.cancel()
                    tasks.clear()
                    await watch.reset()
                    delay = backoff.next_delay(getattr(exc, "retry_after_s", None))
                    log.warning(
                        "user stream lost", venue=self._venue, error=str(exc)[:200], retry_in=delay
                    )
                    await asyncio.sleep(delay)
        finally:
            for task in tasks.values():
                task.cancel()

    async def _catch_up(self, source: OrderSource, handler: OrderUpdateHandler) -> bool:
        held = len(self._unnamed)
        try:
            complete = await self._tracker.catch_up(source, handler)
            if complete:  # it read every trade held back unnamed, and named it
                del self._unnamed[:held]
            return complete
        except Exception as exc:  # an adapter bug must not end the stream
            log.exception("user stream catch-up crashed", venue=self._venue, error=str(exc))
            return False

    async def _drain(
        self,
        tasks: dict[str, asyncio.Task[list[Json]]],
        watch: WatchSource,
        handler: OrderUpdateHandler,
    ) -> tuple[BaseException | None, bool]:
        """Deliver the finished batches (orders first); return a failure and whether a
        message could not be read."""
        failure: BaseException | None = None
        unreadable = False
        batches: dict[str, list[Json]] = {}
        for name in ("orders", "trades"):
            task = tasks.get(name)
            if task is None or not task.done():
                continue
            del tasks[name]
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:
                failure = failure or exc
                continue
            batches[name] = task.result()
        for raw in batches.get("orders", []):
            try:
                state = watch.order_update(raw)
            except ValueError as exc:
                unreadable = True
                log.warning("unreadable order update", venue=self._venue, error=str(exc)[:200])
                continue
            await self._tracker.state(state, handler)
        unnamed: list[Json] = []
        for raw in [*self._unnamed, *batches.get("trades", [])]:
            try:
                item = watch.fill_update(raw)
            except ValueError as exc:
                unreadable = True
                log.warning("unreadable trade update", venue=self._venue, error=str(exc)[:200])
                continue
            if item.client_order_id is None:  # its order's update has not come yet
                unnamed.append(raw)
                continue
            await self._tracker.fill(item, handler)
        if len(unnamed) > len(self._unnamed):
            self._unnamed_since = asyncio.get_running_loop().time()
        self._unnamed = unnamed[-_UNNAMED_KEPT:]
        if unreadable:
            self.gaps += 1
        return failure, unreadable


async def _batch(call: Callable[[], Awaitable[list[Json]]]) -> list[Json]:
    result = await call()
    if not isinstance(result, list):
        raise ValueError(f"a watch returned {type(result).__name__}, not a list")
    return [item for item in result if isinstance(item, dict)]
