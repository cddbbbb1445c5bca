"""A signal's status from its orders: the one-order shortcut agrees with the general rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderType
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderSubmitted,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.orders import Order
from alphintra.domain.values import Quantity
from alphintra.service.outcomes import signal_status

A = AccountId("A")
ID = ClientOrderId("A-1")
X = VenueId("X")


def _order(*events: OrderEvent) -> Order:
    order = Order(
        OrderInitialized(
            account_id=A,
            client_order_id=ID,
            ts_event=0,
            ts_recv=0,
            instrument_id=InstrumentId("BTCUSD"),
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=Quantity("2"),
        )
    )
    for event in events:
        order.apply(event)
    return order


def _fill(quantity: str, trade: str) -> OrderFilled:
    return OrderFilled(
        account_id=A,
        client_order_id=ID,
        ts_event=1,
        ts_recv=1,
        venue=X,
        venue_order_id=VenueOrderId("v"),
        trade_id=TradeId(trade),
        instrument_id=InstrumentId("BTCUSD"),
        side=OrderSide.BUY,
        last_quantity=Quantity(quantity),
        last_price=Decimal(100),
        fee=Decimal(0),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )


SUBMITTED = OrderSubmitted(account_id=A, client_order_id=ID, ts_event=0, ts_recv=0, venue=X)
ACCEPTED = OrderAccepted(
    account_id=A, client_order_id=ID, ts_event=0, ts_recv=0, venue_order_id=VenueOrderId("v")
)
CANCELLED = OrderCancelled(account_id=A, client_order_id=ID, ts_event=2, ts_recv=2)
DENIED = OrderDenied(
    account_id=A, client_order_id=ID, ts_event=0, ts_recv=0, reason_code="MAX_QTY", reason="big"
)
REJECTED = OrderRejected(account_id=A, client_order_id=ID, ts_event=0, ts_recv=0, reason="no")

CASES = [
    ((), ("ACCEPTED", None, None)),
    ((SUBMITTED, ACCEPTED), ("ACCEPTED", None, None)),
    ((SUBMITTED, ACCEPTED, _fill("1", "t1")), ("PARTIALLY_EXECUTED", None, None)),
    ((SUBMITTED, ACCEPTED, _fill("1", "t1"), _fill("1", "t2")), ("EXECUTED", None, None)),
    ((SUBMITTED, ACCEPTED, _fill("1", "t1"), CANCELLED), ("PARTIALLY_EXECUTED", None, None)),
    ((SUBMITTED, ACCEPTED, CANCELLED), ("REJECTED", "NOT_FILLED", "closed without a fill")),
    ((SUBMITTED, REJECTED), ("REJECTED", "VENUE_REJECTED", "rejected by the venue")),
    ((DENIED,), ("REJECTED", "RISK_DENIED", "denied by risk")),
]


@pytest.mark.parametrize(("events", "expected"), CASES)
def test_signal_status_one_order_matches_the_rule_for_many(
    events: tuple[OrderEvent, ...], expected: tuple[str, str | None, str | None]
) -> None:
    order = _order(*events)
    assert signal_status([order]) == expected
    # Two entries with the same state go through the general rule: the same answer.
    assert signal_status([order, order]) == expected


def test_signal_status_one_denied_order_reports_its_denial() -> None:
    order = _order(DENIED)
    expected = ("REJECTED", "MAX_QTY", "big")
    assert signal_status([order], {ID: DENIED}) == expected
    assert signal_status([order, order], {ID: DENIED}) == expected
