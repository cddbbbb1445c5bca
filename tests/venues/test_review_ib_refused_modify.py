"""IB: a modification TWS refuses leaves the order as it was, at the venue and here.

The order keeps its price after TWS refuses a change of it (error 134, "Modify order
failed"; errors.py: MODIFY_REFUSED, "the order's state is unchanged"). So the adapter
must go on reporting the old price, and a later modification of the quantity alone must
not carry the refused price to IB. Before the fix the adapter had written the refused
price into ib_async's Order and left it there; and the second modification crashed with
ib_async's AssertionError (raised after sending: ib_async had marked the live order
Cancelled on the error), not a VenueError.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueError, VenueErrorKind

from .ib import tws_messages as m
from .ib.fake_tws import FakeTws, Fields
from .ib.fake_venue import FakeIbVenue
from .ib.session import ib_session, order

D = Decimal
AAPL = InstrumentId("AAPL")
CID = ClientOrderId("mod-refused-1")
pytestmark = pytest.mark.asyncio


def _refuse_first_modify(fake: FakeTws, venue: FakeIbVenue) -> None:
    refused: list[int] = []

    def place(fields: Fields) -> list[Fields]:
        order_id = int(fields[1])
        if order_id in venue.orders and not refused:
            refused.append(order_id)
            return [m.error(order_id, 134, "Modify order failed.")]
        return venue.place(fields)

    fake.on_place = place


async def test_a_refused_price_change_is_neither_reported_nor_sent_again() -> None:
    fake = FakeTws()
    venue = FakeIbVenue(fake)
    _refuse_first_modify(fake, venue)
    async with ib_session(fake=fake) as s:
        placed = order(str(CID), "AAPL", OrderSide.BUY, OrderType.LIMIT, "5", price="100")
        assert (await s.adapter.place_order(placed)).price == D(100)
        with pytest.raises(VenueError) as refused:
            await s.adapter.modify_order(
                CID, AAPL, quantity=None, price=D("100.5"), trigger_price=None
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        state = await s.adapter.query_order(AAPL, client_order_id=CID)
        assert state is not None
        assert (state.status, state.price) == (OrderStatus.ACCEPTED, D(100))

        modified = await s.adapter.modify_order(
            CID, AAPL, quantity=D(7), price=None, trigger_price=None
        )
        requests = s.fake.requests("placeOrder")
    # the third placeOrder (second modification): quantity 7 at the price IB holds, 100
    assert len(requests) == 3
    assert (requests[2][17], D(requests[2][19])) == ("7", D(100))
    assert (modified.status, modified.quantity, modified.price) == (
        OrderStatus.ACCEPTED,
        D(7),
        D(100),
    )
    assert venue.orders[int(requests[0][1])].limit == D(100)
