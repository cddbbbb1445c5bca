"""The pricing and transaction streams: delivery, heartbeats, reconnects, bad messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.market import QuoteTick
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.oanda import OandaAdapter
from venues.fakes.oanda import FakeOanda, Faults

from .conftest import EURUSD, config_for, order

pytestmark = pytest.mark.asyncio


async def _until(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _collector() -> tuple[list[object], Callable[[object], Awaitable[None]]]:
    seen: list[object] = []

    async def handler(update: object) -> None:
        seen.append(update)

    return seen, handler


async def test_pricing_stream_delivers_snapshot_and_updates(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_quotes([EURUSD], handler)
    await _until(lambda: len(seen) == 1)  # the snapshot

    fake.set_quote("EUR_USD", Decimal("1.20001"), Decimal("1.20011"))
    fake.set_quote("XAU_USD", Decimal("1900.000"), Decimal("1900.500"))  # not subscribed
    await _until(lambda: len(seen) == 2)

    last = seen[-1]
    assert isinstance(last, QuoteTick)
    assert (last.instrument_id, last.bid, last.ask) == (
        EURUSD,
        Decimal("1.20001"),
        Decimal("1.20011"),
    )
    stream = next(r for r in fake.requests if r.path.endswith("/pricing/stream"))
    assert stream.query == {"instruments": ["EUR_USD"], "snapshot": ["true"]}
    assert stream.headers["authorization"] == f"Bearer {fake.token}"


async def test_pricing_stream_recovers_after_forced_disconnect(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_quotes([EURUSD], handler)
    await _until(lambda: len(seen) == 1)

    fake.disconnect_streams()
    await _until(lambda: len(seen) == 2)  # reconnected: a fresh snapshot
    fake.set_quote("EUR_USD", Decimal("1.30000"), Decimal("1.30010"))
    await _until(lambda: any(isinstance(q, QuoteTick) and q.bid == Decimal("1.3") for q in seen))

    assert adapter.reconnects >= 1
    assert sum(r.path.endswith("/pricing/stream") for r in fake.requests) >= 2


async def test_pricing_stream_recovers_from_periodic_disconnects_and_heartbeats() -> None:
    fake = FakeOanda(heartbeat_s=0.05, faults=Faults(stream_disconnect_every_s=0.3))
    await fake.start()
    adapter = OandaAdapter(config_for(fake))
    await adapter.connect()
    seen, handler = _collector()
    try:
        await adapter.subscribe_quotes([EURUSD], handler)
        await asyncio.sleep(1.0)
        fake.set_quote("EUR_USD", Decimal("1.40000"), Decimal("1.40010"))
        await _until(
            lambda: any(isinstance(q, QuoteTick) and q.bid == Decimal("1.4") for q in seen)
        )
    finally:
        await adapter.disconnect()
        await fake.stop()

    assert sum(r.path.endswith("/pricing/stream") for r in fake.requests) >= 3
    streamed = [line for r in fake.requests for line in r.stream_lines]
    assert any(line["type"] == "HEARTBEAT" for line in streamed)
    assert adapter.skipped_count == 0


async def test_pricing_stream_skips_malformed_and_unknown_messages(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_quotes([EURUSD], handler)
    await _until(lambda: len(seen) == 1)

    fake.push_price_line({"type": "PRICE", "instrument": "EUR_USD", "time": "x", "bids": "no"})
    fake.push_price_line({"type": "SURPRISE", "instrument": "EUR_USD"})
    fake.push_price_line(
        {"type": "PRICE", "instrument": "EUR_USD", "time": "2024-01-01T00:00:00Z",
         "bids": [{"price": "abc"}], "asks": []}
    )  # fmt: skip
    fake.set_quote("EUR_USD", Decimal("1.50000"), Decimal("1.50010"))
    await _until(lambda: len(seen) == 2)

    assert adapter.skipped_count == 3
    assert isinstance(seen[-1], QuoteTick)


async def test_transaction_stream_delivers_accept_and_fill(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_order_updates(handler)
    await _until(lambda: any(r.path.endswith("/transactions/stream") for r in fake.requests))
    await asyncio.sleep(0.05)

    await adapter.place_order(order("s1", OrderSide.SELL, OrderType.MARKET, quantity="700"))
    await _until(lambda: any(isinstance(u, VenueFill) for u in seen))

    accepted, fill = seen
    assert isinstance(accepted, VenueOrderState) and accepted.status is OrderStatus.ACCEPTED
    assert isinstance(fill, VenueFill)
    assert (fill.client_order_id, fill.side, fill.quantity) == ("s1", OrderSide.SELL, Decimal(700))
    assert fill.price == Decimal("1.09998")


async def test_transaction_stream_catches_up_fills_made_during_a_gap(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_order_updates(handler)
    await _until(lambda: any(r.path.endswith("/transactions/stream") for r in fake.requests))
    await adapter.place_order(order("g1", OrderSide.BUY, OrderType.LIMIT, price="1.09000"))
    await _until(lambda: len(seen) == 1)

    fake.refuse_streams = True
    fake.disconnect_streams()
    await asyncio.sleep(0.1)
    fake.set_quote("EUR_USD", Decimal("1.08990"), Decimal("1.08995"))  # fills g1, unseen
    await asyncio.sleep(0.2)
    assert len(seen) == 1
    fake.refuse_streams = False
    await _until(lambda: any(isinstance(u, VenueFill) for u in seen))
    await asyncio.sleep(0.1)

    fills = [u for u in seen if isinstance(u, VenueFill)]
    assert len(fills) == 1  # delivered once, though both the poll and the stream may see it
    assert fills[0].client_order_id == "g1"
    assert fills[0].price == Decimal("1.09000")
    assert any(r.path.endswith("/transactions/sinceid") for r in fake.requests)


async def test_transaction_stream_skips_invalid_fills_and_unknown_types(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    placed = await adapter.place_order(order("b1", OrderSide.BUY, OrderType.LIMIT, price="1.0"))
    await adapter.subscribe_order_updates(handler)
    await _until(lambda: any(r.path.endswith("/transactions/stream") for r in fake.requests))
    await asyncio.sleep(0.05)
    base = {"type": "ORDER_FILL", "orderID": placed.venue_order_id, "instrument": "EUR_USD"}

    fake.add_transaction({**base, "units": "-1000", "price": "1.0"})  # a sell for a buy order
    fake.add_transaction({**base, "units": "0", "price": "1.0"})  # zero units
    fake.add_transaction({**base, "units": "ten", "price": "1.0"})  # not a decimal
    fake.add_transaction({**base, "units": "1000"})  # no price at all
    fake.add_transaction({"type": "DIVIDEND_ADJUSTMENT", "instrument": "DE30_EUR"})  # new type
    fake.add_transaction({**base, "units": "1000", "price": "1.00000"})  # a good one
    await _until(lambda: any(isinstance(u, VenueFill) for u in seen))

    fills = [u for u in seen if isinstance(u, VenueFill)]
    assert [(f.side, f.quantity) for f in fills] == [(OrderSide.BUY, Decimal(1000))]
    assert adapter.skipped_count == 4
    assert any("is a SELL" in reason for reason in adapter.skipped)


async def test_negative_units_in_a_fill_mean_a_sell(adapter: OandaAdapter, fake: FakeOanda) -> None:
    await adapter.place_order(order("n1", OrderSide.SELL, OrderType.MARKET, quantity="42"))

    (fill,) = await adapter.fills_since(0)

    assert (fill.side, fill.quantity) == (OrderSide.SELL, Decimal(42))
    assert fake.book.transactions[-1]["units"] == "-42"
