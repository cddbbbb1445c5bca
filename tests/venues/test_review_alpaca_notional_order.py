"""Alpaca: a notional order someone placed by hand must not break account().

Alpaca orders placed by amount (``notional``, fractional shares) carry ``qty: null``
until they fill; a market one placed outside market hours rests as ``accepted``. The
strict order reader refused the whole open-order list because of it, so ``account()``
failed (TRANSIENT) on every reconciliation and the venue stayed unreconciled for as
long as the order rested. The order has no quantity to report; it is left out, and
every other open order is still listed.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType

from .alpaca.support import SPY, AlpacaVenue, order

pytestmark = pytest.mark.asyncio


def _notional_order() -> dict[str, object]:
    now = "2026-01-05T21:30:00.123456Z"
    return {
        "id": str(uuid.uuid4()),
        "client_order_id": str(uuid.uuid4()),
        "created_at": now,
        "updated_at": now,
        "submitted_at": now,
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": str(uuid.uuid4()),
        "symbol": "QQQ",
        "asset_class": "us_equity",
        "notional": "250",
        "qty": None,
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "",
        "order_type": "market",
        "type": "market",
        "side": "buy",
        "position_intent": "buy_to_open",
        "time_in_force": "day",
        "limit_price": None,
        "stop_price": None,
        "status": "accepted",
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "subtag": None,
        "source": None,
    }


async def test_account_lists_open_orders_beside_a_resting_notional_order() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        resting = order(kind=OrderType.LIMIT, side=OrderSide.BUY, quantity="3", price="400")
        await venue.adapter.place_order(resting)
        venue.fake.foreign_open_orders.append(_notional_order())
        snapshot = await venue.adapter.account()
    assert [
        (o.client_order_id, o.instrument_id, o.status, o.quantity) for o in snapshot.open_orders
    ] == [(resting.client_order_id, SPY, OrderStatus.ACCEPTED, Decimal(3))]
