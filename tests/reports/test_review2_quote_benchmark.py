"""The quotes execution quality is measured against are two-sided, tradable markets.

A one-sided quote (a side of 0: the source has no price there) has a mid of half the
other side, and an indicative quote (a halt, a closed market) is a mark, not a market:
as the arrival benchmark either turns a fair fill into thousands of bps of slippage.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.execution.quality import Execution, OrderRecord, measure
from alphintra.reports.recorder import QuoteHistory

ETH = InstrumentId("ETHUSD")
D = Decimal


def _quote(bid: str, ask: str, ts: int, *, indicative: bool = False) -> QuoteTick:
    return QuoteTick(ETH, D(bid), D(ask), D(1), D(1), ts, indicative=indicative)


@pytest.mark.parametrize(
    "bad",
    [
        _quote("0", "2001", 5),
        _quote("1999", "0", 5),
        _quote("2003", "2001", 5),
        _quote("1500", "1600", 5, indicative=True),
    ],
    ids=["no-bid", "no-ask", "crossed", "indicative"],
)
def test_quote_history_arrival_benchmark_skips_untradable_quote(bad: QuoteTick) -> None:
    history = QuoteHistory()
    history.record(_quote("1999", "2001", 0))
    history.record(bad)
    assert history.at(ETH, 10) == _quote("1999", "2001", 0)
    quotes, times = history.series(ETH)
    order = OrderRecord(
        ClientOrderId("A-1"),
        ETH,
        OrderSide.BUY,
        D(1),
        10,
        (Execution(ts=10, price=D("2001"), quantity=D(1)),),
        "USD",
    )
    quality = measure(order, quotes, times, horizon_ns=0)
    assert quality.arrival_mid == D(2000)
    assert quality.slippage_bps == D(5)
