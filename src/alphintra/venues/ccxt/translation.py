"""Domain values to ccxt requests, and ccxt's unified structures back to domain values.

Every number that comes back is checked: finite, not negative where it must not be,
a fill never larger than its order. A value ccxt hands over as a float is read
through its shortest repr (``Decimal(repr(x))``), which gives back the exact decimal
the venue sent for up to 15 significant digits; ccxt computes derived values (cost,
average) with its own string arithmetic before converting. Anything unreadable raises
``TranslationError``; the adapter turns it into a ``VenueError``, never a crash.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.venues.adapter import VenueBalance, VenueFill, VenueOrderState, VenuePosition
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.ccxt.client_ids import ClientIdCodec
from alphintra.venues.ccxt.config import MarketType
from alphintra.venues.ccxt.profiles import ExchangeProfile

Json = dict[str, Any]
_MS = 1_000_000
ZERO = Decimal(0)


class TranslationError(ValueError):
    """The venue's answer does not make sense (unknown enum, negative fill, missing field)."""


class Unsupported(ValueError):
    """The request cannot be expressed on this venue; nothing was sent."""


def now_ns() -> int:
    """Return the wall-clock time in nanoseconds."""
    return time.time_ns()


# Numbers ------------------------------------------------------------------------------


def number(value: Any, what: str, *, required: bool = True) -> Decimal | None:
    """Return ``value`` as an exact Decimal, None when absent and optional, or raise."""
    if value is None or value == "":
        if required:
            raise TranslationError(f"{what} is missing")
        return None
    if isinstance(value, bool):
        raise TranslationError(f"{what} must be a number, got the boolean {value!r}")
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, str):
            result = Decimal(value.strip())
        else:
            raise TranslationError(f"{what} must be a number, got {type(value).__name__}")
    except InvalidOperation:
        raise TranslationError(f"{what} must be a decimal number, got {value!r}") from None
    if not result.is_finite():
        raise TranslationError(f"{what} must be finite, got {value!r}")
    return result


def non_negative(value: Any, what: str) -> Decimal:
    """Return a required number that must not be negative."""
    result = number(value, what)
    assert result is not None
    if result < 0:
        raise TranslationError(f"{what} must not be negative, got {result}")
    return result


def positive(value: Any, what: str) -> Decimal:
    """Return a required number that must be above zero."""
    result = non_negative(value, what)
    if result == 0:
        raise TranslationError(f"{what} must be above zero, got {result}")
    return result


def optional_positive(value: Any, what: str) -> Decimal | None:
    """Return a positive number, or None when absent or zero (ccxt's "no price")."""
    result = number(value, what, required=False)
    if result is None or result == 0:
        return None
    if result < 0:
        raise TranslationError(f"{what} must not be negative, got {result}")
    return result


