"""Translation between domain values and Alpaca's wire format, both ways.

Requests are built with the official SDK's request models. Responses are read from the
raw JSON (the SDK's clients run with ``raw_data=True``) by strict readers, so that an
unknown status, a negative quantity or a missing field becomes a ``MalformedPayload``
rather than a crash or a silently wrong state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
from alpaca.trading.enums import OrderSide as AlpacaSide
from alpaca.trading.enums import TimeInForce as AlpacaTif
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)

from alphintra.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import (
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueOrderId,
)
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.domain.values import ZERO, Currency
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.alpaca.parsing import (
    MalformedPayload,
    as_mapping,
    decimal_field,
    decimal_text,
    optional_decimal,
    optional_text,
    text,
    timestamp_field,
)

USD = Currency("USD")


class UnsupportedRequest(ValueError):
    """The request cannot be expressed on Alpaca (a DEFINITIVE refusal, nothing is sent)."""


# Requests ----------------------------------------------------------------------------

_TIF = {
    TimeInForce.DAY: AlpacaTif.DAY,
    TimeInForce.GTC: AlpacaTif.GTC,
    TimeInForce.IOC: AlpacaTif.IOC,
    TimeInForce.FOK: AlpacaTif.FOK,
}
_SIDE = {OrderSide.BUY: AlpacaSide.BUY, OrderSide.SELL: AlpacaSide.SELL}
MAX_CLIENT_ORDER_ID = 128
"""Alpaca's limit on the length of ``client_order_id``."""


def exact_float(value: Decimal, what: str) -> float:
    """Return ``value`` as the float the SDK's request models need, refusing any rounding.

    The SDK declares prices and quantities as floats and JSON-encodes them with their
    shortest text, so a decimal with at most 15 significant digits goes over the wire
    exactly as written; anything else is refused rather than rounded.
    """
    result = float(value)
    if Decimal(repr(result)) != value:
        raise UnsupportedRequest(f"{what} {value} cannot be sent exactly through the Alpaca SDK")
    return result


def order_request(order: OrderInitialized, symbol: str, *, extended_hours: bool) -> OrderRequest:
    """Build the SDK request for a new order, or raise ``UnsupportedRequest``."""
    cid = str(order.client_order_id)
    if not cid or len(cid) > MAX_CLIENT_ORDER_ID:
        raise UnsupportedRequest(
            f"client order ID must be 1..{MAX_CLIENT_ORDER_ID} characters, got {len(cid)}"
        )
    tif = _TIF.get(order.time_in_force)
    if tif is None:
        raise UnsupportedRequest(
            f"time in force {order.time_in_force.value} is not supported by Alpaca "
            f"(day, gtc, ioc, fok)"
        )
    if order.post_only:
        raise UnsupportedRequest("Alpaca has no post-only orders; post_only cannot be honoured")
    # reduce_only has no Alpaca equivalent for equities (capabilities declare it); the
    # engine, which sets it on protective exits, keeps those orders within the position.
    common: dict[str, Any] = {
        "symbol": symbol,
        "qty": exact_float(order.quantity, "quantity"),
        "side": _SIDE[order.side],
        "time_in_force": tif,
        "client_order_id": cid,
    }
    kind = order.order_type
    if kind is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if kind is OrderType.LIMIT:
        price = _required(order.price, "limit price", kind)
        eligible = extended_hours and order.time_in_force is TimeInForce.DAY
        return LimitOrderRequest(
            **common,
            limit_price=exact_float(price, "limit price"),
            extended_hours=True if eligible else None,
        )
    if kind is OrderType.STOP:
        stop = _required(order.trigger_price, "stop price", kind)
        return StopOrderRequest(**common, stop_price=exact_float(stop, "stop price"))
    if kind is OrderType.STOP_LIMIT:
        stop = _required(order.trigger_price, "stop price", kind)
        price = _required(order.price, "limit price", kind)
        return StopLimitOrderRequest(
            **common,
            stop_price=exact_float(stop, "stop price"),
            limit_price=exact_float(price, "limit price"),
        )
    if kind is OrderType.TRAILING_STOP:
        offset = _required(order.trailing_offset, "trailing offset", kind)
        if offset <= 0:
            raise UnsupportedRequest(f"trailing offset must be positive, got {offset}")
        if order.trailing_offset_type is TrailingOffsetType.PERCENT:
            return TrailingStopOrderRequest(
                **common, trail_percent=exact_float(offset, "trail percent")
            )
        return TrailingStopOrderRequest(**common, trail_price=exact_float(offset, "trail price"))
    raise UnsupportedRequest(f"order type {kind.value} is not native on Alpaca")


