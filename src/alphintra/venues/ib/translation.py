"""Pure translation between domain values and ib_async objects (contracts, orders, fills).

Contracts
---------
``contract_for`` maps an ``Instrument`` to the IB contract it trades as:

==============================  ==============================================================
instrument                      IB contract
==============================  ==============================================================
EQUITY STOCK or ETF             ``Stock(symbol, 'SMART', quote)``; ``venue_symbol`` may be
                                ``SYMBOL@PRIMARY`` (``SAP@IBIS``) to settle SMART ambiguity
EQUITY CFD                      ``CFD(symbol, 'SMART', quote)`` (IB share CFDs)
FX SPOT                         ``Forex('EURUSD')``: secType CASH on IDEALPRO
FX CFD                          ``CFD(base, 'SMART', quote)`` (IB forex CFDs)
COMMODITY, base XAU or XAG      ``Commodity('XAUUSD', 'SMART', 'USD')``: IB's spot metal (CMDTY),
                                whatever the instrument's kind (the default registry calls
                                XAUUSD a CFD, after OANDA; IB trades spot gold as CMDTY)
INDEX CFD                       ``CFD('IBDE40', 'SMART', 'EUR')`` via ``INDEX_CFD_SYMBOLS``; a
                                ``venue_symbol`` that already is an IB symbol is used as is
any FUTURE                      ``Future``: ``venue_symbol`` is ``ROOT@EXCHANGE:YYYYMM[DD]``
                                (``ES@CME:202512``) or ``LOCALSYMBOL@EXCHANGE`` (``ESZ5@CME``);
                                multiplier from the instrument, currency from its quote
CRYPTO SPOT, quote USD          ``Crypto(base, 'PAXOS', 'USD')``
anything else                   ``IbTranslationError`` (energy CFDs, for example: IB lists no
                                oil or gas CFDs; define the future instead)
==============================  ==============================================================

Orders
------
``order_for`` maps ``OrderInitialized`` to an ib_async ``Order``: MARKET→MKT, LIMIT→LMT,
STOP→STP (``auxPrice`` = stop), STOP_LIMIT→STP LMT, TAKE_PROFIT→MIT, or LIT when a limit
price is set, TRAILING_STOP→TRAIL (``auxPrice`` = amount or ``trailingPercent``,
``trailStopPrice`` = initial stop) or TRAIL LIMIT, ICEBERG→LMT with ``displaySize``.
Each is an ``ib_async.Order`` with IB's order type string, as ``MarketOrder``,
``LimitOrder``, ``StopOrder`` and ``StopLimitOrder`` build it, so that prices can stay
``Decimal``. ``orderRef`` carries the client order ID; that is how every later message
is matched to the order, in this session or after a restart.
TIF: DAY, GTC, IOC, GTD (``goodTillDate`` in UTC) and FOK (IB accepts FOK only for some
products and destinations and rejects it elsewhere with a definitive error). OCO members
share an ``ocaGroup`` (the order list ID) with ``ocaType`` 1, cancel-with-block.

Numbers
-------
Quantities and prices go to ib_async as ``Decimal``: the TWS protocol is text, so the
digits travel exactly. ib_async decodes incoming numbers to ``float``; ``decimal_from_ib``
turns them back through ``repr``, which recovers the decimal text TWS sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from ib_async import (
    CFD,
    BarData,
    Commodity,
    Contract,
    Crypto,
    Fill,
    Forex,
    Future,
    Order,
    Stock,
    Ticker,
)
from ib_async.util import UNSET_DOUBLE, UNSET_INTEGER

from alphintra.domain.enums import (
    AssetClass,
    ContingencyType,
    InstrumentKind,
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.domain.values import ZERO
from alphintra.venues.adapter import VenueFill, VenueOrderState


class IbTranslationError(ValueError):
    """A domain value has no IB equivalent (nothing was sent)."""


# ----------------------------------------------------------------------------- numbers


def decimal_from_ib(value: float | Decimal | str | None) -> Decimal | None:
    """Return an exact Decimal for a number ib_async decoded, or None when IB left it unset."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return Decimal(value)
    if not math.isfinite(value) or value == UNSET_DOUBLE:
        return None
    return Decimal(repr(value))


