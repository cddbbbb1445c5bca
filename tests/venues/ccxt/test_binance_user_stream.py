"""The ccxt adapter's user-data WebSocket against the Binance fake's WebSocket API.

ccxt.pro subscribes with ``userDataStream.subscribe.signature`` (signed like REST) and
reads Binance's ``executionReport`` events; the adapter must deliver every order
change and every fill exactly once, including those lost to dropped messages and
disconnects, which it recovers through its REST catch-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from decimal import Decimal

import aiohttp
import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.domain.identifiers import TradeId
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.ccxt.config import OrderStream
from venues.fakes.binance_stream import StreamFaults

from .support import BTCUSDT, binance, order

pytestmark = pytest.mark.asyncio


class Sink:
    """Collects what the adapter's order stream delivers."""

    def __init__(self) -> None:
        self.fills: dict[TradeId, VenueFill] = {}
        self.duplicates: list[TradeId] = []
        self.states: list[VenueOrderState] = []
        self.changed = asyncio.Event()

    async def __call__(self, update: VenueOrderState | VenueFill) -> None:
        if isinstance(update, VenueFill):
            if update.trade_id in self.fills:
                self.duplicates.append(update.trade_id)
            self.fills[update.trade_id] = update
        else:
            self.states.append(update)
        self.changed.set()

    async def until(self, done: Callable[[], bool], what: str) -> None:
        for _ in range(500):  # bounded: a broken stream fails instead of hanging
            if done():
                return
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 0.05)
        raise AssertionError(f"the stream never delivered {what}")


async def test_websocket_is_the_default_for_binance_spot_and_polling_is_selectable() -> None:
    async with binance() as v:
        assert v.adapter.websocket_orders
    async with binance(order_stream=OrderStream.POLLING) as v:
        assert not v.adapter.websocket_orders


async def test_fills_and_states_arrive_over_the_websocket() -> None:
    async with binance() as v:
        sink = Sink()
        await v.adapter.subscribe_order_updates(sink)
        await asyncio.wait_for(v.adapter.user_stream.live.wait(), 5)
        assert v.fake.stream.subscribers == 1
        requests_before = len(v.fake.requests)
        placed = [await v.adapter.place_order(order(BTCUSDT)) for _ in range(3)]
        resting = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00")
        await v.adapter.place_order(resting)
        await v.adapter.cancel_order(resting.client_order_id, BTCUSDT)
        await sink.until(lambda: len(sink.fills) == 3, "three fills")
        await sink.until(
            lambda: any(
                s.client_order_id == resting.client_order_id and s.status is OrderStatus.CANCELLED
                for s in sink.states
            ),
            "the cancellation",
        )
        assert {f.client_order_id for f in sink.fills.values()} == {
            p.client_order_id for p in placed
        }
        assert all(f.quantity == Decimal("0.001") for f in sink.fills.values())
        # Only the five commands went over REST: the updates came over the WebSocket.
        assert len(v.fake.requests) - requests_before == 5
        assert not sink.duplicates


async def test_dropped_fill_messages_are_recovered_after_a_disconnect() -> None:
    async with binance(stream_faults=StreamFaults(drop_trade_rate=1.0)) as v:
        sink = Sink()
        await v.adapter.subscribe_order_updates(sink)
        await asyncio.wait_for(v.adapter.user_stream.live.wait(), 5)
        placed = [await v.adapter.place_order(order(BTCUSDT)) for _ in range(4)]
        await sink.until(lambda: len(v.fake.stream.dropped) == 4, "the drops")
        await v.fake.stream.disconnect_all()
        await sink.until(lambda: len(sink.fills) == 4, "the four dropped fills")
        assert v.adapter.user_stream.reconnects >= 1
        assert {f.client_order_id for f in sink.fills.values()} == {
            p.client_order_id for p in placed
        }
        assert not sink.duplicates


