"""What became of signals and how market data is published: pure functions of state."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import OrderDenied
from alphintra.domain.identifiers import ClientOrderId, SignalId
from alphintra.domain.market import MarketData
from alphintra.domain.orders import Order
from alphintra.domain.values import ZERO


def signal_status(
    orders: list[Order], denials: Mapping[ClientOrderId, OrderDenied] | None = None
) -> tuple[str, str | None, str | None]:
    """Return (status, reason code, reason) of a signal from its orders."""
    if not orders:
        return "ACCEPTED", None, None
    if len(orders) == 1:
        return _one_order_status(orders[0], denials)
    entries = [o for o in orders if o.parent_id is None] or orders
    denied = [o for o in entries if o.status is OrderStatus.DENIED]
    if denied and len(denied) == len(entries):
        denial = (denials or {}).get(denied[0].client_order_id)
        if denial is not None:
            return "REJECTED", denial.reason_code, denial.reason
        return "REJECTED", "RISK_DENIED", "denied by risk"
    rejected = [o for o in entries if o.status is OrderStatus.REJECTED]
    if rejected and len(rejected) == len(entries):
        return "REJECTED", "VENUE_REJECTED", "rejected by the venue"
    filled = sum((o.filled_quantity for o in entries), ZERO)
    total = sum((o.quantity for o in entries), ZERO)
    if filled and filled >= total:
        return "EXECUTED", None, None
    if filled:
        return "PARTIALLY_EXECUTED", None, None
    if all(o.status.is_closed for o in entries):
        return "REJECTED", "NOT_FILLED", "closed without a fill"
    return "ACCEPTED", None, None


def _one_order_status(
    order: Order, denials: Mapping[ClientOrderId, OrderDenied] | None
) -> tuple[str, str | None, str | None]:
    """Return `signal_status` of a signal with one order (most signals), without lists."""
    status = order.status
    if status is OrderStatus.DENIED:
        denial = (denials or {}).get(order.client_order_id)
        if denial is not None:
            return "REJECTED", denial.reason_code, denial.reason
        return "REJECTED", "RISK_DENIED", "denied by risk"
    if status is OrderStatus.REJECTED:
        return "REJECTED", "VENUE_REJECTED", "rejected by the venue"
    filled = order.filled_quantity
    if filled and filled >= order.quantity:
        return "EXECUTED", None, None
    if filled:
        return "PARTIALLY_EXECUTED", None, None
    if status.is_closed:
        return "REJECTED", "NOT_FILLED", "closed without a fill"
    return "ACCEPTED", None, None


def signal_state(state: AccountState, signal_id: SignalId) -> tuple[str, str | None, str | None]:
    """Return (status, reason code, reason) of a signal from the account state."""
    rejection = state.signal_rejections.get(signal_id)
    if rejection is not None:
        return "REJECTED", rejection.reason_code, rejection.reason
    orders = state.signal_orders.get(signal_id)
    if orders is not None and len(orders) == 1:  # most signals: no copy of the list
        return _one_order_status(orders[0], state.denials)
    return signal_status(list(orders or ()), state.denials)


def market_data_payload(data: MarketData) -> dict[str, Any]:
    """Return the JSON payload of a market data point (decimals as strings)."""
    fields = {name: getattr(data, name) for name in data.__struct_fields__}
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in fields.items()}


__all__ = ["market_data_payload", "signal_state", "signal_status"]
