"""ccxt: an order on a market that is out of trading (BREAK, HALT) still belongs to us.

Binance keeps the open orders of a symbol whose trading is halted (exchangeInfo status
BREAK or HALT; ccxt reads it as ``active: False``). The adapter built its symbol map
from active markets only, so when it connected during such a halt it could not read
its own order on that symbol: ``account()`` (the open orders of every symbol, read by
reconciliation) failed TRANSIENT on every call, which keeps the whole venue
unreconciled, and the order could be neither queried nor cancelled ("not listed by the
venue", DEFINITIVE). The halt is the venue's to enforce; the order stays ours to read.
"""

from __future__ import annotations

import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.venues.ccxt import CcxtAdapter

from .ccxt.support import BTCUSDT, binance, config, order

pytestmark = pytest.mark.asyncio


async def test_open_order_on_a_halted_market_is_read_after_a_restart() -> None:
    async with binance() as b:
        resting = order(BTCUSDT, order_type=OrderType.LIMIT, price="25000")
        placed = await b.adapter.place_order(resting)
        assert placed.status is OrderStatus.ACCEPTED
        b.fake.symbol_status["BTCUSDT"] = "BREAK"
        restarted = CcxtAdapter(config("binance", b.fake.base_url, b.fake.api_key, b.fake.secret))
        try:
            await restarted.connect()
            snapshot = await restarted.account()
            found = await restarted.query_order(BTCUSDT, client_order_id=resting.client_order_id)
        finally:
            await restarted.disconnect()
    opened = {o.client_order_id: o for o in snapshot.open_orders}
    assert resting.client_order_id in opened
    assert opened[resting.client_order_id].instrument_id == BTCUSDT
    assert found is not None
    assert (found.status, found.instrument_id) == (OrderStatus.ACCEPTED, BTCUSDT)
