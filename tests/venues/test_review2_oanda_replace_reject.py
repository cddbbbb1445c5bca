"""OANDA: a refused replace (modify) is not reported as the rejection of the order.

OANDA records a refused replace as a ``*_ORDER_REJECT`` transaction with reason
REPLACEMENT, ``intendedReplacesOrderID`` and the client extensions of the replacing
order, which are the order's own (our client order ID). The transaction stream turned
it into a REJECTED state for our client order ID. The replace call had already failed
DEFINITIVE (the engine records the modify as refused and the order as working again);
the stream's REJECTED then closed the engine's order, which is still pending at OANDA
and can still fill. Any refusal of a replace takes this path (price precision or
distance, unit limits, ...); here the fake refuses a zero price.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState
from alphintra.venues.oanda import OandaAdapter
from venues.fakes.oanda import FakeOanda

from .oanda.conftest import EURUSD, config_for, order

pytestmark = pytest.mark.asyncio


async def test_a_refused_replace_leaves_the_order_working_in_the_stream() -> None:
    fake = FakeOanda(heartbeat_s=0.2)
    await fake.start()
    adapter = OandaAdapter(config_for(fake))
    try:
        await adapter.connect()
        await _refuse_a_replace(adapter, fake)
    finally:
        await adapter.disconnect()
        await fake.stop()
    assert not fake.errors, fake.errors


async def _refuse_a_replace(adapter: OandaAdapter, fake: FakeOanda) -> None:
    seen: list[VenueOrderState | VenueFill] = []

    async def handler(item: VenueOrderState | VenueFill) -> None:
        seen.append(item)

    await adapter.subscribe_order_updates(handler)
    placed = await adapter.place_order(
        order("rr1", OrderSide.SELL, OrderType.LIMIT, price="1.20000")
    )
    with pytest.raises(VenueError) as refused:
        await adapter.modify_order(
            ClientOrderId("rr1"), EURUSD, quantity=None, price=Decimal(0), trigger_price=None
        )
    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    reject_id = int(fake.book.transactions[-1]["id"])
    assert fake.book.transactions[-1]["type"] == "LIMIT_ORDER_REJECT"
    for _ in range(250):  # bounded: the stream delivers the reject transaction
        if adapter.last_transaction_id is not None and int(adapter.last_transaction_id) >= (
            reject_id
        ):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the transaction stream never reached the reject")
    ours = [s for s in seen if isinstance(s, VenueOrderState) and s.client_order_id == "rr1"]
    assert OrderStatus.REJECTED not in [s.status for s in ours]
    found = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("rr1"))
    assert found is not None
    assert (found.status, found.venue_order_id) == (OrderStatus.ACCEPTED, placed.venue_order_id)
