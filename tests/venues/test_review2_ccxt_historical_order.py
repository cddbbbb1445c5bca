"""ccxt: a Binance order whose cummulativeQuoteQty is negative ("not available") is read.

Binance documents that for some historical orders GET /api/v3/order answers with
``cummulativeQuoteQty`` below zero, meaning the figure is not available. ccxt derives
the average price from it (negative) and the adapter refused the whole order as
unreadable (TRANSIENT), on every read: the order could not be resolved, and while the
order stream followed it every catch-up stayed incomplete.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderStatus, OrderType

from .ccxt.support import BTCUSDT, binance, order

pytestmark = pytest.mark.asyncio


async def test_an_order_without_its_quote_total_is_read_without_an_average() -> None:
    async with binance() as b:
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="30000.02")
        state = await b.adapter.place_order(placed)
        assert state.status is OrderStatus.FILLED
        b.fake.book.orders[str(state.venue_order_id)].quote_filled = Decimal(-1)  # archived
        found = await b.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
    assert found is not None
    assert (found.status, found.filled_quantity) == (OrderStatus.FILLED, Decimal("0.001"))
    assert found.average_price is None