async def test_a_partial_fill_lost_on_a_live_stream_is_detected_by_the_filled_quantity() -> None:
    async with binance() as v:
        sink = Sink()
        await v.adapter.subscribe_order_updates(sink)
        await asyncio.wait_for(v.adapter.user_stream.live.wait(), 5)
        resting = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00", quantity="0.002")
        state = await v.adapter.place_order(resting)
        book_order = v.fake.book.orders[str(state.venue_order_id)]
        v.fake.stream.configure(StreamFaults(drop_trade_rate=1.0))
        v.fake.book.fill(book_order, Decimal("0.001"), Decimal("29000.00"), maker=True)
        v.fake.stream.configure(StreamFaults())
        v.fake.book.fill(book_order, Decimal("0.001"), Decimal("29000.00"), maker=True)
        await sink.until(lambda: len(sink.fills) == 2, "both partial fills")
        assert v.adapter.user_stream.gaps >= 1
        assert v.adapter.user_stream.reconnects == 0
        assert sum(f.quantity for f in sink.fills.values()) == Decimal("0.002")


async def test_unreadable_execution_reports_do_not_stop_the_stream() -> None:
    async with binance() as v:
        sink = Sink()
        await v.adapter.subscribe_order_updates(sink)
        await asyncio.wait_for(v.adapter.user_stream.live.wait(), 5)
        original = v.fake.stream.on_book_event

        def corrupt(execution: str, book_order: object, trade: object) -> None:
            for sub in list(v.fake.stream._subscribers):
                sub.queue.put_nowait(
                    '{"subscriptionId": 0, "event": {"e": "executionReport", '
                    '"s": "BTCUSDT", "x": "TRADE", "X": "FILLED", "i": 1, '
                    '"l": "-1", "z": "nonsense", "t": "x"}}'
                )
                sub.queue.put_nowait("not json at all")

        v.fake.book.listeners.insert(0, corrupt)
        placed = await v.adapter.place_order(order(BTCUSDT))
        v.fake.book.listeners.remove(corrupt)
        assert original in v.fake.book.listeners
        await sink.until(
            lambda: any(f.client_order_id == placed.client_order_id for f in sink.fills.values()),
            "the real fill",
        )
        assert all(f.quantity > 0 for f in sink.fills.values())
        later = await v.adapter.place_order(order(BTCUSDT))
        await sink.until(
            lambda: any(f.client_order_id == later.client_order_id for f in sink.fills.values()),
            "a fill after the bad messages",
        )


async def test_a_bad_signature_is_refused_and_the_stream_keeps_retrying() -> None:
    async with binance() as v:
        v.adapter.client.exchange.secret = "wrong-secret"
        sink = Sink()
        await v.adapter.subscribe_order_updates(sink)
        await sink.until(lambda: v.adapter.user_stream.reconnects >= 2, "two retries")
        assert v.fake.stream.subscribers == 0
        assert not v.adapter.user_stream.live.is_set()


async def test_the_listen_key_stream_pushes_bare_execution_reports() -> None:
    async with binance() as v:
        exchange = v.adapter.client.exchange
        key = (await exchange.publicPostUserDataStream())["listenKey"]
        url = f"ws://127.0.0.1:{v.fake.port}/ws/{key}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            placed = await v.adapter.place_order(order(BTCUSDT))
            events = [json.loads((await ws.receive(timeout=5)).data) for _ in range(2)]
        assert [(e["e"], e["x"], e["X"]) for e in events] == [
            ("executionReport", "NEW", "NEW"),
            ("executionReport", "TRADE", "FILLED"),
        ]
        assert events[1]["c"] == v.adapter.wire_client_id(placed.client_order_id)
        assert (events[1]["l"], events[1]["z"]) == ("0.00100000", "0.00100000")
        await exchange.publicPutUserDataStream({"listenKey": key})
        await exchange.publicDeleteUserDataStream({"listenKey": key})
        with pytest.raises(ccxt_async.BaseError, match="-1125"):
            await exchange.publicPutUserDataStream({"listenKey": key})
