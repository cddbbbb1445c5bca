"""Alpaca's WebSocket streams through the official SDK, run as tasks on the caller's loop.

The SDK's ``run()`` starts its own event loop, so the adapter runs the stream's
coroutine (``_run_forever``) as a task instead, and stops it by cancelling the task.
The SDK reconnects with backoff by itself; the subclasses below report every
(re)connection so the adapter can poll what it missed during the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream
from alpaca.trading.stream import TradingStream

RawHandler = Callable[[dict[str, Any]], Awaitable[None]]
ConnectedHandler = Callable[[int], Awaitable[None]]


class TradeUpdatesStream(TradingStream):
    """The SDK's trade_updates stream, with a callback on each confirmed subscription.

    ``on_listening(n)`` runs when Alpaca acknowledges the listen request of the
    ``n``-th connection (1 for the first); ``listening`` is set from then on.
    """

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        url: str,
        handler: RawHandler,
        on_listening: ConnectedHandler,
        backoff_s: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        super().__init__(api_key, secret_key, raw_data=True, url_override=url)
        self._reconnect_min_backoff, self._reconnect_max_backoff = backoff_s
        self._raw_handler = handler
        self._on_listening = on_listening
        self.connections = 0
        self.listening = asyncio.Event()
        self.subscribe_trade_updates(self._deliver)
        self._task: asyncio.Task[None] | None = None

    async def _deliver(self, message: dict[str, Any]) -> None:
        await self._raw_handler(message)

    async def _start_ws(self) -> None:
        self.listening.clear()
        await super()._start_ws()  # type: ignore[no-untyped-call]  # untyped SDK method
        self.connections += 1

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("stream") == "listening":
            data = msg.get("data")
            streams = data.get("streams") if isinstance(data, dict) else None
            if isinstance(streams, list) and "trade_updates" in streams:
                self.listening.set()
                await self._on_listening(self.connections)
            return
        await super()._dispatch(msg)

    def start(self) -> None:
        """Run the stream as a task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run_forever(),  # type: ignore[no-untyped-call]  # untyped SDK method
                name="alpaca-trade-updates",
            )

    async def stop(self) -> None:  # type: ignore[override]  # the SDK's stop() is blocking
        """Cancel the stream's task and close its socket."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.close()


class QuoteStream(StockDataStream):
    """The SDK's stock market data stream (msgpack), for quotes only."""

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        url: str,
        feed: str,
        backoff_s: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        super().__init__(
            api_key,
            secret_key,
            raw_data=True,
            feed=DataFeed.SIP if feed == "sip" else DataFeed.IEX,
            url_override=url,
        )
        self._reconnect_min_backoff, self._reconnect_max_backoff = backoff_s
        self._task: asyncio.Task[None] | None = None

    async def add_quotes(self, handler: RawHandler, symbols: list[str]) -> None:
        """Route quotes of ``symbols`` to ``handler``, subscribing on a live connection."""
        if not self._running:
            # Before the connection is up the SDK only records the handler; it sends
            # the subscription itself once connected.
            self.subscribe_quotes(handler, *symbols)  # type: ignore[arg-type]  # raw_data=True
            return
        # While running, the SDK's subscribe blocks on its own loop (which is this one),
        # so record the handlers and send the subscription directly.
        for symbol in symbols:
            self._handlers["quotes"][symbol] = handler
        await self._send_subscribe_msg()

    def start(self) -> None:
        """Run the stream as a task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run_forever(), name="alpaca-quotes"
            )

    async def stop(self) -> None:  # type: ignore[override]  # the SDK's stop() is blocking
        """Cancel the stream's task and close its socket."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.close()
