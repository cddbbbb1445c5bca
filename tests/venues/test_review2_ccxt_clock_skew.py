"""ccxt: a clock that drifted from Binance's (-1021) is re-measured, so a retry can pass.

Binance refuses a signed request whose timestamp is outside recvWindow of its clock
(-1021, ccxt's InvalidNonce). The adapter called it TRANSIENT, "retry", but ccxt signs
every retry with the same skewed clock (its ``timeDifference`` is measured only when
asked), so every retry failed the same way: the order never went out and the
execution client ended with an unknown outcome whose resolving queries (signed too)
failed as well. On -1021 the adapter now measures the venue's clock again (GET
/api/v3/time), and the retry, under the same client order ID, goes through once.
"""

from __future__ import annotations

import asyncio

import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.venues.adapter import VenueError, VenueErrorKind

from .ccxt.support import BTCUSDT, binance, order

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("offset_ms", [-30_000, 30_000])
async def test_a_retry_after_minus_1021_is_signed_with_the_venues_clock(offset_ms: int) -> None:
    async with binance() as b:
        b.fake.time_offset_ms = offset_ms  # the clocks drifted apart after connect
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="25000")
        with pytest.raises(VenueError) as refused:
            await b.adapter.place_order(placed)
        assert (refused.value.kind, refused.value.code) == (VenueErrorKind.TRANSIENT, "-1021")
        assert b.fake.book.orders == {}
        state = await b.adapter.place_order(placed)  # the execution client's retry
        assert state.status is OrderStatus.ACCEPTED
        assert [o.client_id for o in b.fake.book.orders.values()] == [
            b.adapter.wire_client_id(placed.client_order_id)
        ]
        found = await b.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert found is not None and found.status is OrderStatus.ACCEPTED


async def test_the_user_stream_subscribes_again_after_the_clocks_drifted() -> None:
    async with binance() as b:  # the WebSocket user-data stream (Binance spot default)
        b.fake.time_offset_ms = -30_000  # drifted after connect: the subscription is refused

        async def handler(item: object) -> None:
            return None

        await b.adapter.subscribe_order_updates(handler)
        for _ in range(250):  # bounded: a stream that never subscribes fails the test
            if b.adapter.user_stream.live.is_set():
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the user stream never subscribed with the venue's clock")