def ms_to_ns(value: Any, what: str, *, default: int | None = None) -> int:
    """Return a millisecond timestamp as integer nanoseconds."""
    if value is None:
        if default is None:
            raise TranslationError(f"{what} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranslationError(f"{what} must be a millisecond timestamp, got {value!r}")
    if value < 0:
        raise TranslationError(f"{what} must not be negative, got {value!r}")
    return int(Decimal(repr(value)) * _MS)


def plain(value: Decimal) -> str:
    """Return a Decimal as a plain string (no exponent), as venues expect."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Symbols ------------------------------------------------------------------------------


class SymbolMap:
    """Our instrument ids (``BTCUSDT``) to ccxt unified symbols (``BTC/USDT``) and back.

    A market out of trading (ccxt ``active: False``: Binance BREAK or HALT) is not an
    instrument to trade, but orders and fills on it are still read: it is mapped back,
    and ``to_ccxt(..., inactive_ok=True)`` names it for reads and cancels.
    """

    def __init__(
        self,
        markets: Mapping[str, Mapping[str, Any]],
        market_type: MarketType,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._to_ccxt: dict[InstrumentId, str] = {}
        self._inactive: dict[InstrumentId, str] = {}
        self._to_ours: dict[str, InstrumentId] = {}
        self.quote_currency: dict[str, str] = {}
        for symbol, market in markets.items():
            if not _is_type(market, market_type):
                continue
            base, quote = market.get("base"), market.get("quote")
            if not isinstance(base, str) or not isinstance(quote, str):
                continue
            ours = InstrumentId(f"{base}{quote}".upper())
            tradeable = market.get("active") is not False
            (self._to_ccxt if tradeable else self._inactive).setdefault(ours, symbol)
            self._to_ours[symbol] = ours
            self.quote_currency[symbol] = quote
        for ours_text, symbol in (overrides or {}).items():
            self._to_ccxt[InstrumentId(ours_text)] = symbol
            self._to_ours[symbol] = InstrumentId(ours_text)

    def to_ccxt(self, instrument_id: InstrumentId, *, inactive_ok: bool = False) -> str:
        """Return the ccxt symbol for one of our instruments, or raise Unsupported.

        With ``inactive_ok`` a market out of trading is named too (to read or cancel)."""
        key = InstrumentId(instrument_id.upper())
        symbol = self._to_ccxt.get(key)
        if symbol is None and inactive_ok:
            symbol = self._inactive.get(key)
        if symbol is None:
            raise Unsupported(
                f"instrument {instrument_id} is not listed by the venue (no matching market)"
            )
        return symbol

    def readable(self, instrument_id: InstrumentId) -> bool:
        """Return True when the venue lists the instrument, in trading or not."""
        key = InstrumentId(instrument_id.upper())
        return key in self._to_ccxt or key in self._inactive

    def to_instrument(self, symbol: Any, fallback: InstrumentId | None = None) -> InstrumentId:
        """Return our instrument id for a ccxt symbol."""
        if isinstance(symbol, str) and symbol in self._to_ours:
            return self._to_ours[symbol]
        if fallback is not None:
            return fallback
        raise TranslationError(f"symbol {symbol!r} is not a market the adapter knows")

    def __contains__(self, instrument_id: object) -> bool:
        return isinstance(instrument_id, str) and instrument_id.upper() in self._to_ccxt


def _is_type(market: Mapping[str, Any], market_type: MarketType) -> bool:
    if market_type is MarketType.SPOT:
        return market.get("spot") is True
    return market.get("swap") is True and market.get("linear") is not False


# Requests -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One ccxt ``create_order`` call."""

    symbol: str
    type_: str
    side: str
    amount: str
    price: str | None
    params: Json


_LIMIT_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.ICEBERG})