def _required(value: Decimal | None, what: str, kind: OrderType) -> Decimal:
    if value is None:
        raise UnsupportedRequest(f"a {kind.value} order needs a {what}")
    return value


# Client order IDs across replacements ------------------------------------------------

_REPLACEMENT = re.compile(r"^(?P<root>.+)~r(?P<n>[1-9]\d*)$")


def replacement_client_order_id(root: ClientOrderId, number: int) -> str:
    """Return the client order ID of the ``number``-th replacement of order ``root``.

    Alpaca's replace (PATCH) creates a new order, and a client order ID may never be
    reused on an account, so each replacement gets a derived, deterministic ID.
    """
    derived = f"{root}~r{number}"
    if len(derived) > MAX_CLIENT_ORDER_ID:
        raise UnsupportedRequest(
            f"client order ID {root!r} is too long to derive a replacement ID from"
        )
    return derived


def root_client_order_id(client_order_id: str) -> ClientOrderId:
    """Return the engine's client order ID behind a (possibly derived) venue ID."""
    match = _REPLACEMENT.match(client_order_id)
    return ClientOrderId(match.group("root") if match else client_order_id)


# Orders -------------------------------------------------------------------------------

_ORDER_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing_stop": OrderType.TRAILING_STOP,
}
_SIDES = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
_FINAL = {
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
_WORKING = frozenset(
    {
        # The order is (or may again be) working: the status follows its fills.
        "new",
        "accepted",
        "accepted_for_bidding",
        "partially_filled",
        "done_for_day",  # works again the next trading day
        "pending_cancel",  # still working until the cancel is confirmed
        "pending_replace",
        "pending_review",
        "held",  # a bracket leg waiting for its parent
        "stopped",  # a trade is guaranteed, not yet reported
        "suspended",
        "calculated",  # done for the day, settlement calculations pending
        "replaced",  # followed to its replacement by the adapter; alone it still worked
    }
)
KNOWN_STATUSES = frozenset({"pending_new", *_FINAL, *_WORKING})


@dataclass(frozen=True, slots=True)
class AlpacaOrder:
    """One Alpaca order, read and checked."""

    id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    status: str
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    replaced_by: str | None
    replaces: str | None
    updated_ns: int
    created_ns: int


def read_order(raw: object) -> AlpacaOrder:
    """Read an order object of the trading API (REST or trade_updates)."""
    obj = as_mapping(raw, "order")
    status = text(obj, "status")
    if status not in KNOWN_STATUSES:
        raise MalformedPayload(f"unknown Alpaca order status {status!r}")
    kind_text = optional_text(obj, "type") or text(obj, "order_type")
    kind = _ORDER_TYPES.get(kind_text)
    if kind is None:
        raise MalformedPayload(f"unknown Alpaca order type {kind_text!r}")
    side = _SIDES.get(text(obj, "side"))
    if side is None:
        raise MalformedPayload(f"unknown Alpaca order side {obj.get('side')!r}")
    quantity = decimal_field(obj, "qty", positive=True)
    filled = decimal_field(obj, "filled_qty", non_negative=True)
    if filled > quantity:
        raise MalformedPayload(f"filled_qty {filled} exceeds qty {quantity}")
    average = optional_decimal(obj, "filled_avg_price", non_negative=True)
    if filled == 0 or average == 0:
        average = None if filled == 0 else average
    if filled > 0 and average is None:
        raise MalformedPayload(f"order {obj.get('id')!r} has fills but no filled_avg_price")
    updated = obj.get("updated_at") or obj.get("submitted_at") or obj.get("created_at")
    return AlpacaOrder(
        id=text(obj, "id"),
        client_order_id=text(obj, "client_order_id"),
        symbol=text(obj, "symbol"),
        side=side,
        order_type=kind,
        status=status,
        quantity=quantity,
        filled_quantity=filled,
        average_price=average,
        limit_price=optional_decimal(obj, "limit_price", positive=True),
        stop_price=optional_decimal(obj, "stop_price", positive=True),
        replaced_by=optional_text(obj, "replaced_by"),
        replaces=optional_text(obj, "replaces"),
        updated_ns=timestamp_field({"updated_at": updated}, "updated_at"),
        created_ns=timestamp_field({"created_at": obj.get("created_at") or updated}, "created_at"),
    )


def read_orders(raw: object) -> list[AlpacaOrder]:
    """Read a JSON array of orders."""
    if not isinstance(raw, list):
        raise MalformedPayload(f"an order list must be a JSON array, got {type(raw).__name__}")
    return [read_order(item) for item in raw]


def order_state(
    chain: Sequence[AlpacaOrder], client_order_id: ClientOrderId, instrument_id: InstrumentId
) -> VenueOrderState:
    """Return the state of one engine order from its chain of Alpaca orders.

    ``chain`` starts with the order placed under ``client_order_id`` and continues with
    each replacement; earlier links are closed ("replaced") and keep their own fills.
    """
    current = chain[-1]
    earlier_filled = sum((link.filled_quantity for link in chain[:-1]), ZERO)
    filled = earlier_filled + current.filled_quantity
    quantity = earlier_filled + current.quantity
    notional = sum(
        (link.filled_quantity * link.average_price for link in chain if link.average_price),
        ZERO,
    )
    average = notional / filled if filled > 0 else None
    status = _status(current.status, filled, quantity)
    return VenueOrderState(
        client_order_id=client_order_id,
        venue_order_id=VenueOrderId(current.id),
        instrument_id=instrument_id,
        side=current.side,
        order_type=current.order_type,
        status=status,
        quantity=quantity,
        filled_quantity=filled,
        average_price=average,
        price=current.limit_price,
        trigger_price=current.stop_price,
        reason=f"alpaca status {current.status}" if status.is_closed else None,
        ts=current.updated_ns,
    )


def _status(status: str, filled: Decimal, quantity: Decimal) -> OrderStatus:
    final = _FINAL.get(status)
    if final is not None:
        return final
    if status == "pending_new":
        return OrderStatus.SUBMITTED
    if filled <= 0:
        return OrderStatus.ACCEPTED
    return OrderStatus.FILLED if filled >= quantity else OrderStatus.PARTIALLY_FILLED


# Fills --------------------------------------------------------------------------------


def trade_id(order_id: str, cumulative_quantity: Decimal) -> TradeId:
    """Return the trade ID of the execution that brought an order to ``cumulative_quantity``.

    The stream's ``execution_id`` and the activity ``id`` name the same execution
    differently, so neither can deduplicate across the two sources. The pair (order ID,
    cumulative filled quantity) is in both, and is unique per execution of an order.
    """
    return TradeId(f"{order_id}:{decimal_text(cumulative_quantity)}")


@dataclass(frozen=True, slots=True)
class AlpacaExecution:
    """One execution, from an account activity or a trade_updates fill event."""

    order_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    cumulative_quantity: Decimal
    ts: int


def read_activity(raw: object) -> AlpacaExecution:
    """Read one FILL account activity."""
    obj = as_mapping(raw, "account activity")
    if text(obj, "activity_type") != "FILL":
        raise MalformedPayload(f"expected a FILL activity, got {obj.get('activity_type')!r}")
    side = _SIDES.get(text(obj, "side"))
    if side is None:
        raise MalformedPayload(f"unknown fill side {obj.get('side')!r}")
    quantity = decimal_field(obj, "qty", positive=True)
    cumulative = decimal_field(obj, "cum_qty", positive=True)
    if cumulative < quantity:
        raise MalformedPayload(f"cum_qty {cumulative} is below the fill qty {quantity}")
    return AlpacaExecution(
        order_id=text(obj, "order_id"),
        symbol=text(obj, "symbol"),
        side=side,
        quantity=quantity,
        price=decimal_field(obj, "price", positive=True),
        cumulative_quantity=cumulative,
        ts=timestamp_field(obj, "transaction_time"),
    )


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One message of the trade_updates stream."""

    event: str
    order: AlpacaOrder
    execution: AlpacaExecution | None
    ts: int


FILL_EVENTS = frozenset({"fill", "partial_fill"})


def read_trade_update(raw: object) -> TradeUpdate:
    """Read the ``data`` of a trade_updates message."""
    obj = as_mapping(raw, "trade update")
    event = text(obj, "event")
    order = read_order(obj.get("order"))
    ts = timestamp_field(obj, "timestamp")
    execution = None
    if event in FILL_EVENTS:
        execution = AlpacaExecution(
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            quantity=decimal_field(obj, "qty", positive=True),
            price=decimal_field(obj, "price", positive=True),
            cumulative_quantity=order.filled_quantity,
            ts=ts,
        )
        if execution.cumulative_quantity < execution.quantity:
            raise MalformedPayload(
                f"order filled_qty {order.filled_quantity} is below the fill qty "
                f"{execution.quantity}"
            )
    return TradeUpdate(event=event, order=order, execution=execution, ts=ts)


def venue_fill(
    execution: AlpacaExecution,
    client_order_id: ClientOrderId | None,
    instrument_id: InstrumentId,
) -> VenueFill:
    """Return the domain fill for one execution (Alpaca charges no equity commission)."""
    return VenueFill(
        trade_id=trade_id(execution.order_id, execution.cumulative_quantity),
        client_order_id=client_order_id,
        venue_order_id=VenueOrderId(execution.order_id),
        instrument_id=instrument_id,
        side=execution.side,
        quantity=execution.quantity,
        price=execution.price,
        fee=ZERO,
        fee_currency=USD,
        # Alpaca does not report maker or taker; its equity trading is commission-free.
        liquidity=LiquiditySide.TAKER,
        ts=execution.ts,
    )


# Market data --------------------------------------------------------------------------


def quote_tick(raw: object, instrument_id: InstrumentId) -> QuoteTick:
    """Read a stock quote (``bp``/``bs``/``ap``/``as``/``t``) of the market data API."""
    obj = as_mapping(raw, "quote")
    bid = decimal_field(obj, "bp", non_negative=True)
    ask = decimal_field(obj, "ap", non_negative=True)
    if bid > 0 and ask > 0 and bid > ask:
        raise MalformedPayload(f"quote bid {bid} is above the ask {ask}")
    return QuoteTick(
        instrument_id,
        bid,
        ask,
        decimal_field(obj, "bs", non_negative=True),
        decimal_field(obj, "as", non_negative=True),
        timestamp_field(obj, "t"),
    )


def trade_bar(raw: object, instrument_id: InstrumentId, interval_ns: int) -> TradeBar:
    """Read a bar (``o``/``h``/``l``/``c``/``v``/``t``) of the market data API."""
    obj = as_mapping(raw, "bar")
    bar = TradeBar(
        instrument_id,
        decimal_field(obj, "o", positive=True),
        decimal_field(obj, "h", positive=True),
        decimal_field(obj, "l", positive=True),
        decimal_field(obj, "c", positive=True),
        decimal_field(obj, "v", non_negative=True),
        timestamp_field(obj, "t"),
        interval_ns,
    )
    if not bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high:
        raise MalformedPayload(f"bar at {obj.get('t')!r} has inconsistent OHLC")
    return bar


def timeframe(interval_s: int) -> TimeFrame:
    """Return the Alpaca bar timeframe for an interval in seconds, or raise."""
    if interval_s > 0 and interval_s % 60 == 0:
        minutes = interval_s // 60
        if minutes < 60:
            return TimeFrame(minutes, TimeFrameUnit.Minute)
        if minutes % 60 == 0 and minutes // 60 < 24:
            return TimeFrame(minutes // 60, TimeFrameUnit.Hour)
        if minutes == 24 * 60:
            return TimeFrame(1, TimeFrameUnit.Day)
        if minutes == 7 * 24 * 60:
            return TimeFrame(1, TimeFrameUnit.Week)
    raise UnsupportedRequest(
        f"bar interval {interval_s}s is not an Alpaca timeframe (1-59 min, 1-23 h, 1 day, 1 week)"
    )


def symbol_quotes(raw: object, symbol: str) -> Mapping[str, Any]:
    """Return the quote of ``symbol`` from a latest-quotes response."""
    quotes = as_mapping(raw, "latest quotes")
    if symbol not in quotes:
        raise MalformedPayload(f"the latest quotes do not include {symbol!r}")
    return as_mapping(quotes[symbol], f"quote of {symbol}")