def wire_decimal(value: Decimal) -> Decimal:
    """Return ``value`` without an exponent, so that ``str`` prints plain digits."""
    return Decimal(format(value.normalize(), "f"))


def ib_quantity(value: Decimal) -> float:
    """Return a quantity for ``Order.totalQuantity``: a Decimal typed as ib_async wants.

    ib_async annotates totalQuantity as float but sends every field as text, so a
    Decimal keeps the exact digits (principle 1: money is never a float).
    """
    return cast(float, wire_decimal(value))


def ns_from_datetime(moment: datetime) -> int:
    """Return integer nanoseconds since the epoch (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def datetime_from_ns(ts_ns: int) -> datetime:
    """Return the UTC datetime of integer nanoseconds since the epoch (microsecond precision)."""
    return datetime.fromtimestamp(ts_ns // 1_000 / 1_000_000, tz=UTC)


def ib_utc_time(ts_ns: int) -> str:
    """Format a timestamp as IB's ``yyyymmdd hh:mm:ss UTC`` (goodTillDate, end times)."""
    return datetime_from_ns(ts_ns).strftime("%Y%m%d %H:%M:%S UTC")


def ib_execution_filter_time(ts_ns: int) -> str:
    """Format a timestamp for ``ExecutionFilter.time``: ``yyyymmdd-hh:mm:ss`` in UTC.

    The filter has whole-second resolution; the adapter filters the answer again by
    nanosecond timestamp, so rounding down only widens the window.
    """
    return datetime_from_ns(ts_ns).strftime("%Y%m%d-%H:%M:%S")


# --------------------------------------------------------------------------- contracts

INDEX_CFD_SYMBOLS: dict[str, str] = {
    "DE40EUR": "IBDE40",
    "DE30EUR": "IBDE40",  # the DAX before its 2021 rename; IB lists one DAX CFD
    "SPX500USD": "IBUS500",
    "NAS100USD": "IBUST100",
    "US30USD": "IBUS30",
    "UK100GBP": "IBGB100",
    "FR40EUR": "IBFR40",
    "EU50EUR": "IBEU50",
}
"""Our index CFD symbols (OANDA style) to IB's index CFD symbols. JP225USD is absent on
purpose: IB's IBJP225 is quoted in JPY, so it needs an instrument definition in JPY."""

SPOT_METALS = frozenset({"XAU", "XAG"})
"""Metals IB trades spot as CMDTY (London gold and silver), against USD."""


@dataclass(frozen=True, slots=True)
class FutureSpec:
    """A futures contract as written in ``venue_symbol``."""

    exchange: str
    symbol: str = ""
    contract_month: str = ""
    local_symbol: str = ""


def parse_future_symbol(venue_symbol: str) -> FutureSpec:
    """Parse ``ROOT@EXCHANGE:YYYYMM[DD]`` or ``LOCALSYMBOL@EXCHANGE``; raise when malformed."""
    name, at, rest = venue_symbol.partition("@")
    exchange, colon, month = rest.partition(":")
    if not at or not name or not exchange:
        raise IbTranslationError(
            f"futures venue_symbol must be ROOT@EXCHANGE:YYYYMM or LOCALSYMBOL@EXCHANGE, "
            f"got {venue_symbol!r}"
        )
    if colon:
        if not (month.isdigit() and len(month) in (6, 8)):
            raise IbTranslationError(
                f"futures contract month must be YYYYMM or YYYYMMDD, got {month!r} "
                f"in {venue_symbol!r}"
            )
        return FutureSpec(exchange=exchange, symbol=name, contract_month=month)
    return FutureSpec(exchange=exchange, local_symbol=name)


