"""IB: an order TWS refused for pacing (error 100) can be sent again under its client ID.

``errors.py`` makes error 100 ("Max rate of messages per second has been exceeded")
TRANSIENT: nothing reached IB, and the execution client retries the same command (same
client order ID) after the backoff. The retry must go out and place the order; before
the fix the adapter refused it as a "duplicate client order ID: already sent to IB"
(DEFINITIVE), so the engine rejected an order that IB had never seen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.venues.adapter import VenueError, VenueErrorKind

from .ib import tws_messages as m
from .ib.fake_tws import FakeTws, Fields
from .ib.fake_venue import FakeIbVenue
from .ib.session import ib_session, order

D = Decimal
pytestmark = pytest.mark.asyncio


async def test_a_placement_refused_for_pacing_is_placed_on_retry() -> None:
    fake = FakeTws()
    venue = FakeIbVenue(fake)
    paced: list[int] = []

    def place(fields: Fields) -> list[Fields]:
        if not paced:
            paced.append(int(fields[1]))
            text = "Max rate of messages per second has been exceeded:max=50 rec=51 (1)"
            return [m.error(int(fields[1]), 100, text)]
        return venue.place(fields)

    fake.on_place = place
    placed = order("paced-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, "5", price="100")
    async with ib_session(fake=fake) as s:
        with pytest.raises(VenueError) as first:
            await s.adapter.place_order(placed)
        assert first.value.kind is VenueErrorKind.TRANSIENT
        state = await s.adapter.place_order(placed)  # the execution client's retry
        requests = s.fake.requests("placeOrder")
    assert len(requests) == 2
    assert (state.status, state.quantity, state.price) == (OrderStatus.ACCEPTED, D(5), D(100))
    assert [o.order_ref for o in venue.orders.values()] == ["paced-1"]
