"""Turn a trading signal into an order or bracket request (quantity already decided).

* BUY and SELL open or add to a position.
* CLOSE_LONG and CLOSE_SHORT flatten that side (up to ``quantity`` when given), and
  do nothing when the account holds no position on that side.
* A stop loss or take profit makes the signal a bracket.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import OrderSide, OrderType, SignalAction
from alphintra.domain.signals import TradingSignal
from alphintra.domain.values import ZERO
from alphintra.orders.brackets import exit_requests
from alphintra.orders.factory import check_bracket_prices


class SignalRejected(ValueError):
    """The signal cannot become an order; ``code`` is stable, the message explains."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def signal_to_request(
    signal: TradingSignal, quantity: Decimal | None, position: Decimal
) -> OrderRequest | BracketRequest | None:
    """Return the request for ``signal``, or None when there is nothing to do.

    ``quantity`` is the sized quantity (for BUY and SELL); ``position`` is the
    account's signed position in the signal's instrument.
    """
    action = signal.action
    if action is SignalAction.REBALANCE:
        raise SignalRejected("UNSUPPORTED_ACTION", "REBALANCE signals need target weights")
    order_type = signal.order_type
    price = signal.entry_price if order_type is OrderType.LIMIT else None
    if order_type is OrderType.LIMIT and price is None:
        raise SignalRejected("MISSING_ENTRY_PRICE", "a LIMIT signal needs entryPrice")
    if action in (SignalAction.CLOSE_LONG, SignalAction.CLOSE_SHORT):
        closing_long = action is SignalAction.CLOSE_LONG
        held = position if closing_long else -position
        if held <= ZERO:
            return None
        amount = held if signal.quantity is None else min(signal.quantity, held)
        return OrderRequest(
            instrument_id=signal.instrument_id,
            side=OrderSide.SELL if closing_long else OrderSide.BUY,
            order_type=order_type,
            quantity=amount,
            price=price,
            time_in_force=signal.time_in_force,
            reduce_only=True,
            signal_id=signal.signal_id,
        )
    if quantity is None or quantity <= 0:
        raise SignalRejected(
            "INVALID_QUANTITY", f"a {action} signal needs a positive quantity, got {quantity}"
        )
    entry = OrderRequest(
        instrument_id=signal.instrument_id,
        side=OrderSide.BUY if action is SignalAction.BUY else OrderSide.SELL,
        order_type=order_type,
        quantity=quantity,
        price=price,
        time_in_force=signal.time_in_force,
        signal_id=signal.signal_id,
    )
    if signal.stop_loss is None and signal.take_profit is None:
        return entry
    return BracketRequest(entry=entry, stop_loss=signal.stop_loss, take_profit=signal.take_profit)


def validation_requests(signal: TradingSignal, quantity: Decimal | None) -> list[OrderRequest]:
    """Return every order request ``signal`` could produce, to validate it up front.

    Raise ``SignalRejected`` or ``OrderValidationError`` for a signal that can never
    become a valid order (a stop loss on the wrong side, for example).
    """
    # A position large enough for any close, so CLOSE_* signals are validated too.
    held = quantity if quantity is not None else Decimal(1)
    position = held if signal.action is SignalAction.CLOSE_LONG else -held
    request = signal_to_request(signal, quantity, position)
    if request is None:
        return []
    if isinstance(request, OrderRequest):
        return [request]
    check_bracket_prices(request, None)
    return [request.entry, *exit_requests(request)]


def validation_shape(signal: TradingSignal, quantity: Decimal | None) -> tuple[object, ...]:
    """Return all that `validation_requests` of ``signal`` depends on.

    Two signals of one shape (same instrument, action, order type, time in force,
    quantity and prices, as written) are valid or invalid alike, whatever their IDs,
    models and confidences.
    """
    return (
        signal.instrument_id,
        signal.action,
        signal.order_type,
        signal.time_in_force,
        str(quantity),
        str(signal.entry_price),
        str(signal.stop_loss),
        str(signal.take_profit),
    )
