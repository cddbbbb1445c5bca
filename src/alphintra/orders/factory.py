"""Turn order requests into validated ``OrderInitialized`` events."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import (
    ContingencyType,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, OrderListId, VenueId
from alphintra.domain.instruments import Instrument, InstrumentRuleError
from alphintra.domain.values import Price, Quantity

_NEEDS_PRICE = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.ICEBERG})
_NEEDS_TRIGGER = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT})
_TRIGGER_ALLOWED = _NEEDS_TRIGGER | {OrderType.TRAILING_STOP}
_PRICE_ALLOWED = _NEEDS_PRICE | {OrderType.TAKE_PROFIT}


class OrderValidationError(ValueError):
    """An order request is malformed: the message says which field and value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Enum members as module constants: an attribute lookup on an enum class is slow.
_TRAILING_STOP: Final = OrderType.TRAILING_STOP
_ICEBERG: Final = OrderType.ICEBERG
_LIMIT: Final = OrderType.LIMIT
_GTD: Final = TimeInForce.GTD
_PERCENT: Final = TrailingOffsetType.PERCENT
_PRICE: Final = TrailingOffsetType.PRICE

# Memos of the instrument's validation for Decimal inputs. A result depends only on the
# (immutable) instrument and the number, which its string identifies exactly (sign,
# digits and exponent; hashing a new Decimal costs more than printing it). Keyed by the
# instrument's id, with the instrument kept in the entry, so that an id is never reused
# while its entry exists. Only successes are kept: a refused value is checked again,
# with the same error, every time.
_MEMO_LIMIT: Final = 4096
_quantities: dict[tuple[int, str], tuple[Instrument, Quantity]] = {}
_prices: dict[tuple[int, str], tuple[Instrument, Price]] = {}


def _make_quantity(instrument: Instrument, value: Decimal) -> Quantity:
    """Return ``instrument.make_quantity(value)``, memoised for Decimal values."""
    if type(value) is not Decimal and type(value) is not Quantity:
        return instrument.make_quantity(value)
    key = (id(instrument), str(value))
    hit = _quantities.get(key)
    if hit is not None and hit[0] is instrument:
        return hit[1]
    quantity = instrument.make_quantity(value)
    if len(_quantities) >= _MEMO_LIMIT:
        _quantities.clear()
    _quantities[key] = (instrument, quantity)
    return quantity


def _make_price(instrument: Instrument, value: Decimal) -> Price:
    """Return ``instrument.make_price(value)``, memoised for Decimal values."""
    if type(value) is not Decimal and type(value) is not Price:
        return instrument.make_price(value)
    key = (id(instrument), str(value))
    hit = _prices.get(key)
    if hit is not None and hit[0] is instrument:
        return hit[1]
    price = instrument.make_price(value)
    if len(_prices) >= _MEMO_LIMIT:
        _prices.clear()
    _prices[key] = (instrument, price)
    return price


def _price(instrument: Instrument, value: Decimal, what: str) -> Price:
    try:
        price = _make_price(instrument, value)
    except InstrumentRuleError as exc:
        raise OrderValidationError("INVALID_PRICE", f"{what}: {exc}") from None
    if price <= 0:
        raise OrderValidationError("INVALID_PRICE", f"{what} must be positive, got {value}")
    return price