def contract_for(instrument: Instrument) -> Contract:
    """Return the IB contract for ``instrument`` (see the module docstring); raise when none."""
    kind, asset = instrument.kind, instrument.asset_class
    quote = instrument.quote_currency
    if kind is InstrumentKind.FUTURE:
        spec = parse_future_symbol(instrument.venue_symbol)
        return Future(
            symbol=spec.symbol,
            lastTradeDateOrContractMonth=spec.contract_month,
            exchange=spec.exchange,
            localSymbol=spec.local_symbol,
            multiplier=format(instrument.multiplier.normalize(), "f"),
            currency=quote,
        )
    if asset is AssetClass.EQUITY and kind in (InstrumentKind.STOCK, InstrumentKind.ETF):
        symbol, _, primary = instrument.venue_symbol.partition("@")
        return Stock(symbol, "SMART", quote, primaryExchange=primary)
    if asset is AssetClass.EQUITY and kind is InstrumentKind.CFD:
        return CFD(instrument.venue_symbol, "SMART", quote)
    if asset is AssetClass.FX and kind is InstrumentKind.SPOT:
        return Forex(symbol=instrument.base_currency, currency=quote)
    if asset is AssetClass.FX and kind is InstrumentKind.CFD:
        return CFD(instrument.base_currency, "SMART", quote)
    if asset is AssetClass.COMMODITY and instrument.base_currency in SPOT_METALS:
        if quote != "USD":
            raise IbTranslationError(
                f"{instrument.id}: IB trades spot {instrument.base_currency} against USD "
                f"only, not {quote}"
            )
        return Commodity(f"{instrument.base_currency}USD", "SMART", "USD")
    if asset is AssetClass.INDEX and kind is InstrumentKind.CFD:
        symbol = INDEX_CFD_SYMBOLS.get(instrument.venue_symbol, instrument.venue_symbol)
        if not symbol.startswith("IB"):
            raise IbTranslationError(
                f"{instrument.id}: no IB index CFD known for {instrument.venue_symbol!r}; "
                f"set venue_symbol to IB's symbol (one of "
                f"{sorted(set(INDEX_CFD_SYMBOLS.values()))}, or IBJP225 in JPY, ...)"
            )
        return CFD(symbol, "SMART", quote)
    if asset is AssetClass.CRYPTO and kind is InstrumentKind.SPOT:
        if quote != "USD":
            raise IbTranslationError(
                f"{instrument.id}: IB trades crypto on PAXOS against USD only, not {quote}"
            )
        return Crypto(instrument.base_currency, "PAXOS", "USD")
    raise IbTranslationError(
        f"{instrument.id}: IB has no contract for a {asset.value} {kind.value} instrument "
        f"(venue_symbol {instrument.venue_symbol!r}); define it as a future or another kind"
    )


ContractKey = tuple[str, ...]


def contract_keys(contract: Contract) -> frozenset[ContractKey]:
    """Return keys under which ``contract`` matches another description of the same product.

    TWS fills in every field when it reports a contract (conId, localSymbol, the
    futures' last trade date), while ``contract_for`` sets only a few, so contracts
    are matched on these keys rather than compared whole.
    """
    sec = contract.secType
    if sec == "FUT":
        keys: set[ContractKey] = set()
        if contract.localSymbol:
            keys.add(("FUT", contract.localSymbol))
        if contract.symbol and contract.lastTradeDateOrContractMonth:
            keys.add(("FUT", contract.symbol, contract.lastTradeDateOrContractMonth[:6]))
        return frozenset(keys)
    return frozenset({(sec, contract.symbol, contract.currency)})


def instrument_id_for_contract(contract: Contract) -> InstrumentId:
    """Return the engine's symbol for a contract TWS reported that matches no known instrument."""
    sec, symbol, currency = contract.secType, contract.symbol, contract.currency
    if sec in ("CASH", "CRYPTO"):
        return InstrumentId(f"{symbol}{currency}")
    if sec == "CFD":
        for ours, theirs in INDEX_CFD_SYMBOLS.items():
            if theirs == symbol and ours.endswith(currency):
                return InstrumentId(ours)
    if sec == "FUT":
        month = contract.lastTradeDateOrContractMonth
        return InstrumentId(contract.localSymbol or f"{symbol}{month}")
    if sec not in _MODELLED_SEC_TYPES:
        # an option, future option, warrant, bond...: not its underlying's symbol
        return InstrumentId(f"{symbol}:{sec}:{contract.conId or contract.localSymbol}")
    return InstrumentId(symbol)