def build_order_request(
    order: OrderInitialized,
    symbol: str,
    wire_client_id: str,
    capabilities: VenueCapabilities,
    profile: ExchangeProfile,
) -> OrderRequest:
    """Return the ccxt call for ``order``, or raise Unsupported (nothing is sent)."""
    kind = order.order_type
    if kind not in capabilities.order_types:
        raise Unsupported(
            f"order type {kind.value} is not native on {profile.exchange_id}; "
            f"native: {sorted(t.value for t in capabilities.order_types)}"
        )
    price = order.price
    trigger = order.trigger_price
    params: Json = {"clientOrderId": wire_client_id}
    limit_priced = kind in _LIMIT_PRICED or (kind is OrderType.TAKE_PROFIT and price is not None)
    if kind in _LIMIT_PRICED and price is None:
        raise Unsupported(f"a {kind.value} order needs a limit price")
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT) and trigger is None:
        raise Unsupported(f"a {kind.value} order needs a trigger price")
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        params["stopLossPrice"] = plain(trigger) if trigger is not None else None
    elif kind is OrderType.TAKE_PROFIT:
        params["takeProfitPrice"] = plain(trigger) if trigger is not None else None
    if kind is OrderType.ICEBERG:
        if order.display_quantity is None:
            raise Unsupported("an ICEBERG order needs a display quantity")
        params["icebergAmount"] = plain(order.display_quantity)
    tif = order.time_in_force
    if tif not in capabilities.times_in_force:
        raise Unsupported(
            f"time in force {tif.value} is not supported on {profile.exchange_id}; "
            f"supported: {sorted(t.value for t in capabilities.times_in_force)}"
        )
    if order.post_only:
        if not capabilities.supports_post_only or not limit_priced:
            raise Unsupported("post-only needs a limit-priced order on a venue that has it")
        if tif not in (TimeInForce.GTC, TimeInForce.GTD):
            raise Unsupported(f"post-only contradicts time in force {tif.value}")
        params["postOnly"] = True
    if limit_priced and (not order.post_only or profile.post_only_sends_tif):
        params["timeInForce"] = tif.value
    elif not limit_priced and tif not in (TimeInForce.GTC, TimeInForce.IOC):
        raise Unsupported(f"time in force {tif.value} needs a limit-priced order")
    if tif is TimeInForce.GTD:
        if order.expire_ts is None or profile.gtd_expiry_param is None:
            raise Unsupported("a GTD order needs expire_ts and a venue expiry parameter")
        params[profile.gtd_expiry_param] = str(order.expire_ts // profile.gtd_expiry_unit_ns)
    if order.reduce_only:
        if not capabilities.supports_reduce_only:
            raise Unsupported(f"reduce-only is not supported on {profile.exchange_id} here")
        params["reduceOnly"] = True
    return OrderRequest(
        symbol=symbol,
        type_="limit" if limit_priced else "market",
        side="buy" if order.side is OrderSide.BUY else "sell",
        amount=plain(order.quantity),
        price=plain(price) if limit_priced and price is not None else None,
        params=params,
    )


# Orders -------------------------------------------------------------------------------

_SIDES = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
# Binance's PENDING_NEW (the pending order of an order list, listed by openOrders until
# the list's working order fills) has no ccxt mapping and arrives as is.
_OPEN = frozenset({"open", "canceling", "cancelling", "pending", "new", "pending_new"})


def has_order_state(order: Mapping[str, Any]) -> bool:
    """Return True when ccxt's order has what a VenueOrderState needs."""
    return (
        bool(order.get("id"))
        and order.get("status") is not None
        and (order.get("amount") is not None)
    )


def _order_type(order: Mapping[str, Any]) -> OrderType:
    raw = order.get("type")
    if not isinstance(raw, str):
        raise TranslationError(f"order type must be a string, got {raw!r}")
    kind = raw.lower()
    take_profit = order.get("takeProfitPrice") not in (None, 0, "")
    stop = order.get("triggerPrice") not in (None, 0, "") or order.get("stopLossPrice") not in (
        None,
        0,
        "",
    )
    if kind == "market":
        if take_profit:
            return OrderType.TAKE_PROFIT
        return OrderType.STOP if stop else OrderType.MARKET
    if kind in ("limit", "limit_maker"):
        if take_profit:
            return OrderType.TAKE_PROFIT
        return OrderType.STOP_LIMIT if stop else OrderType.LIMIT
    named = {
        "stop_loss": OrderType.STOP,
        "stop-loss": OrderType.STOP,
        "stop_market": OrderType.STOP,
        "stop_loss_limit": OrderType.STOP_LIMIT,
        "stop-loss-limit": OrderType.STOP_LIMIT,
        "take_profit": OrderType.TAKE_PROFIT,
        "take-profit": OrderType.TAKE_PROFIT,
        "take_profit_limit": OrderType.TAKE_PROFIT,
        "take-profit-limit": OrderType.TAKE_PROFIT,
        "take_profit_market": OrderType.TAKE_PROFIT,
        "trailing-stop": OrderType.TRAILING_STOP,  # Kraken
        "trailing_stop": OrderType.TRAILING_STOP,
        "trailing_stop_market": OrderType.TRAILING_STOP,  # Binance futures
    }
    if kind in named:
        return named[kind]
    raise TranslationError(f"unknown order type {raw!r}")


def _status(raw: Any, filled: Decimal, amount: Decimal) -> OrderStatus:
    if not isinstance(raw, str):
        raise TranslationError(f"order status must be a string, got {raw!r}")
    status = raw.lower()
    if status in _OPEN:
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED
    if status == "closed":
        # ccxt's "closed" is "done": fully filled, or (IOC and friends) done early.
        return OrderStatus.FILLED if filled >= amount else OrderStatus.CANCELLED
    if status in ("canceled", "cancelled"):
        return OrderStatus.CANCELLED
    if status == "expired":
        return OrderStatus.EXPIRED
    if status == "rejected":
        return OrderStatus.REJECTED
    raise TranslationError(f"unknown order status {raw!r}")


def order_state(
    order: Mapping[str, Any],
    *,
    symbols: SymbolMap,
    codec: ClientIdCodec,
    client_order_id: ClientOrderId | None = None,
    instrument_id: InstrumentId | None = None,
) -> VenueOrderState:
    """Return the VenueOrderState for ccxt's order structure, or raise TranslationError."""
    venue_order_id = order.get("id")
    if not isinstance(venue_order_id, str | int) or venue_order_id in ("", None):
        raise TranslationError(f"order id is missing or malformed: {venue_order_id!r}")
    vid = VenueOrderId(str(venue_order_id))
    cid = client_order_id or codec.ours(_client_id(order))
    if cid is None:
        cid = codec.by_venue_order(vid)
    if cid is None:  # placed outside the engine without a client ID: name it by the venue's
        cid = ClientOrderId(f"venue-{vid}")
    side = _SIDES.get(str(order.get("side")).lower())
    if side is None:
        raise TranslationError(f"unknown order side {order.get('side')!r}")
    amount = positive(order.get("amount"), "order amount")
    filled = non_negative(order.get("filled") if order.get("filled") is not None else 0, "filled")
    if filled > amount:
        raise TranslationError(f"filled {filled} exceeds the order amount {amount}")
    status = _status(order.get("status"), filled, amount)
    average = _derived(order.get("average"), "average price")
    if average is None and filled > 0:
        cost = _derived(order.get("cost"), "order cost")
        average = cost / filled if cost is not None else None
    kind = _order_type(order)
    trigger = optional_positive(
        order.get("triggerPrice") or order.get("stopLossPrice") or order.get("takeProfitPrice"),
        "trigger price",
    )
    price = optional_positive(order.get("price"), "order price")
    if kind in (OrderType.MARKET, OrderType.STOP, OrderType.TRAILING_STOP):
        price = None
    ts_ms = order.get("lastUpdateTimestamp") or order.get("timestamp")
    codec.link(vid, cid)
    return VenueOrderState(
        client_order_id=cid,
        venue_order_id=vid,
        instrument_id=symbols.to_instrument(order.get("symbol"), instrument_id),
        side=side,
        order_type=kind,
        status=status,
        quantity=amount,
        filled_quantity=filled,
        average_price=average,
        price=price,
        trigger_price=trigger,
        reason=_text(order.get("reason")),
        ts=ms_to_ns(ts_ms, "order timestamp", default=now_ns()),
    )


def _derived(value: Any, what: str) -> Decimal | None:
    """Return a derived figure (cost, average), or None when the venue has none.

    Binance answers ``cummulativeQuoteQty`` below zero for historical orders whose
    figure "is not available"; ccxt turns it into a negative cost and average."""
    result = number(value, what, required=False)
    return result if result is not None and result > 0 else None


def _client_id(order: Mapping[str, Any]) -> str | None:
    """Return the order's client order ID, not Kraken's ``userref`` standing in for it.

    ccxt falls back to ``userref`` (an int32, 0 unless set) where Kraken's ``cl_ord_id``
    is absent; it names no order (``client_ids.py``), so such an order has none."""
    wire = _text(order.get("clientOrderId"))
    info = order.get("info")
    if (
        wire is not None
        and isinstance(info, Mapping)
        and not info.get("cl_ord_id")
        and "userref" in info
        and _text(info.get("userref")) == wire
    ):
        return None
    return wire


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# Fills, quotes, bars, balances ----------------------------------------------------------


def fill(trade: Mapping[str, Any], *, symbols: SymbolMap, codec: ClientIdCodec) -> VenueFill:
    """Return the VenueFill for ccxt's trade structure, or raise TranslationError."""
    trade_id = _text(trade.get("id"))
    order_id = _text(trade.get("order"))
    if trade_id is None or order_id is None:
        raise TranslationError(f"trade id or order id missing: {trade.get('id')!r}")
    side = _SIDES.get(str(trade.get("side")).lower())
    if side is None:
        raise TranslationError(f"unknown trade side {trade.get('side')!r}")
    symbol = trade.get("symbol")
    fee = trade.get("fee") if isinstance(trade.get("fee"), dict) else {}
    assert isinstance(fee, dict)
    fee_cost = number(fee.get("cost"), "fee", required=False) or ZERO
    fee_currency = _text(fee.get("currency")) or symbols.quote_currency.get(str(symbol), "")
    maker = str(trade.get("takerOrMaker") or "taker").lower()
    if maker not in ("maker", "taker"):
        raise TranslationError(f"unknown liquidity side {trade.get('takerOrMaker')!r}")
    vid = VenueOrderId(order_id)
    wire = _text(trade.get("clientOrderId"))
    return VenueFill(
        trade_id=TradeId(trade_id),
        client_order_id=codec.ours(wire) if wire else codec.by_venue_order(vid),
        venue_order_id=vid,
        instrument_id=symbols.to_instrument(symbol),
        side=side,
        quantity=positive(trade.get("amount"), "trade amount"),
        price=positive(trade.get("price"), "trade price"),
        fee=fee_cost,
        fee_currency=fee_currency,
        liquidity=LiquiditySide.MAKER if maker == "maker" else LiquiditySide.TAKER,
        ts=ms_to_ns(trade.get("timestamp"), "trade timestamp"),
    )


def quote_from_ticker(ticker: Mapping[str, Any], instrument_id: InstrumentId) -> QuoteTick:
    """Return the best bid and ask of ccxt's ticker."""
    return _quote(
        instrument_id,
        ticker.get("bid"),
        ticker.get("ask"),
        ticker.get("bidVolume"),
        ticker.get("askVolume"),
        ticker.get("timestamp"),
    )


def quote_from_book(book: Mapping[str, Any], instrument_id: InstrumentId) -> QuoteTick:
    """Return the best bid and ask of ccxt's order book."""
    bids, asks = book.get("bids"), book.get("asks")
    if not isinstance(bids, list) or not isinstance(asks, list) or not bids or not asks:
        raise TranslationError(f"the order book of {instrument_id} has an empty side")
    best_bid, best_ask = bids[0], asks[0]
    if not isinstance(best_bid, list) or not isinstance(best_ask, list):
        raise TranslationError("order book levels must be [price, size] lists")
    return _quote(
        instrument_id,
        best_bid[0] if best_bid else None,
        best_ask[0] if best_ask else None,
        best_bid[1] if len(best_bid) > 1 else None,
        best_ask[1] if len(best_ask) > 1 else None,
        book.get("timestamp"),
    )


def _quote(
    instrument_id: InstrumentId, bid: Any, ask: Any, bid_size: Any, ask_size: Any, ts: Any
) -> QuoteTick:
    bid_d = positive(bid, "bid")
    ask_d = positive(ask, "ask")
    if bid_d > ask_d:
        raise TranslationError(f"crossed quote for {instrument_id}: bid {bid_d} > ask {ask_d}")
    return QuoteTick(
        instrument_id,
        bid_d,
        ask_d,
        non_negative(bid_size if bid_size is not None else 0, "bid size"),
        non_negative(ask_size if ask_size is not None else 0, "ask size"),
        ms_to_ns(ts, "quote timestamp", default=now_ns()),
    )


def bar(row: list[Any], instrument_id: InstrumentId, interval_ns: int) -> TradeBar:
    """Return one OHLCV row as a TradeBar."""
    if len(row) < 6:
        raise TranslationError(f"an OHLCV row needs 6 fields, got {row!r}")
    open_, high, low, close = (positive(v, n) for v, n in zip(row[1:5], "ohlc", strict=True))
    if high < max(open_, close, low) or low > min(open_, close):
        raise TranslationError(f"inconsistent bar {row!r}")
    return TradeBar(
        instrument_id,
        open_,
        high,
        low,
        close,
        non_negative(row[5] if row[5] is not None else 0, "bar volume"),
        ms_to_ns(row[0], "bar timestamp"),
        interval_ns,
    )


def balances(balance: Mapping[str, Any]) -> tuple[VenueBalance, ...]:
    """Return the non-zero balances of ccxt's balance structure."""
    totals = balance.get("total")
    frees = balance.get("free")
    if not isinstance(totals, dict):
        raise TranslationError("the balance has no 'total' mapping")
    free_map: Mapping[str, Any] = frees if isinstance(frees, dict) else {}
    result = []
    for currency, total_raw in sorted(totals.items()):
        total = number(total_raw, f"{currency} balance", required=False)
        if total is None or total == 0:
            continue
        available = number(free_map.get(currency), f"{currency} available", required=False)
        result.append(
            VenueBalance(str(currency), total, available if available is not None else total)
        )
    return tuple(result)


def positions(items: Iterable[Mapping[str, Any]], symbols: SymbolMap) -> tuple[VenuePosition, ...]:
    """Return ccxt positions as signed VenuePositions (zero positions are dropped)."""
    result = []
    for item in items:
        contracts = number(item.get("contracts"), "position contracts", required=False)
        if contracts is None or contracts == 0:
            continue
        size = contracts * (number(item.get("contractSize"), "contract size", required=False) or 1)
        side = str(item.get("side") or "long").lower()
        if side not in ("long", "short"):
            raise TranslationError(f"unknown position side {item.get('side')!r}")
        result.append(
            VenuePosition(
                symbols.to_instrument(item.get("symbol")),
                size if side == "long" else -size,
                optional_positive(item.get("entryPrice"), "entry price"),
            )
        )
    return tuple(result)


def timeframe(interval_s: int, available: Mapping[str, Any]) -> str:
    """Return the ccxt timeframe string for a bar interval the exchange serves."""
    units = (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
    for suffix, size in units:
        if interval_s % size == 0:
            name = f"{interval_s // size}{suffix}"
            if name in available:
                return name
    raise Unsupported(f"bar interval {interval_s}s is not served; available: {sorted(available)}")