def build_order(
    request: OrderRequest,
    instrument: Instrument,
    *,
    account_id: AccountId,
    client_order_id: ClientOrderId,
    venue: VenueId,
    native_types: frozenset[OrderType],
    ts: int,
    contingency: ContingencyType = ContingencyType.NONE,
    order_list_id: OrderListId | None = None,
    parent_id: ClientOrderId | None = None,
    linked_ids: tuple[ClientOrderId, ...] = (),
) -> OrderInitialized:
    """Validate ``request`` against the instrument's rules and return its init event."""
    order_type = request.order_type
    try:
        quantity = _make_quantity(instrument, request.quantity)
    except InstrumentRuleError as exc:
        raise OrderValidationError("INVALID_QUANTITY", str(exc)) from None
    price = trigger = None
    if request.price is not None:
        if order_type not in _PRICE_ALLOWED:
            raise OrderValidationError(
                "UNEXPECTED_PRICE", f"{order_type} orders take no price, got {request.price}"
            )
        price = _price(instrument, request.price, "price")
    elif order_type in _NEEDS_PRICE:
        raise OrderValidationError("MISSING_PRICE", f"{order_type} orders need a price")
    if request.trigger_price is not None:
        if order_type not in _TRIGGER_ALLOWED:
            raise OrderValidationError(
                "UNEXPECTED_TRIGGER",
                f"{order_type} orders take no trigger price, got {request.trigger_price}",
            )
        trigger = _price(instrument, request.trigger_price, "trigger price")
    elif order_type in _NEEDS_TRIGGER:
        raise OrderValidationError(
            "MISSING_TRIGGER", f"{order_type} orders need a trigger (stop) price"
        )
    offset = request.trailing_offset
    offset_type = request.trailing_offset_type
    if order_type is _TRAILING_STOP:
        offset_type = offset_type or _PRICE
        if offset is None or offset <= 0:
            raise OrderValidationError(
                "INVALID_TRAILING_OFFSET",
                f"trailing stops need a positive trailing offset, got {offset}",
            )
        if offset_type is _PERCENT and offset >= 100:
            raise OrderValidationError(
                "INVALID_TRAILING_OFFSET", f"a percent trailing offset must be < 100, got {offset}"
            )
        if offset_type is _PRICE and offset % instrument.tick_size != 0:
            raise OrderValidationError(
                "INVALID_TRAILING_OFFSET",
                f"trailing offset {offset} is not a multiple of the tick size "
                f"{instrument.tick_size}",
            )
    elif offset is not None:
        raise OrderValidationError(
            "UNEXPECTED_TRAILING_OFFSET", f"{order_type} orders take no trailing offset"
        )
    display = None
    if order_type is _ICEBERG:
        if request.display_quantity is None:
            raise OrderValidationError("MISSING_DISPLAY_QUANTITY", "ICEBERG orders need one")
        try:
            display = instrument.make_quantity(request.display_quantity)
        except InstrumentRuleError as exc:
            raise OrderValidationError("INVALID_DISPLAY_QUANTITY", str(exc)) from None
        if display > quantity:
            raise OrderValidationError(
                "INVALID_DISPLAY_QUANTITY",
                f"display quantity {display} exceeds the order quantity {quantity}",
            )
        last = quantity % display
        if last and last < instrument.min_quantity:
            # The slices are the display quantity and then the rest: a rest below the
            # minimum could never be sent, and the iceberg never finished.
            raise OrderValidationError(
                "INVALID_DISPLAY_QUANTITY",
                f"display quantity {display} leaves a last slice of {last} of the order "
                f"quantity {quantity}, below the minimum quantity {instrument.min_quantity} "
                f"of {instrument.id}",
            )
    elif request.display_quantity is not None:
        raise OrderValidationError(
            "UNEXPECTED_DISPLAY_QUANTITY", f"{order_type} orders take no display quantity"
        )
    if request.time_in_force is _GTD:
        if request.expire_ts is None:
            raise OrderValidationError("MISSING_EXPIRE_TIME", "GTD orders need an expire time")
        if request.expire_ts <= ts:
            raise OrderValidationError(
                "INVALID_EXPIRE_TIME", f"expire time {request.expire_ts} is not after now {ts}"
            )
    if request.post_only and order_type not in (_LIMIT, _ICEBERG):
        raise OrderValidationError("INVALID_POST_ONLY", f"{order_type} orders cannot be post-only")
    return OrderInitialized(
        account_id=account_id,
        client_order_id=client_order_id,
        ts_event=ts,
        ts_recv=ts,
        instrument_id=instrument.id,
        side=request.side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        trigger_price=trigger,
        trailing_offset=offset,
        trailing_offset_type=offset_type,
        display_quantity=display,
        time_in_force=request.time_in_force,
        expire_ts=request.expire_ts,
        reduce_only=request.reduce_only,
        post_only=request.post_only,
        contingency=contingency,
        order_list_id=order_list_id,
        parent_id=parent_id,
        linked_ids=linked_ids,
        signal_id=request.signal_id,
        emulated=order_type not in native_types,
        venue=venue,
    )


def check_bracket_prices(request: BracketRequest, reference: Decimal | None) -> None:
    """Refuse a stop-loss or take-profit on the wrong side of the entry."""
    entry = request.entry
    anchor = entry.price if entry.price is not None else entry.trigger_price
    anchor = anchor if anchor is not None else reference
    if anchor is None:
        return
    buy = entry.side.sign > 0
    stop, target = request.stop_loss, request.take_profit
    if stop is not None and ((buy and stop >= anchor) or (not buy and stop <= anchor)):
        raise OrderValidationError(
            "STOP_LOSS_WRONG_SIDE",
            f"stop loss {stop} must be {'below' if buy else 'above'} the entry {anchor} "
            f"for a {entry.side}",
        )
    if target is not None and ((buy and target <= anchor) or (not buy and target >= anchor)):
        raise OrderValidationError(
            "TAKE_PROFIT_WRONG_SIDE",
            f"take profit {target} must be {'above' if buy else 'below'} the entry {anchor} "
            f"for a {entry.side}",
        )