_MODELLED_SEC_TYPES = frozenset({"STK", "CFD", "CMDTY"})
"""Sec types named by their bare symbol (CASH, CRYPTO and FUT are named above)."""


# ------------------------------------------------------------------------------ orders

_TIF = {
    TimeInForce.DAY: "DAY",
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.GTD: "GTD",
    TimeInForce.FOK: "FOK",
}
OCA_CANCEL_WITH_BLOCK = 1


def _action(side: OrderSide) -> str:
    return "BUY" if side is OrderSide.BUY else "SELL"


def _need(value: Decimal | None, what: str, order: OrderInitialized) -> Decimal:
    if value is None:
        raise IbTranslationError(
            f"{order.client_order_id}: a {order.order_type.value} order needs a {what}"
        )
    return wire_decimal(value)


def order_for(order: OrderInitialized, *, account: str = "", outside_rth: bool = False) -> Order:
    """Return the ib_async ``Order`` for ``order``; raise ``IbTranslationError`` if IB has none.

    IB has no reduce-only or post-only flag, so such orders are refused here rather than
    sent without the protection they ask for.
    """
    if order.reduce_only:
        raise IbTranslationError(f"{order.client_order_id}: IB has no reduce-only orders")
    if order.post_only:
        raise IbTranslationError(f"{order.client_order_id}: IB has no post-only orders")
    action, quantity = _action(order.side), ib_quantity(order.quantity)
    kind = order.order_type
    ib = Order(action=action, totalQuantity=quantity)
    if kind is OrderType.MARKET:
        ib.orderType = "MKT"
    elif kind in (OrderType.LIMIT, OrderType.ICEBERG):
        ib.orderType, ib.lmtPrice = "LMT", _need(order.price, "limit price", order)
        if kind is OrderType.ICEBERG:
            display = _need(order.display_quantity, "display quantity", order)
            if display != display.to_integral_value():
                raise IbTranslationError(
                    f"{order.client_order_id}: IB display size must be a whole number, "
                    f"got {display}"
                )
            ib.displaySize = int(display)
    elif kind is OrderType.STOP:
        ib.orderType, ib.auxPrice = "STP", _need(order.trigger_price, "stop price", order)
    elif kind is OrderType.STOP_LIMIT:
        ib.orderType = "STP LMT"
        ib.lmtPrice = _need(order.price, "limit price", order)
        ib.auxPrice = _need(order.trigger_price, "stop price", order)
    elif kind is OrderType.TAKE_PROFIT:
        ib.auxPrice = _need(order.trigger_price, "trigger price", order)
        if order.price is None:
            ib.orderType = "MIT"
        else:
            ib.orderType, ib.lmtPrice = "LIT", wire_decimal(order.price)
    elif kind is OrderType.TRAILING_STOP:
        _trailing(ib, order)
    else:  # pragma: no cover - every OrderType is handled above
        raise IbTranslationError(f"{order.client_order_id}: unsupported order type {kind}")
    ib.orderRef = order.client_order_id
    ib.tif = _TIF[order.time_in_force]
    if order.time_in_force is TimeInForce.GTD:
        if order.expire_ts is None:
            raise IbTranslationError(f"{order.client_order_id}: a GTD order needs expire_ts")
        ib.goodTillDate = ib_utc_time(order.expire_ts)
    if order.contingency is ContingencyType.OCO and order.order_list_id:
        ib.ocaGroup = order.order_list_id
        ib.ocaType = OCA_CANCEL_WITH_BLOCK
    ib.account = account
    ib.outsideRth = outside_rth
    ib.transmit = True
    return ib


def _trailing(ib: Order, order: OrderInitialized) -> None:
    offset = _need(order.trailing_offset, "trailing offset", order)
    ib.orderType = "TRAIL"
    if order.trailing_offset_type is TrailingOffsetType.PERCENT:
        ib.trailingPercent = offset
    else:
        ib.auxPrice = offset
    if order.trigger_price is not None:
        ib.trailStopPrice = wire_decimal(order.trigger_price)
    if order.price is not None:
        if order.trigger_price is None:
            raise IbTranslationError(
                f"{order.client_order_id}: a trailing stop-limit needs the initial stop "
                "(trigger_price) to derive IB's limit offset"
            )
        ib.orderType = "TRAIL LIMIT"
        ib.lmtPriceOffset = wire_decimal(abs(order.trigger_price - order.price))


