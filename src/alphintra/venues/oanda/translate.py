"""Translation between domain values and OANDA v20 wire types, and of errors.

OANDA units are signed (negative = sell) decimal strings. An order fills once: in full,
or (IOC, "immediately partially filled or cancelled") in part with the rest cancelled,
so its filled quantity is its fill's units (its units once FILLED, if the fill is unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from alphintra.domain.values import ZERO
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState
from alphintra.venues.oanda.client import (
    OandaApiError,
    OandaClientError,
    OandaResponseError,
    OandaTransportError,
)
from alphintra.venues.oanda.tradeable import MARKET_HALTED, halted_reason
from alphintra.venues.oanda.wire import (
    ClientExtensions,
    Order,
    OrderRequest,
    OrderTypeName,
    PositionFillName,
    TimeInForceName,
    Transaction,
    decimal_text,
    format_time,
    parse_time_ns,
)

SymbolOf = Callable[[str], InstrumentId]
"""Maps an OANDA instrument name to our instrument ID."""

# Our order types that OANDA works natively, and back. OANDA's TAKE_PROFIT, STOP_LOSS
# and TRAILING_STOP_LOSS orders close a trade (by tradeID); they show up here only when
# read back from the venue.
TO_OANDA_TYPE: dict[OrderType, OrderTypeName] = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOP",
    OrderType.TAKE_PROFIT: "MARKET_IF_TOUCHED",
}
FROM_OANDA_TYPE: dict[str, OrderType] = {
    "MARKET": OrderType.MARKET,
    "FIXED_PRICE": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "TAKE_PROFIT": OrderType.LIMIT,
    "STOP": OrderType.STOP,
    "STOP_LOSS": OrderType.STOP,
    "GUARANTEED_STOP_LOSS": OrderType.STOP,
    "MARKET_IF_TOUCHED": OrderType.TAKE_PROFIT,
    "TRAILING_STOP_LOSS": OrderType.TRAILING_STOP,
}
_PENDING_TIF: dict[TimeInForce, TimeInForceName] = {
    TimeInForce.GTC: "GTC",
    TimeInForce.GTD: "GTD",
    TimeInForce.DAY: "GFD",
    TimeInForce.FOK: "FOK",
    TimeInForce.IOC: "IOC",
}
ORDER_CREATE_TYPES = frozenset(
    {"MARKET_ORDER", "LIMIT_ORDER", "STOP_ORDER", "MARKET_IF_TOUCHED_ORDER", "FIXED_PRICE_ORDER"}
)
ORDER_REJECT_TYPES = frozenset(f"{t}_REJECT" for t in ORDER_CREATE_TYPES)
GRANULARITIES: dict[int, str] = {
    5: "S5",
    10: "S10",
    15: "S15",
    30: "S30",
    60: "M1",
    120: "M2",
    240: "M4",
    300: "M5",
    600: "M10",
    900: "M15",
    1800: "M30",
    3600: "H1",
    7200: "H2",
    10800: "H3",
    14400: "H4",
    21600: "H6",
    28800: "H8",
    43200: "H12",
    86400: "D",
    604800: "W",
}


class UnsupportedOrder(ValueError):
    """The order cannot be expressed as an OANDA order request."""


def order_request(order: OrderInitialized, instrument: str, *, tag: str) -> OrderRequest:
    """Return the OANDA order request for ``order``; raise ``UnsupportedOrder``."""
    oanda_type = TO_OANDA_TYPE.get(order.order_type)
    if oanda_type is None:
        raise UnsupportedOrder(
            f"OANDA has no native {order.order_type.value} order for a quantity "
            "(its trailing stop closes a whole trade by tradeID); emulate it"
        )
    if order.post_only:
        raise UnsupportedOrder("OANDA has no post-only orders")
    if order.display_quantity is not None:
        raise UnsupportedOrder("OANDA has no iceberg (display quantity) orders")
    if order.quantity <= 0:
        raise UnsupportedOrder(f"quantity must be positive, got {order.quantity}")
    units = decimal_text(order.quantity if order.side is OrderSide.BUY else -order.quantity)
    extensions = ClientExtensions(
        id=order.client_order_id,
        tag=tag,
        comment=f"signal {order.signal_id}" if order.signal_id else None,
    )
    position_fill: PositionFillName | None = "REDUCE_ONLY" if order.reduce_only else None
    if oanda_type == "MARKET":
        # OANDA market orders are FOK or IOC only; GTC (the engine's default) means FOK.
        return OrderRequest(
            type="MARKET",
            instrument=instrument,
            units=units,
            time_in_force="IOC" if order.time_in_force is TimeInForce.IOC else "FOK",
            position_fill=position_fill,
            client_extensions=extensions,
        )
    if oanda_type == "LIMIT":
        if order.price is None:
            raise UnsupportedOrder("a LIMIT order needs a price")
        price = order.price
    else:
        if order.trigger_price is None:
            raise UnsupportedOrder(f"a {order.order_type.value} order needs a trigger price")
        if oanda_type == "MARKET_IF_TOUCHED" and order.price is not None:
            raise UnsupportedOrder("OANDA has no limit-if-touched order; emulate it")
        price = order.trigger_price
    tif = _PENDING_TIF[order.time_in_force]
    gtd_time = None
    if tif == "GTD":
        if order.expire_ts is None:
            raise UnsupportedOrder("a GTD order needs expire_ts")
        gtd_time = format_time(order.expire_ts)
    return OrderRequest(
        type=oanda_type,
        instrument=instrument,
        units=units,
        price=decimal_text(price),
        time_in_force=tif,
        gtd_time=gtd_time,
        position_fill=position_fill,
        client_extensions=extensions,
    )


def replacement_request(
    order: Order,
    *,
    quantity: Decimal | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
) -> OrderRequest:
    """Return the request that replaces a pending ``order`` with the changes applied.

    The replacing order must have the same type (the spec says so); it keeps the
    client extensions, so ``@<client order ID>`` names the replacement afterwards.
    """
    if order.units is None or order.instrument is None or order.price is None:
        raise UnsupportedOrder(f"OANDA order {order.id} ({order.type}) cannot be replaced here")
    if order.type == "MARKET":
        raise UnsupportedOrder("a market order cannot be modified")
    units = order.units
    if quantity is not None:
        if quantity <= 0:
            raise UnsupportedOrder(f"quantity must be positive, got {quantity}")
        units = quantity if units > 0 else -quantity
    new_price = order.price
    if order.type == "LIMIT" and price is not None:
        new_price = price
    elif order.type != "LIMIT" and trigger_price is not None:
        new_price = trigger_price
    elif price is not None or trigger_price is not None:
        kind = "price" if price is not None else "trigger price"
        raise UnsupportedOrder(f"an OANDA {order.type} order has no separate {kind}")
    return OrderRequest(
        type=order.type,
        instrument=order.instrument,
        units=decimal_text(units),
        price=decimal_text(new_price),
        price_bound=decimal_text(order.price_bound) if order.price_bound is not None else None,
        time_in_force=order.time_in_force,
        gtd_time=order.gtd_time,
        position_fill=order.position_fill,
        trigger_condition=order.trigger_condition,
        client_extensions=order.client_extensions,
    )


def client_order_id_of(order_id: str, extensions: ClientExtensions | None) -> ClientOrderId:
    """Return our client order ID, or ``OANDA-<id>`` for an order placed elsewhere."""
    if extensions is not None and extensions.id:
        return ClientOrderId(extensions.id)
    return ClientOrderId(f"OANDA-{order_id}")


def cancel_status(reason: str | None) -> OrderStatus:
    """Return our status for an ORDER_CANCEL reason."""
    return OrderStatus.EXPIRED if reason == "TIME_IN_FORCE_EXPIRED" else OrderStatus.CANCELLED


def cancel_outcome(
    reason: str | None, order_type: OrderType, filled: Decimal, instrument: str
) -> tuple[OrderStatus, str | None]:
    """Return our status and reason for an order OANDA cancelled with ``reason``.

    A market order cancelled unfilled with ``MARKET_HALTED`` never reached a market:
    OANDA did not trade ``instrument`` (closed or halted). It is REJECTED with a reason
    that says so, as it is when the adapter refuses it before sending.
    """
    if reason == MARKET_HALTED and order_type is OrderType.MARKET and filled == 0:
        return OrderStatus.REJECTED, halted_reason(instrument)
    return cancel_status(reason), reason


def order_state(
    order: Order,
    symbol_of: SymbolOf,
    *,
    fill: Transaction | None = None,
    cancel: Transaction | None = None,
) -> VenueOrderState | None:
    """Return the state of an order with units, or None for a trade-dependent order."""
    if order.units is None or order.instrument is None:
        return None
    if order.units == 0:
        raise ValueError(f"OANDA order {order.id} has zero units")
    quantity = abs(order.units)
    status = {
        "PENDING": OrderStatus.ACCEPTED,
        "TRIGGERED": OrderStatus.ACCEPTED,
        "FILLED": OrderStatus.FILLED,
        "CANCELLED": OrderStatus.CANCELLED,
    }[order.state]
    reason = None
    filled = abs(fill.units) if fill is not None and fill.units else ZERO
    if status is OrderStatus.CANCELLED and cancel is not None:
        order_type = FROM_OANDA_TYPE.get(order.type, OrderType.MARKET)
        status, reason = cancel_outcome(cancel.reason, order_type, filled, order.instrument)
    price = order.price if order.type == "LIMIT" else None
    trigger = order.price if order.type in ("STOP", "MARKET_IF_TOUCHED") else None
    ts = parse_time_ns(order.create_time) if order.create_time else 0
    return VenueOrderState(
        client_order_id=client_order_id_of(order.id, order.client_extensions),
        venue_order_id=VenueOrderId(order.id),
        instrument_id=symbol_of(order.instrument),
        side=OrderSide.BUY if order.units > 0 else OrderSide.SELL,
        order_type=FROM_OANDA_TYPE.get(order.type, OrderType.MARKET),
        status=status,
        quantity=quantity,
        filled_quantity=filled or (quantity if status is OrderStatus.FILLED else ZERO),
        average_price=fill_price(fill) if fill is not None else None,
        price=price,
        trigger_price=trigger,
        reason=reason,
        ts=ts,
    )


def created_state(tx: Transaction, symbol_of: SymbolOf) -> VenueOrderState:
    """Return the ACCEPTED (or REJECTED) state an order create/reject transaction reports."""
    if tx.units is None or tx.instrument is None or tx.units == 0:
        raise ValueError(f"transaction {tx.id} ({tx.type}) has no instrument or units")
    oanda_type = tx.type.removesuffix("_REJECT").removesuffix("_ORDER")
    rejected = tx.type.endswith("_REJECT")
    price = tx.price if oanda_type == "LIMIT" else None
    trigger = tx.price if oanda_type in ("STOP", "MARKET_IF_TOUCHED") else None
    return VenueOrderState(
        client_order_id=client_order_id_of(tx.id, tx.client_extensions),
        venue_order_id=VenueOrderId("" if rejected else tx.id),
        instrument_id=symbol_of(tx.instrument),
        side=OrderSide.BUY if tx.units > 0 else OrderSide.SELL,
        order_type=FROM_OANDA_TYPE.get(oanda_type, OrderType.MARKET),
        status=OrderStatus.REJECTED if rejected else OrderStatus.ACCEPTED,
        quantity=abs(tx.units),
        filled_quantity=ZERO,
        price=price,
        trigger_price=trigger,
        reason=tx.reject_reason if rejected else None,
        ts=parse_time_ns(tx.time),
    )


def fill_price(tx: Transaction) -> Decimal:
    """Return the VWAP of an ORDER_FILL: from its trade parts, else ``fullVWAP``/``price``.

    The spec deprecates ``price`` on fills: the trade parts carry the official prices.
    """
    parts = [p for p in (tx.trade_opened, tx.trade_reduced) if p is not None]
    parts.extend(tx.trades_closed or ())
    priced = [(abs(p.units), p.price) for p in parts if p.price is not None and p.units]
    total = sum((units for units, _ in priced), ZERO)
    if priced and total:
        return sum((units * price for units, price in priced), ZERO) / total
    price = tx.full_vwap if tx.full_vwap is not None else tx.price
    if price is None:
        raise ValueError(f"fill {tx.id} carries no price")
    return price


def venue_fill(tx: Transaction, symbol_of: SymbolOf, fee_currency: str) -> VenueFill:
    """Return the fill an ORDER_FILL transaction reports; raise ``ValueError`` if invalid."""
    if tx.type != "ORDER_FILL":
        raise ValueError(f"transaction {tx.id} is a {tx.type}, not an ORDER_FILL")
    if tx.units is None or tx.units == 0 or tx.instrument is None or tx.order_id is None:
        raise ValueError(f"fill {tx.id} lacks units, instrument or orderID")
    price = fill_price(tx)
    if price <= 0:
        raise ValueError(f"fill {tx.id} has the non-positive price {price}")
    fee = (tx.commission or ZERO) + (tx.guaranteed_execution_fee or ZERO)
    return VenueFill(
        trade_id=TradeId(tx.id),
        client_order_id=ClientOrderId(tx.client_order_id) if tx.client_order_id else None,
        venue_order_id=VenueOrderId(tx.order_id),
        instrument_id=symbol_of(tx.instrument),
        side=OrderSide.BUY if tx.units > 0 else OrderSide.SELL,
        quantity=abs(tx.units),
        price=price,
        fee=abs(fee),
        fee_currency=fee_currency,
        liquidity=LiquiditySide.TAKER,  # OANDA is the counterparty; every fill takes
        ts=parse_time_ns(tx.time),
    )


def venue_error(
    exc: OandaClientError, venue: str, *, write: bool, missing_ok: bool = False
) -> VenueError | None:
    """Translate a client error into the three kinds; None for a confirmed-missing order.

    ``missing_ok`` (a query) turns a 404 ORDER_DOESNT_EXIST into None.
    """
    if isinstance(exc, OandaApiError):
        status = exc.status
        if status == 429:
            return VenueError(
                VenueErrorKind.TRANSIENT,
                venue,
                f"rate limited: {exc.detail}",
                code="429",
                retry_after_s=exc.retry_after_s,
            )
        if status >= 500:
            kind = VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT
            return VenueError(kind, venue, str(exc), code=str(status))
        if status == 404 and missing_ok:
            return None
        code = exc.error_code or str(status)
        return VenueError(
            VenueErrorKind.DEFINITIVE, venue, str(exc), code=code, retry_after_s=exc.retry_after_s
        )
    if isinstance(exc, OandaTransportError):
        # A connection never established cannot have placed anything.
        if write and not exc.not_sent:
            return VenueError(VenueErrorKind.UNKNOWN_OUTCOME, venue, str(exc), code="NO_RESPONSE")
        return VenueError(VenueErrorKind.TRANSIENT, venue, str(exc), code="NO_RESPONSE")
    if isinstance(exc, OandaResponseError):
        kind = VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT
        return VenueError(kind, venue, str(exc), code="MALFORMED_RESPONSE")
    kind = VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT
    return VenueError(kind, venue, str(exc))
