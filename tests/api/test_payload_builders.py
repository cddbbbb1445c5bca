"""The WebSocket payload builders: the values of their moment, and no collector work.

`order_payload_later`, `trade_payload_later` and `position_payload_later` capture what an
event can change and build the JSON only when a client needs it. They are msgspec
structs with ``gc=False`` (the hub buffers several per signal): they must build exactly
what the direct builders and REST views build at the moment of capture, however the
order or position changes afterwards.
"""

from __future__ import annotations

import gc
from decimal import Decimal

from alphintra.api import views
from alphintra.domain.enums import LiquiditySide, OrderSide, OrderType
from alphintra.domain.events import OrderAccepted, OrderFilled, OrderInitialized, OrderSubmitted
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.orders import Order
from alphintra.domain.positions import Position
from alphintra.domain.values import Price, Quantity

T0 = 1_700_000_000_123_456_789
ACCOUNT = AccountId("A")
SPY = InstrumentId("SPY")
ORDER_ID = ClientOrderId("O-1")


def _order() -> Order:
    return Order(
        OrderInitialized(
            account_id=ACCOUNT,
            client_order_id=ORDER_ID,
            ts_event=T0,
            ts_recv=T0,
            instrument_id=SPY,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Quantity("10"),
            price=Price("450.25"),
            linked_ids=(ClientOrderId("O-2"),),
        )
    )


def _fill(ts: int) -> OrderFilled:
    return OrderFilled(
        account_id=ACCOUNT,
        client_order_id=ORDER_ID,
        ts_event=ts,
        ts_recv=ts,
        venue=VenueId("SIM"),
        venue_order_id=VenueOrderId("SIM-1"),
        trade_id=TradeId("T-1"),
        instrument_id=SPY,
        side=OrderSide.BUY,
        last_quantity=Quantity("4"),
        last_price=Decimal("450.20"),
        fee=Decimal("0.0450"),
        fee_currency="USD",
        liquidity=LiquiditySide.MAKER,
    )


def test_order_payload_later_builds_the_order_as_it_was() -> None:
    order = _order()
    before = views.order_payload("A", order)
    later = views.order_payload_later("A", order)
    assert not gc.is_tracked(later)
    order.apply(
        OrderSubmitted(
            account_id=ACCOUNT,
            client_order_id=ORDER_ID,
            ts_event=T0 + 1,
            ts_recv=T0 + 1,
            venue=VenueId("SIM"),
        )
    )
    order.apply(
        OrderAccepted(
            account_id=ACCOUNT,
            client_order_id=ORDER_ID,
            ts_event=T0 + 2,
            ts_recv=T0 + 2,
            venue_order_id=VenueOrderId("SIM-1"),
        )
    )
    order.apply(_fill(T0 + 3))
    now = views.order_payload("A", order)
    assert now["status"] == "PARTIALLY_FILLED" and now["filledQuantity"] == "4"
    assert later() == before
    assert before == views.order_view("A", _order()).model_dump(mode="json")
    assert views.order_payload_later("A", order)() == now


def test_trade_payload_later_builds_the_trade_view() -> None:
    fill = _fill(T0)
    later = views.trade_payload_later("A", fill)
    assert not gc.is_tracked(later)
    assert later() == views.trade_payload("A", fill)
    assert later() == views.trade_view("A", fill).model_dump(mode="json")


def test_position_payload_later_builds_the_position_as_it_was() -> None:
    position = Position(ACCOUNT, SPY, Decimal(1), "USD")
    position.apply_fill(VenueId("SIM"), TradeId("T-1"), Decimal("4"), Decimal("450.20"), T0)
    mark = Decimal("451")
    before = views.position_view("A", position, mark).model_dump(mode="json")
    later = views.position_payload_later("A", position, mark)
    assert not gc.is_tracked(later)
    position.apply_fill(VenueId("SIM"), TradeId("T-2"), Decimal("-1"), Decimal("452"), T0 + 1)
    assert views.position_view("A", position, mark).model_dump(mode="json") != before
    assert later() == before
