"""The adapter keeps every request, its streams' included, under the venue's limit.

The Binance fake counts Binance's REQUEST_WEIGHT per request and refuses (429 -1003)
whatever exceeds its limit in a one-second window. A burst of reads must be spread
by the adapter's throttle so that the venue never refuses one; without the throttle
the same burst is refused, which shows the check can fail.
"""

from __future__ import annotations

import asyncio

import pytest

from .support import BTCUSDT, Binance, binance, order

pytestmark = pytest.mark.asyncio
LIMIT = 100
"""The fake's REQUEST_WEIGHT limit in any one-second window."""


async def _burst(v: Binance) -> list[BaseException]:
    """Place one order, then read it 40 times at once (160 weight); return the errors."""
    placed = order(BTCUSDT)
    await v.adapter.place_order(placed)
    results = await asyncio.gather(
        *(
            v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
            for _ in range(40)
        ),
        return_exceptions=True,
    )
    return [r for r in results if isinstance(r, BaseException)]


async def test_a_burst_of_reads_stays_under_the_venue_weight_limit() -> None:
    async with binance(
        weight_limit_per_s=LIMIT,
        enable_rate_limit=True,
        # ccxt's leaky bucket, evenly spaced: at most 1 + 1000/75 + 0.8 cost units (76
        # weight) in any second, a margin of six reads for their time in transit.
        rate_limit_ms=75.0,
    ) as v:
        assert not await _burst(v)
        assert v.fake.weight_refusals == 0
        assert sum(w for _, w in v.fake.hits) > 2 * LIMIT  # the burst needed > 2 seconds
        assert v.fake.busiest_window(1.0) <= LIMIT


async def test_without_the_throttle_the_same_burst_is_refused() -> None:
    async with binance(weight_limit_per_s=LIMIT, enable_rate_limit=False) as v:
        assert await _burst(v)
        assert v.fake.weight_refusals > 0
        assert v.fake.busiest_window(1.0) > LIMIT
