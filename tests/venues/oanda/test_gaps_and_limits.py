"""Lost stream lines, malformed history, and the REST request budget."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.service.rate_limit import TokenBucket
from alphintra.venues.adapter import VenueError, VenueFill
from alphintra.venues.oanda import OandaAdapter
from venues.fakes.oanda import FakeOanda, Faults
from venues.fakes.oanda_book import now_ns, rfc3339

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


async def _stream_open(adapter: OandaAdapter, fake: FakeOanda, handler: object) -> None:
    await adapter.subscribe_order_updates(handler)  # type: ignore[arg-type]
    await _until(lambda: any(r.path.endswith("/transactions/stream") for r in fake.requests))
    await _until(lambda: any(r.path.endswith("/transactions/sinceid") for r in fake.requests))


def _fills(seen: list[object]) -> list[VenueFill]:
    return [u for u in seen if isinstance(u, VenueFill)]


async def test_a_fill_dropped_from_the_stream_is_fetched_when_the_next_id_arrives(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await _stream_open(adapter, fake, handler)
    await adapter.place_order(order("d1", OrderSide.BUY, OrderType.LIMIT, price="1.09000"))

    fake.configure(Faults(stream_fill_drop=1.0))
    fake.set_quote("EUR_USD", Decimal("1.08990"), Decimal("1.08995"))  # fills d1, not streamed
    fake.configure(Faults())
    await adapter.place_order(order("d2", OrderSide.BUY, OrderType.LIMIT, price="1.05000"))
    await _until(lambda: len(_fills(seen)) == 1)

    assert fake.dropped_fills == 1
    assert _fills(seen)[0].client_order_id == "d1"
    assert [getattr(u, "client_order_id", None) for u in seen][-1] == "d2"  # in ID order


async def test_a_dropped_last_fill_is_fetched_when_a_heartbeat_names_a_newer_id(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await _stream_open(adapter, fake, handler)
    await adapter.place_order(order("h1", OrderSide.SELL, OrderType.LIMIT, price="1.20000"))

    fake.configure(Faults(stream_fill_drop=1.0))
    fake.set_quote("EUR_USD", Decimal("1.20010"), Decimal("1.20020"))  # fills h1, not streamed
    await _until(lambda: len(_fills(seen)) == 1)  # the next heartbeat reveals the gap

    assert fake.dropped_fills == 1
    assert _fills(seen)[0].client_order_id == "h1"


async def test_a_malformed_transaction_in_the_history_does_not_block_the_catch_up(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    placed = await adapter.place_order(order("m1", OrderSide.BUY, OrderType.LIMIT, price="1.0"))
    base = {"type": "ORDER_FILL", "orderID": placed.venue_order_id, "instrument": "EUR_USD"}
    fake.add_transaction({**base, "units": "ten", "price": "1.0"})  # never decodes
    fake.add_transaction({**base, "units": "1000", "price": "1.00000", "clientOrderID": "m1"})
    seen, handler = _collector()

    await _stream_open(adapter, fake, handler)  # the first catch-up reads both
    await _until(lambda: len(_fills(seen)) == 1)

    assert _fills(seen)[0].quantity == Decimal(1000)
    assert adapter.skipped_count == 1
    assert adapter.last_transaction_id == fake.book.last_id


async def test_fills_since_skips_a_malformed_fill_and_returns_the_others(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    await adapter.place_order(order("p1", OrderSide.BUY, OrderType.MARKET))
    fake.add_transaction({"type": "ORDER_FILL", "orderID": "1", "units": {"not": "decimal"}})
    await adapter.place_order(order("p2", OrderSide.SELL, OrderType.MARKET))

    fills = await adapter.fills_since(0)

    assert [f.client_order_id for f in fills] == ["p1", "p2"]
    assert adapter.skipped_count == 1


async def test_a_transaction_beyond_the_account_history_is_skipped(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await _stream_open(adapter, fake, handler)
    bogus = {"id": "999999", "time": "2026-01-01T00:00:00.000000000Z", "type": "ORDER_FILL"}
    fake.push_transaction_line(bogus)  # a line for no transaction OANDA has
    await _until(lambda: adapter.skipped_count == 1)

    await adapter.place_order(order("b1", OrderSide.BUY, OrderType.MARKET))
    await _until(lambda: len(_fills(seen)) == 1)  # later transactions still arrive

    assert "not in the account history" in adapter.skipped[0]
    assert adapter.last_transaction_id == fake.book.last_id


async def test_a_cancel_of_a_known_order_needs_no_read_back(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    await adapter.place_order(order("c1", OrderSide.BUY, OrderType.LIMIT, price="1.05000"))
    before = len(fake.requests)

    state = await adapter.cancel_order("c1", EURUSD)  # type: ignore[arg-type]

    assert (state.status, state.client_order_id, state.reason) == (
        OrderStatus.CANCELLED,
        "c1",
        "CLIENT_REQUEST",
    )
    assert [r.method for r in fake.requests[before:]] == ["PUT"]


async def test_every_rest_request_takes_a_token_and_429_blocks_the_limiter() -> None:
    fake = FakeOanda(heartbeat_s=0.2, rate_limit=10)
    await fake.start()
    adapter = OandaAdapter(config_for(fake), limiter=TokenBucket(10, 1.0, burst=1))
    try:
        await adapter.connect()
        for _ in range(6):
            await adapter.account()  # three requests each
        fake.faults.retry_after_s = 1
        fake.inject("429", methods=("GET",))
        with pytest.raises(VenueError, match="rate limited"):
            await adapter.quote(EURUSD)
        await adapter.quote(EURUSD)
    finally:
        await adapter.disconnect()
        await fake.stop()

    times = [r.ts for r in fake.requests]
    assert len(times) == 21
    assert fake.rate_limited == 0
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[10:], strict=False))
    limited = next(i for i, r in enumerate(fake.requests) if r.status == 429)
    assert times[limited + 1] - times[limited] >= 1.0


async def test_the_fake_expires_a_gtd_order_at_its_gtd_time_only() -> None:
    book = FakeOanda().book
    deadline = now_ns() + 60 * 1_000_000_000
    request = {"type": "LIMIT", "instrument": "EUR_USD", "units": "10", "price": "1.00000"}
    request |= {"timeInForce": "GTD", "gtdTime": rfc3339(deadline)}
    order_id = book.create(request)["orderCreateTransaction"]["id"]

    book.expire(deadline - 1)
    assert book.orders[order_id]["state"] == "PENDING"
    book.expire(deadline)
    assert book.orders[order_id]["state"] == "CANCELLED"
    assert book.transactions[-1]["reason"] == "TIME_IN_FORCE_EXPIRED"