_ORDER_TYPES = {
    "MKT": OrderType.MARKET,
    "LMT": OrderType.LIMIT,
    "STP": OrderType.STOP,
    "STP LMT": OrderType.STOP_LIMIT,
    "MIT": OrderType.TAKE_PROFIT,
    "LIT": OrderType.TAKE_PROFIT,
    "TRAIL": OrderType.TRAILING_STOP,
    "TRAIL LIMIT": OrderType.TRAILING_STOP,
}


def order_type_from_ib(order: Order) -> OrderType:
    """Return our order type for an IB order (LMT with a display size is an ICEBERG)."""
    kind = _ORDER_TYPES.get(order.orderType)
    if kind is None:
        raise IbTranslationError(f"IB order type {order.orderType!r} has no domain equivalent")
    if kind is OrderType.LIMIT and order.displaySize not in (0, UNSET_INTEGER):
        return OrderType.ICEBERG
    return kind


def side_from_ib(action: str) -> OrderSide:
    """Return the side of an IB order action (BUY, SELL, SSHORT) or execution side (BOT, SLD)."""
    if action in ("BUY", "BOT"):
        return OrderSide.BUY
    if action in ("SELL", "SLD", "SSHORT"):
        return OrderSide.SELL
    raise IbTranslationError(f"IB side {action!r} is neither a buy nor a sell")


# ---------------------------------------------------------------------------- statuses

IB_ORDER_STATUS: dict[str, OrderStatus | None] = {
    "ApiPending": OrderStatus.SUBMITTED,  # held in the API, not transmitted (transmit=False)
    "PendingSubmit": OrderStatus.SUBMITTED,  # sent; no acknowledgement from the destination
    "PreSubmitted": OrderStatus.ACCEPTED,  # accepted by IB, held (simulated stop, outside RTH)
    "Submitted": OrderStatus.ACCEPTED,  # working at the destination
    "ApiUpdate": OrderStatus.ACCEPTED,  # ib_async: a live order updated through the API
    "PendingCancel": OrderStatus.PENDING_CANCEL,
    "ApiCancelled": OrderStatus.CANCELLED,  # cancelled before it was transmitted
    "Cancelled": OrderStatus.CANCELLED,
    "Filled": OrderStatus.FILLED,
    "Inactive": OrderStatus.REJECTED,  # refused or parked by IB; terminal in practice
    "ValidationError": None,  # ib_async's mark for a warning on a live order: no change
}
"""Every order status string TWS (or ib_async) reports, mapped to ours (None: no change)."""


def order_status_from_ib(status: str, filled: Decimal) -> OrderStatus | None:
    """Return our status for an IB status with its fill counts; None when it changes nothing.

    A working order with fills is PARTIALLY_FILLED; an Inactive order that had fills is
    CANCELLED (the rest will not fill). Unknown strings raise ``IbTranslationError``.
    """
    if status not in IB_ORDER_STATUS:
        raise IbTranslationError(f"unknown IB order status {status!r}")
    mapped = IB_ORDER_STATUS[status]
    if mapped in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED) and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    if mapped is OrderStatus.REJECTED and filled > 0:
        return OrderStatus.CANCELLED
    return mapped


_LIMIT_PRICED = frozenset({"LMT", "STP LMT", "LIT"})
_AUX_TRIGGERED = frozenset({"STP", "STP LMT", "MIT", "LIT"})


def price_fields(order: Order) -> tuple[Decimal | None, Decimal | None]:
    """Return (limit price, trigger price) of an IB order as our fields carry them.

    ``auxPrice`` is the stop or touch price for STP, STP LMT, MIT and LIT, but the
    trailing amount for TRAIL; a trailing stop's trigger is its ``trailStopPrice``.
    """
    kind = order.orderType
    limit = decimal_from_ib(order.lmtPrice) if kind in _LIMIT_PRICED else None
    if kind in _AUX_TRIGGERED:
        trigger = decimal_from_ib(order.auxPrice)
    elif kind.startswith("TRAIL"):
        trigger = decimal_from_ib(order.trailStopPrice)
    else:
        trigger = None
    return limit, trigger


