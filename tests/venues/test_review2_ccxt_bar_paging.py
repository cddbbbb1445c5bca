"""ccxt: a bar request longer than the page cap is not answered with a silent prefix.

Binance serves 1,000 klines a request; ``bars`` read at most 50 pages and returned what
it had. Asked for 51,000 one-minute bars (about five weeks), it returned the first
50,000 as if the range ended there: indicators and backtests fed from it lost the most
recent days without a word. Now a range of up to 1,000 pages comes back whole, and a
longer one is refused with the reason instead of cut.
"""

from __future__ import annotations

import pytest

from .ccxt.support import BTCUSDT, binance

pytestmark = pytest.mark.asyncio
BARS = 51_000
START_MS = 1_700_000_000_000


async def test_bars_of_a_long_range_are_all_returned_or_refused() -> None:
    rows = [
        [
            START_MS + i * 60_000,
            "100.0",
            "101.0",
            "99.0",
            "100.5",
            "3.0",
            START_MS + (i + 1) * 60_000 - 1,
            "300.0",
            5,
            "1.0",
            "100.0",
            "0",
        ]
        for i in range(BARS)
    ]
    async with binance() as b:
        b.fake.set_klines("BTCUSDT", "1m", rows)
        end_ns = (START_MS + BARS * 60_000) * 1_000_000
        bars = await b.adapter.bars(BTCUSDT, 60, START_MS * 1_000_000, end_ns)
    assert len(bars) == BARS
    assert bars[-1].ts == (START_MS + (BARS - 1) * 60_000) * 1_000_000
