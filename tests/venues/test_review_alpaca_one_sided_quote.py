"""Alpaca: a quote with no bid (or no ask) is not a price.

Alpaca's quotes carry ``bp``/``ap`` 0 where a side is empty (thin symbols, outside
regular hours, especially on the IEX feed). The adapter turned that into a QuoteTick
with bid 0, whose mid (the engine's mark, ``closing_mid``) is half the ask: a long
position marked at half its value. The other adapters refuse a one-sided quote (IB,
OANDA, ccxt); so does this one now: ``quote()`` is TRANSIENT and the stream skips it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.market import QuoteTick
from alphintra.venues.adapter import VenueError, VenueErrorKind

from .alpaca.support import ASK, BID, SPY, AlpacaVenue, eventually

pytestmark = pytest.mark.asyncio


async def test_quote_without_a_bid_is_transient() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote(Decimal(0), ASK)
        with pytest.raises(VenueError) as one_sided:
            await venue.adapter.quote(SPY)
    assert one_sided.value.kind is VenueErrorKind.TRANSIENT


async def test_streamed_quote_without_a_bid_is_not_delivered() -> None:
    async with AlpacaVenue() as venue:
        ticks: list[QuoteTick] = []

        async def collect(tick: QuoteTick) -> None:
            ticks.append(tick)

        await venue.adapter.subscribe_quotes([SPY], collect)
        await eventually(lambda: venue.fake.quote_subscribers("SPY") == 1)
        await venue.quote(Decimal(0), ASK)
        await venue.quote(BID, ASK)
        await eventually(lambda: any(t.bid == BID for t in ticks))
    assert [(t.bid, t.ask) for t in ticks] == [(BID, ASK)]