def venue_order_id(perm_id: int) -> VenueOrderId:
    """Return the venue order ID: IB's permId (stable across sessions), empty until known."""
    return VenueOrderId(str(perm_id) if perm_id else "")


def order_state(
    *,
    client_order_id: ClientOrderId,
    instrument_id: InstrumentId,
    order: Order,
    status: OrderStatus,
    filled: Decimal,
    average_price: Decimal | None,
    perm_id: int,
    reason: str | None = None,
    ts: int = 0,
) -> VenueOrderState:
    """Build the ``VenueOrderState`` of an IB order."""
    price, trigger = price_fields(order)
    return VenueOrderState(
        client_order_id=client_order_id,
        venue_order_id=venue_order_id(perm_id),
        instrument_id=instrument_id,
        side=side_from_ib(order.action),
        order_type=order_type_from_ib(order),
        status=status,
        quantity=decimal_from_ib(order.totalQuantity) or ZERO,
        filled_quantity=filled,
        average_price=average_price if filled > 0 else None,
        price=price,
        trigger_price=trigger,
        reason=reason,
        ts=ts,
    )


# ------------------------------------------------------------------------------- fills

_LIQUIDITY = {1: LiquiditySide.MAKER, 2: LiquiditySide.TAKER, 3: LiquiditySide.TAKER}
"""IB ``lastLiquidity``: 1 added liquidity, 2 removed it, 3 routed out (taker)."""


def execution_key(exec_id: str) -> str:
    """Return the ID that names an execution across its corrections.

    TWS publishes a correction of an execution as another execDetails "with all
    parameters identical except for the execID", which "will differ only in the digits
    after the final period" (TWS API, Executions and Commissions): ``….01.01`` is
    corrected by ``….01.02``. The key is the execID with that correction number set
    back to the original's ``01`` (same width), so a correction keeps the original's
    trade ID and is not booked as a second fill; an uncorrected execID is its own key.
    """
    head, dot, tail = exec_id.rpartition(".")
    if dot and head and tail.isdigit() and int(tail) > 1:
        return f"{head}.{1:0{len(tail)}d}"
    return exec_id


def latest_executions(fills: list[Fill]) -> list[Fill]:
    """Return one ``Fill`` per execution: its latest correction, in first-seen order."""
    latest: dict[str, Fill] = {}
    for fill in fills:
        key = execution_key(fill.execution.execId)
        kept = latest.get(key)
        if kept is None or _correction_number(fill) > _correction_number(kept):
            latest[key] = fill
    return list(latest.values())


def _correction_number(fill: Fill) -> int:
    tail = fill.execution.execId.rpartition(".")[2]
    return int(tail) if tail.isdigit() else 0


def fill_has_commission(fill: Fill) -> bool:
    """Return True once the fill's commission report has arrived."""
    return bool(fill.commissionReport.execId)


def venue_fill(fill: Fill, instrument_id: InstrumentId, *, fee_currency: str = "") -> VenueFill:
    """Return the ``VenueFill`` of an ib_async ``Fill``.

    The trade ID is IB's ``execId``, a correction's as the original's (``execution_key``),
    so that a corrected execution is not a second fill; the client order ID is the
    execution's ``orderRef``; the fee is the commission report's commission in its currency (zero in
    ``fee_currency`` while no report has arrived).
    """
    execution, report = fill.execution, fill.commissionReport
    price = decimal_from_ib(execution.price)
    quantity = decimal_from_ib(execution.shares)
    if price is None or quantity is None:
        raise IbTranslationError(f"execution {execution.execId} has no price or size")
    has_fee = fill_has_commission(fill)
    fee = (decimal_from_ib(report.commission) or ZERO) if has_fee else ZERO
    return VenueFill(
        trade_id=TradeId(execution_key(execution.execId)),
        client_order_id=ClientOrderId(execution.orderRef) if execution.orderRef else None,
        venue_order_id=venue_order_id(execution.permId),
        instrument_id=instrument_id,
        side=side_from_ib(execution.side),
        quantity=quantity,
        price=price,
        fee=fee,
        fee_currency=(report.currency if has_fee and report.currency else fee_currency),
        liquidity=_LIQUIDITY.get(execution.lastLiquidity, LiquiditySide.TAKER),
        ts=ns_from_datetime(execution.time),
    )


