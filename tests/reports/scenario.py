"""A day of orders worked by hand, shared by the report tests.

Quotes in BTCUSD: 99.90 / 100.10 at T0 (mid 100.00), 100.00 / 100.20 from T0 + 1 s
(mid 100.10). Orders (all arriving at T0, arrival mid 100.00):

- B1, a TWAP parent, buys 2 (model m1, entry price 99.50): 1 @ 100.05 on V1 at T0
  (fee 0.10), 1 @ 100.20 on V2 at T0 + 1 s (fee 0.10); it stops working at T0 + 2 s.
  Slippage 5 and 20 bps per fill, 12.5 bps for the order. Spread 0.05 + 0.10, impact
  0 + 0.10, timing 0.50 + 0.50, fees 0.20: shortfall 1.45 on a decision notional of
  199.00. The first fill beat the arrival ask (100.10), the second did not.
- B1-c1, a child slice of B1 (counted through its parent only).
- S1 sells 1 @ 99.90 on V1 at T0 + 2 s (model m2, fee 0.05): slippage +10 bps (a
  cost), spread 0.20, impact -0.10 (the mid rose: good for a seller), shortfall 0.15;
  99.90 is the arrival bid, so no price improvement.
- S2 sells 1 @ 100.05 on V2 at T0 + 3 s (model m2, no fee): slippage -5 bps (a gain),
  spread 0.05, impact -0.10, shortfall -0.05; 0.15 above the arrival bid: improved.
- C1 buys 1 (model m1) and is cancelled unfilled at T0 + 5 s; opportunity cost 0.10.

Per-order slippage, sorted: -5, 10, 12.5 (bps); execution times 1, 2 and 3 s.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    TradeId,
    VenueId,
)
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.execution.quality import Execution, OrderRecord, order_quality
from alphintra.reports.build import day_bounds
from alphintra.reports.records import RecordedOrder

D = Decimal
SEC: Final = 1_000_000_000
DAY: Final = date(2026, 3, 2)
T0: Final = day_bounds(DAY)[0] + 9 * 3600 * SEC
BTC: Final = InstrumentId("BTCUSD")
ACCOUNT: Final = AccountId("ALICE-1")
QUOTES: Final = (
    QuoteTick(BTC, D("99.90"), D("100.10"), D(1), D(1), T0),
    QuoteTick(BTC, D("100.00"), D("100.20"), D(1), D(1), T0 + SEC),
)
BARS: Final = (
    TradeBar(BTC, D(100), D(101), D(99), D(100), D(3), T0, SEC),
    TradeBar(BTC, D(100), D(101), D(99), D(100), D(1), T0 + SEC, SEC),
    TradeBar(BTC, D(100), D(101), D(99), D(100), D(50), T0 + 2 * SEC, SEC),
)
"""Market volume: 3 then 1 during B1's life [T0, T0 + 2 s); the third bar starts after."""


def _fill(ts: int, price: str, venue: str, trade: str, fee: str = "0") -> Execution:
    return Execution(ts, D(price), D(1), D(fee), VenueId(venue), TradeId(trade))


def _order(
    order_id: str,
    side: OrderSide,
    quantity: int,
    fills: tuple[Execution, ...],
    model: str,
    strategy: str,
    *,
    decision: str | None = None,
    end_ts: int | None = None,
) -> OrderRecord:
    return OrderRecord(
        client_order_id=ClientOrderId(order_id),
        instrument_id=BTC,
        side=side,
        quantity=D(quantity),
        arrival_ts=T0,
        fills=fills,
        currency="USD",
        decision_price=None if decision is None else D(decision),
        end_ts=end_ts,
        account_id=ACCOUNT,
        model_id=ModelId(model),
        strategy=strategy,
    )


def _recorded(
    record: OrderRecord, *, algo: str | None = None, parent: str | None = None
) -> RecordedOrder:
    quality = order_quality(record, QUOTES, horizon_ns=10 * SEC)
    return RecordedOrder(
        quality=quality,
        end_ts=record.life_end,
        parent_id=None if parent is None else ClientOrderId(parent),
        algo=algo,
    )


def day_orders() -> list[RecordedOrder]:
    """Return the orders of the module docstring."""
    b1_fills = (
        _fill(T0, "100.05", "V1", "t1", "0.10"),
        _fill(T0 + SEC, "100.20", "V2", "t2", "0.10"),
    )
    return [
        _recorded(
            _order(
                "B1",
                OrderSide.BUY,
                2,
                b1_fills,
                "m1",
                "TWAP",
                decision="99.50",
                end_ts=T0 + 2 * SEC,
            ),
            algo="TWAP",
        ),
        _recorded(
            _order("B1-c1", OrderSide.BUY, 1, b1_fills[:1], "m1", "TWAP", decision="99.50"),
            algo="TWAP",
            parent="B1",
        ),
        _recorded(
            _order(
                "S1",
                OrderSide.SELL,
                1,
                (_fill(T0 + 2 * SEC, "99.90", "V1", "t3", "0.05"),),
                "m2",
                "MARKET",
            )
        ),
        _recorded(
            _order(
                "S2", OrderSide.SELL, 1, (_fill(T0 + 3 * SEC, "100.05", "V2", "t4"),), "m2", "LIMIT"
            )
        ),
        _recorded(_order("C1", OrderSide.BUY, 1, (), "m1", "LIMIT", end_ts=T0 + 5 * SEC)),
    ]
