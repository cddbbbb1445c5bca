"""ccxt: a fill poll that needs more pages than the cap is not cut short in silence.

Kraken pages the account's trades newest first (50 at a time, ``ofs``). ``fills_since``
stopped after 50 pages and returned what it had: the newest 2,500 trades, without a
word. The ones left out are the oldest, those nearest the poll's start, and the next
poll starts after the newest fill seen, so they were never read: after an outage or a
restart with a backlog, fills (and the position they make) were lost.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderType
from alphintra.domain.identifiers import InstrumentId

from .ccxt.support import BTCUSD, kraken, order

ETHUSD = InstrumentId("ETHUSD")

pytestmark = pytest.mark.asyncio
TRADES = 2_560  # more than 50 pages of 50


async def test_fills_since_reads_every_fill_of_a_long_backlog_or_says_it_did_not() -> None:
    async with kraken() as k:
        since = time.time_ns()
        placed = order(
            BTCUSD, order_type=OrderType.LIMIT, price="29000.0", quantity=str(TRADES * 10**-5)
        )
        state = await k.adapter.place_order(placed)
        resting = k.fake.book.orders[str(state.venue_order_id)]
        for _ in range(TRADES):
            k.fake.book.fill(resting, Decimal("0.00001"), Decimal("29000.0"), maker=True)
        fills = await k.adapter.fills_since(since)
    assert len(fills) == TRADES
    assert sum(f.quantity for f in fills) == Decimal("0.0256")


async def test_fills_since_of_one_instrument_reads_past_pages_of_other_pairs() -> None:
    """Kraken's trade history has no pair filter: ccxt filters each page by symbol, so a
    page full of other pairs' trades came back short and ended the paging early."""
    async with kraken() as k:
        k.fake.set_quote("XETHZUSD", Decimal("2000.00"), Decimal("2000.10"))
        since = time.time_ns()
        btc = await k.adapter.place_order(
            order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0", quantity="0.0005")
        )
        eth = await k.adapter.place_order(
            order(ETHUSD, order_type=OrderType.LIMIT, price="1900.00", quantity="0.12")
        )
        resting_btc = k.fake.book.orders[str(btc.venue_order_id)]
        resting_eth = k.fake.book.orders[str(eth.venue_order_id)]
        for _ in range(5):  # the older trades
            k.fake.book.fill(resting_btc, Decimal("0.0001"), Decimal("29000.0"), maker=True)
        for _ in range(60):  # more than a page of newer trades on another pair
            k.fake.book.fill(resting_eth, Decimal("0.002"), Decimal("1900.00"), maker=True)
        fills = await k.adapter.fills_since(since, BTCUSD)
    assert [f.instrument_id for f in fills] == [BTCUSD] * 5
