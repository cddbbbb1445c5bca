"""Pre-trade checks of a change to a working order (a modify).

A change is checked as the order would then stand, by the same checks as a new order
(`alphintra.risk.pretrade.check_order`), when it can add risk: more quantity, or a new
price or trigger. The order is checked for what it can still add, its leaves after the
change (its fills are in the position already), and the order-quantity limit also for
its whole new quantity. The throttles count new orders, not changes, so they are left
out; the portfolio bound counts the order as it was, so the portfolio checks run in full.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import msgspec

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import OrderInitialized
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import Order
from alphintra.domain.values import Quantity
from alphintra.risk.context import RiskContext
from alphintra.risk.denial import VOLATILITY_BREAKER, Denial
from alphintra.risk.limits import RiskLimits
from alphintra.risk.order_checks import check_order_quantity
from alphintra.risk.pretrade import check_order


def adds_risk(
    order: Order,
    quantity: Decimal | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
) -> bool:
    """Return True when the change can add risk to a released order.

    An order not released yet (a bracket exit waiting for its entry) is checked as it
    stands when it is released.
    """
    if order.status is OrderStatus.NEW:
        return False
    grows = quantity is not None and quantity > order.quantity
    return grows or price is not None or trigger_price is not None


def check_order_change(
    order: Order,
    released: OrderInitialized,
    instrument: Instrument,
    state: AccountState,
    limits: RiskLimits,
    ctx: RiskContext,
    *,
    quantity: Decimal | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
    now_ns: int,
    breaker_tripped: bool,
) -> Denial | None:
    """Return the denial of ``order`` changed to ``quantity``, ``price`` and
    ``trigger_price`` (None: unchanged), or None when it may change.

    ``released`` is the order as it was released; ``breaker_tripped`` tells whether the
    instrument's circuit breaker blocks entries (then the order may not grow).
    """
    if not adds_risk(order, quantity, price, trigger_price):
        return None
    total = quantity if quantity is not None else order.quantity
    changed = msgspec.structs.replace(
        released,
        quantity=Quantity(total - order.filled_quantity),
        price=price if price is not None else order.price,
        trigger_price=trigger_price if trigger_price is not None else order.trigger_price,
        ts_event=now_ns,
    )
    denial = check_order_quantity(instrument, total, limits.scope_for(instrument))
    if denial is None:
        denial = check_order(
            changed,
            instrument,
            state,
            dataclasses.replace(limits, account_throttle=None, venue_throttle=None),
            dataclasses.replace(ctx, bound=None),
        )
    if denial is None and breaker_tripped and total > order.quantity:
        return Denial(
            VOLATILITY_BREAKER,
            f"{instrument.id} circuit breaker is tripped: order {order.client_order_id} "
            "cannot grow",
        )
    return denial
