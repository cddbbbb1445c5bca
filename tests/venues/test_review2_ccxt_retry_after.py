"""ccxt: nothing is sent to the venue while its Retry-After (HTTP 429 or 418) runs.

Binance answers 429 with the number of seconds to wait "to prevent a ban", and 418
(banned) with the time until the ban ends; requests sent meanwhile are what gets an IP
banned, for longer each time. The adapter passed Retry-After up with its TRANSIENT
error, but its own loops did not honour it: the order stream's catch-up retried a read
after at most one second, and the poller's backoff was capped at ``max_backoff_s``, so
the venue kept receiving requests inside the window it had asked to be left alone.
Now every request the adapter would send inside the window fails at once (TRANSIENT,
code RATE_LIMITED, with the time left) without reaching the venue.
"""

from __future__ import annotations

import asyncio

import pytest

from alphintra.domain.enums import OrderType
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState
from alphintra.venues.ccxt.config import OrderStream
from venues.fakes.crypto_spot import Faults

from .ccxt.support import BTCUSDT, binance, order

pytestmark = pytest.mark.asyncio
WAIT_S = 2


async def test_the_order_poller_sends_nothing_while_retry_after_runs() -> None:
    async with binance(faults=Faults(retry_after_s=WAIT_S), order_stream=OrderStream.POLLING) as b:

        async def handler(item: VenueOrderState | VenueFill) -> None:
            return None

        await b.adapter.place_order(order(BTCUSDT, order_type=OrderType.LIMIT, price="25000"))
        await b.adapter.subscribe_order_updates(handler)
        first = len(b.fake.requests)
        b.fake.faults.inject("429", methods=("GET",), path="/openOrders")
        for _ in range(250):  # bounded: the poller reaches openOrders within a few polls
            if b.fake.faults.applied:
                break
            await asyncio.sleep(0.02)
        assert b.fake.faults.applied, "the poller never read openOrders"
        refused_at = next(
            b.fake.hits[i][0]
            for i in range(first, len(b.fake.requests))
            if b.fake.requests[i] == ("GET", "/api/v3/openOrders")
        )
        await asyncio.sleep(WAIT_S + 0.5)
        during = [t for t, _ in b.fake.hits if refused_at < t < refused_at + WAIT_S - 0.1]
        after = [t for t, _ in b.fake.hits if t >= refused_at + WAIT_S - 0.1]
    assert during == [], f"{len(during)} requests reached the venue inside its Retry-After"
    assert after, "the poller did not resume after the wait"


async def test_a_write_inside_the_window_is_refused_unsent_with_the_time_left() -> None:
    async with binance(faults=Faults(retry_after_s=60)) as b:
        b.fake.faults.inject("418")
        with pytest.raises(VenueError):
            await b.adapter.quote(BTCUSDT)
        sent = len(b.fake.requests)
        with pytest.raises(VenueError) as held:
            await b.adapter.place_order(order(BTCUSDT))
        assert len(b.fake.requests) == sent
        assert b.fake.book.orders == {}
    assert held.value.kind is VenueErrorKind.TRANSIENT
    assert held.value.code == "RATE_LIMITED"
    assert held.value.retry_after_s is not None and 50 < held.value.retry_after_s <= 60
