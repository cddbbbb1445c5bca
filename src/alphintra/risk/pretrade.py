"""Pre-trade risk checks: pure functions that return a denial or nothing.

A denial carries a stable reason code and a human-readable reason. The engine turns
it into an ``OrderDenied`` event; it is never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderSide, TradingState
from alphintra.domain.events import OrderInitialized
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import is_reducing
from alphintra.domain.values import ZERO


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an order was denied."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Order- and position-level limits. ``None`` disables a limit."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position_quantity: Decimal | None = None
    max_position_notional: Decimal | None = None
    enforce_min_notional: bool = True
    enforce_trading_hours: bool = False


def _reference_price(order: OrderInitialized, mark: Decimal | None) -> Decimal | None:
    if order.price is not None:
        return order.price
    if order.trigger_price is not None:
        return order.trigger_price
    return mark


def check_order(
    order: OrderInitialized,
    instrument: Instrument,
    state: AccountState,
    limits: RiskLimits,
    mark: Decimal | None,
) -> Denial | None:
    """Run every pre-trade check on ``order``; return the first denial, or None."""
    position = state.position_quantity(order.instrument_id)
    reducing = is_reducing(order.side, position)
    trading_state = state.trading_state
    if trading_state is TradingState.HALTED:
        return Denial("TRADING_HALTED", "trading is halted for this account")
    if trading_state is TradingState.REDUCING and not (
        reducing and order.quantity <= abs(position)
    ):
        return Denial(
            "TRADING_REDUCING",
            f"trading is in REDUCING state: only orders that reduce the position "
            f"({position}) are allowed",
        )
    if order.reduce_only and not (reducing and order.quantity <= abs(position)):
        return Denial(
            "REDUCE_ONLY_VIOLATION",
            f"reduce-only {order.side} of {order.quantity} would not reduce the position "
            f"{position}",
        )
    quantity = order.quantity
    if limits.max_order_quantity is not None and quantity > limits.max_order_quantity:
        return Denial(
            "MAX_ORDER_QUANTITY",
            f"order quantity {quantity} exceeds the limit {limits.max_order_quantity}",
        )
    price = _reference_price(order, mark)
    if price is not None:
        notional = quantity * price * instrument.multiplier
        if limits.max_order_notional is not None and notional > limits.max_order_notional:
            return Denial(
                "MAX_ORDER_NOTIONAL",
                f"order notional {notional} exceeds the limit {limits.max_order_notional}",
            )
        if (
            limits.enforce_min_notional
            and instrument.min_notional > 0
            and notional < instrument.min_notional
        ):
            return Denial(
                "MIN_NOTIONAL",
                f"order notional {notional} is below the instrument minimum "
                f"{instrument.min_notional}",
            )
    signed = quantity if order.side is OrderSide.BUY else -quantity
    projected = position + signed + _working_exposure(state, order)
    if (
        limits.max_position_quantity is not None
        and not reducing
        and abs(projected) > limits.max_position_quantity
    ):
        return Denial(
            "MAX_POSITION_QUANTITY",
            f"position would reach {projected} (with working orders), over the limit "
            f"{limits.max_position_quantity}",
        )
    if (
        limits.max_position_notional is not None
        and not reducing
        and price is not None
        and abs(projected) * price * instrument.multiplier > limits.max_position_notional
    ):
        return Denial(
            "MAX_POSITION_NOTIONAL",
            f"position notional would reach {abs(projected) * price * instrument.multiplier}, "
            f"over the limit {limits.max_position_notional}",
        )
    if (
        limits.enforce_trading_hours
        and instrument.trading_hours is not None
        and not instrument.trading_hours.is_open(order.ts_event)
    ):
        return Denial("MARKET_CLOSED", f"{instrument.id} is outside its trading hours")
    return None


def _working_exposure(state: AccountState, order: OrderInitialized) -> Decimal:
    """Signed quantity still working in the same direction, so bursts cannot overshoot."""
    total = ZERO
    for other in state.open_orders.values():
        if (
            other.instrument_id == order.instrument_id
            and other.side is order.side
            and not other.reduce_only
            and other.client_order_id != order.client_order_id
            and other.parent_id is None
        ):
            leaves = other.quantity - other.filled_quantity
            total += leaves if other.side is OrderSide.BUY else -leaves
    return total