# ------------------------------------------------------------------------- market data


def quote_from_ticker(ticker: Ticker, instrument_id: InstrumentId, now_ns: int) -> QuoteTick | None:
    """Return the ticker's best bid and ask, or None while either side is missing.

    IB marks an empty side with price -1 (size 0), and ib_async leaves unset fields NaN.
    """
    bid, ask = decimal_from_ib(ticker.bid), decimal_from_ib(ticker.ask)
    if bid is None or ask is None or bid == -1 or ask == -1:
        return None
    moment = ticker.time
    return QuoteTick(
        instrument_id,
        bid,
        ask,
        decimal_from_ib(ticker.bidSize) or ZERO,
        decimal_from_ib(ticker.askSize) or ZERO,
        ns_from_datetime(moment) if isinstance(moment, datetime) else now_ns,
    )


BAR_SIZES: dict[int, str] = {
    1: "1 secs",
    5: "5 secs",
    10: "10 secs",
    15: "15 secs",
    30: "30 secs",
    60: "1 min",
    120: "2 mins",
    180: "3 mins",
    300: "5 mins",
    600: "10 mins",
    900: "15 mins",
    1200: "20 mins",
    1800: "30 mins",
    3600: "1 hour",
    7200: "2 hours",
    10800: "3 hours",
    14400: "4 hours",
    28800: "8 hours",
    86400: "1 day",
    604800: "1 week",
}
"""Bar intervals IB's historical data service offers, in seconds, as ``barSizeSetting``."""

_DAY_S = 86_400


def bar_size_for(interval_s: int) -> str:
    """Return IB's ``barSizeSetting`` for an interval; raise when IB has no such bar."""
    size = BAR_SIZES.get(interval_s)
    if size is None:
        raise IbTranslationError(
            f"IB has no {interval_s}-second bars; choose one of {sorted(BAR_SIZES)}"
        )
    return size


def duration_for(start_ns: int, end_ns: int) -> str:
    """Return IB's ``durationStr`` covering ``[start_ns, end_ns)``: seconds, days or years."""
    if end_ns <= start_ns:
        raise IbTranslationError(f"bar window is empty: start {start_ns} >= end {end_ns}")
    seconds = -(-(end_ns - start_ns) // 1_000_000_000)
    if seconds <= _DAY_S:
        return f"{seconds} S"
    days = -(-seconds // _DAY_S)
    if days <= 365:
        return f"{days} D"
    return f"{-(-days // 365)} Y"


def what_to_show(contract: Contract) -> str:
    """Return the historical data type: TRADES where IB reports trades, MIDPOINT elsewhere.

    IB has no trade prints for forex, spot metals, CFDs or PAXOS crypto bars.
    """
    return "TRADES" if contract.secType in ("STK", "FUT") else "MIDPOINT"


def trade_bar(bar: BarData, instrument_id: InstrumentId, interval_s: int) -> TradeBar:
    """Return a ``TradeBar`` of an IB bar (a daily bar's date counts as midnight UTC).

    MIDPOINT bars carry no volume (IB sends -1): their volume is 0.
    """
    moment = bar.date
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    volume = decimal_from_ib(bar.volume) or ZERO
    return TradeBar(
        instrument_id,
        decimal_from_ib(bar.open) or ZERO,
        decimal_from_ib(bar.high) or ZERO,
        decimal_from_ib(bar.low) or ZERO,
        decimal_from_ib(bar.close) or ZERO,
        max(volume, ZERO),
        ns_from_datetime(moment),
        interval_s * 1_000_000_000,
    )
