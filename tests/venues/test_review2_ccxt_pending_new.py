"""ccxt: Binance's PENDING_NEW status (the pending order of an OTO order list) is open.

Binance documents PENDING_NEW for the pending order of an order list: it is listed by
openOrders until the list's working order fills. ccxt has no mapping for it and hands
the raw string on, which the adapter refused as an unknown status. One such order on
the account (placed in the Binance app) made every open-orders read fail: ``account()``
raised TRANSIENT on every call, and the order stream's catch-up stopped before it
checked the adapter's own orders, so a cancel done at the venue was never reported.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.ccxt.config import OrderStream

from .ccxt.support import BTCUSDT, binance, order

pytestmark = pytest.mark.asyncio


async def test_a_pending_order_list_leg_is_read_as_an_accepted_open_order() -> None:
    async with binance() as b:
        b.fake.add_pending_order("BTCUSDT", "SELL", Decimal("0.001"), Decimal("35000"), "oto-leg")
        snapshot = await b.adapter.account()
    opened = {o.client_order_id: o for o in snapshot.open_orders}
    assert ClientOrderId("oto-leg") in opened
    leg = opened[ClientOrderId("oto-leg")]
    assert (leg.status, leg.filled_quantity) == (OrderStatus.ACCEPTED, Decimal(0))


@pytest.mark.parametrize("stream", [OrderStream.POLLING, OrderStream.AUTO])
async def test_a_cancel_at_the_venue_is_reported_while_a_pending_leg_rests(
    stream: OrderStream,
) -> None:
    async with binance(order_stream=stream) as b:
        seen: list[VenueOrderState | VenueFill] = []

        async def handler(item: VenueOrderState | VenueFill) -> None:
            seen.append(item)

        b.fake.add_pending_order("BTCUSDT", "SELL", Decimal("0.001"), Decimal("35000"), "oto-leg")
        await b.adapter.subscribe_order_updates(handler)
        resting = order(BTCUSDT, order_type=OrderType.LIMIT, price="25000")
        placed = await b.adapter.place_order(resting)
        b.fake.book.cancel(b.fake.book.orders[str(placed.venue_order_id)])
        for _ in range(250):  # bounded: a stream that never reports it fails the test
            if any(
                isinstance(s, VenueOrderState)
                and s.client_order_id == resting.client_order_id
                and s.status is OrderStatus.CANCELLED
                for s in seen
            ):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"the cancel was never reported; delivered: {seen!r:.600}")
