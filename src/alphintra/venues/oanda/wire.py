"""OANDA v20 wire types, written against the official Swagger 2.0 spec (basePath /v3).

Field names follow the spec exactly (``clientOrderID``, ``lastTransactionID``,
``unrealizedPL``, ``NAV``, ``fullVWAP``...); the Python attribute names are their snake
case, mapped by ``_oanda_name``. Every number in OANDA JSON is a decimal *string*:
response fields are typed ``Decimal`` (msgspec parses the string exactly) and request
fields are ``str`` produced by ``decimal_text`` so that no exponent form is ever sent.
Unknown fields are ignored (the API grows); an unknown value of an enumerated field that
the adapter relies on (order type, order state, time in force) fails decoding.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import msgspec

_ACRONYMS = {"id": "ID", "ids": "IDs", "pl": "PL", "nav": "NAV", "vwap": "VWAP"}


def _oanda_name(name: str) -> str:
    """Return the spec's camelCase name for a snake_case attribute."""
    first, *rest = name.split("_")
    if first == "nav":  # the one field named by an upper-case acronym alone
        first = "NAV"
    return first + "".join(_ACRONYMS.get(part, part.capitalize()) for part in rest)


class _Wire(msgspec.Struct, kw_only=True, rename=_oanda_name, omit_defaults=True):
    """Base of every wire type."""


OrderTypeName = Literal[
    "MARKET",
    "LIMIT",
    "STOP",
    "MARKET_IF_TOUCHED",
    "TAKE_PROFIT",
    "STOP_LOSS",
    "GUARANTEED_STOP_LOSS",
    "TRAILING_STOP_LOSS",
    "FIXED_PRICE",
]
OrderStateName = Literal["PENDING", "FILLED", "TRIGGERED", "CANCELLED"]
TimeInForceName = Literal["GTC", "GTD", "GFD", "FOK", "IOC"]
PositionFillName = Literal["OPEN_ONLY", "REDUCE_FIRST", "REDUCE_ONLY", "DEFAULT"]
TriggerConditionName = Literal["DEFAULT", "INVERSE", "BID", "ASK", "MID"]


# --- requests -------------------------------------------------------------------------


class ClientExtensions(_Wire):
    """``ClientExtensions``: our client order ID travels in ``id``."""

    id: str | None = None
    tag: str | None = None
    comment: str | None = None


class TakeProfitDetails(_Wire):
    """``TakeProfitDetails``: a take-profit created when the order fills."""

    price: str
    time_in_force: TimeInForceName | None = None
    gtd_time: str | None = None
    client_extensions: ClientExtensions | None = None


class StopLossDetails(_Wire):
    """``StopLossDetails``: a stop-loss (by price or distance) created on fill."""

    price: str | None = None
    distance: str | None = None
    time_in_force: TimeInForceName | None = None
    gtd_time: str | None = None
    client_extensions: ClientExtensions | None = None


class TrailingStopLossDetails(_Wire):
    """``TrailingStopLossDetails``: a trailing stop-loss created on fill."""

    distance: str
    time_in_force: TimeInForceName | None = None
    gtd_time: str | None = None
    client_extensions: ClientExtensions | None = None


class OrderRequest(_Wire):
    """Any ``*OrderRequest`` of the spec; only the fields its ``type`` documents are set.

    MARKET, LIMIT, STOP and MARKET_IF_TOUCHED carry ``instrument`` and signed ``units``;
    TRAILING_STOP_LOSS (like TAKE_PROFIT and STOP_LOSS) is attached to a trade by
    ``tradeID`` and closes it, so it has no instrument or units.
    """

    type: OrderTypeName
    instrument: str | None = None
    units: str | None = None
    price: str | None = None
    price_bound: str | None = None
    trade_id: str | None = None
    client_trade_id: str | None = None
    distance: str | None = None
    time_in_force: TimeInForceName | None = None
    gtd_time: str | None = None
    position_fill: PositionFillName | None = None
    trigger_condition: TriggerConditionName | None = None
    client_extensions: ClientExtensions | None = None
    take_profit_on_fill: TakeProfitDetails | None = None
    stop_loss_on_fill: StopLossDetails | None = None
    trailing_stop_loss_on_fill: TrailingStopLossDetails | None = None
    trade_client_extensions: ClientExtensions | None = None


class OrderBody(_Wire):
    """The body of Create Order and Replace Order: ``{"order": OrderRequest}``."""

    order: OrderRequest


# --- orders and transactions ------------------------------------------------------------


class Order(_Wire):
    """Any ``Order`` subtype (MarketOrder, LimitOrder, StopOrder, ...), as far as we use it."""

    id: str
    type: OrderTypeName
    state: OrderStateName
    create_time: str | None = None
    instrument: str | None = None
    units: Decimal | None = None
    price: Decimal | None = None
    price_bound: Decimal | None = None
    trade_id: str | None = None
    distance: Decimal | None = None
    trailing_stop_value: Decimal | None = None
    time_in_force: TimeInForceName | None = None
    gtd_time: str | None = None
    position_fill: PositionFillName | None = None
    trigger_condition: TriggerConditionName | None = None
    client_extensions: ClientExtensions | None = None
    filling_transaction_id: str | None = None
    filled_time: str | None = None
    trade_opened_id: str | None = None
    trade_reduced_id: str | None = None
    trade_closed_ids: list[str] | None = None
    cancelling_transaction_id: str | None = None
    cancelled_time: str | None = None
    replaces_order_id: str | None = None
    replaced_by_order_id: str | None = None


class TradeOpen(_Wire):
    """``TradeOpen``: the part of a fill that opened a trade."""

    trade_id: str
    units: Decimal
    price: Decimal | None = None


class TradeReduce(_Wire):
    """``TradeReduce``: the part of a fill that reduced or closed a trade."""

    trade_id: str
    units: Decimal
    price: Decimal | None = None
    realized_pl: Decimal | None = None


class Transaction(_Wire):
    """Any ``Transaction`` subtype, as far as we use it; ``type`` selects the meaning.

    ``type`` stays a plain string: the account's history holds dozens of transaction
    types (funding, financing, margin calls...) that the adapter skips.
    """

    id: str
    type: str
    time: str
    account_id: str | None = None
    batch_id: str | None = None
    request_id: str | None = None
    order_id: str | None = None
    client_order_id: str | None = None
    instrument: str | None = None
    units: Decimal | None = None
    price: Decimal | None = None
    price_bound: Decimal | None = None
    full_vwap: Decimal | None = None
    time_in_force: TimeInForceName | None = None
    gtd_time: str | None = None
    position_fill: PositionFillName | None = None
    trigger_condition: TriggerConditionName | None = None
    reason: str | None = None
    reject_reason: str | None = None
    client_extensions: ClientExtensions | None = None
    trade_id: str | None = None
    distance: Decimal | None = None
    pl: Decimal | None = None
    financing: Decimal | None = None
    commission: Decimal | None = None
    guaranteed_execution_fee: Decimal | None = None
    half_spread_cost: Decimal | None = None
    account_balance: Decimal | None = None
    trade_opened: TradeOpen | None = None
    trade_reduced: TradeReduce | None = None
    trades_closed: list[TradeReduce] | None = None
    replaces_order_id: str | None = None
    replaced_by_order_id: str | None = None
    intended_replaces_order_id: str | None = None
    cancelling_transaction_id: str | None = None


class TransactionHeartbeat(_Wire):
    """``TransactionHeartbeat``: sent on the transaction stream every 5 seconds."""

    type: Literal["HEARTBEAT"]
    time: str
    last_transaction_id: str | None = None


# --- account ---------------------------------------------------------------------------


class AccountSummary(_Wire):
    """``AccountSummary`` (the fields the adapter reads; the rest are ignored)."""

    id: str
    currency: str
    balance: Decimal
    nav: Decimal | None = None
    unrealized_pl: Decimal | None = None
    margin_used: Decimal | None = None
    margin_available: Decimal | None = None
    pl: Decimal | None = None
    open_trade_count: int | None = None
    open_position_count: int | None = None
    pending_order_count: int | None = None
    hedging_enabled: bool | None = None
    last_transaction_id: str | None = None


class PositionSide(_Wire):
    """``PositionSide``: ``units`` is positive on the long side, negative on the short."""

    units: Decimal
    average_price: Decimal | None = None
    trade_ids: list[str] | None = None
    pl: Decimal | None = None
    unrealized_pl: Decimal | None = None


class Position(_Wire):
    """``Position``: one instrument's long and short sides."""

    instrument: str
    long: PositionSide
    short: PositionSide
    pl: Decimal | None = None
    unrealized_pl: Decimal | None = None
    margin_used: Decimal | None = None


# --- prices ----------------------------------------------------------------------------


class PriceBucket(_Wire):
    """``PriceBucket``: a price and the liquidity available at it."""

    price: Decimal
    liquidity: int | None = None


class ClientPrice(_Wire, tag_field="type", tag="PRICE"):
    """``ClientPrice``: a line of the pricing stream has ``"type": "PRICE"``."""

    instrument: str
    time: str
    bids: list[PriceBucket] = msgspec.field(default_factory=list)
    asks: list[PriceBucket] = msgspec.field(default_factory=list)
    closeout_bid: Decimal | None = None
    closeout_ask: Decimal | None = None
    tradeable: bool | None = None
    status: str | None = None


class PricingHeartbeat(_Wire, tag_field="type", tag="HEARTBEAT"):
    """``PricingHeartbeat``: sent on the pricing stream every 5 seconds."""

    time: str


class CandlestickData(_Wire):
    """``CandlestickData``: open, high, low and close."""

    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - the spec's field name
    c: Decimal


class Candlestick(_Wire):
    """``Candlestick``: ``volume`` is the tick count, ``complete`` false while it forms."""

    time: str
    volume: int
    complete: bool
    mid: CandlestickData | None = None
    bid: CandlestickData | None = None
    ask: CandlestickData | None = None


# --- response bodies -------------------------------------------------------------------


class AccountSummaryResponse(_Wire):
    account: AccountSummary
    last_transaction_id: str | None = None


class PositionsResponse(_Wire):
    positions: list[Position]
    last_transaction_id: str | None = None


class OrdersResponse(_Wire):
    orders: list[Order]
    last_transaction_id: str | None = None


class OrderResponse(_Wire):
    order: Order
    last_transaction_id: str | None = None


class OrderWriteResponse(_Wire):
    """The 201/200 body of Create, Replace and Cancel Order."""

    order_create_transaction: Transaction | None = None
    order_fill_transaction: Transaction | None = None
    order_cancel_transaction: Transaction | None = None
    order_reissue_transaction: Transaction | None = None
    order_reissue_reject_transaction: Transaction | None = None
    replacing_order_cancel_transaction: Transaction | None = None
    related_transaction_ids: list[str] | None = None
    last_transaction_id: str | None = None


class ErrorResponse(_Wire):
    """An error body: 4xx/5xx carry ``errorMessage`` and maybe a reject transaction."""

    error_code: str | None = None
    error_message: str | None = None
    order_reject_transaction: Transaction | None = None
    order_cancel_reject_transaction: Transaction | None = None
    related_transaction_ids: list[str] | None = None
    last_transaction_id: str | None = None


class TransactionsResponse(_Wire):
    """The body of ``transactions/sinceid`` and ``transactions/idrange``."""

    transactions: list[Transaction]
    last_transaction_id: str | None = None


class RawTransactionsResponse(_Wire):
    """``TransactionsResponse`` with each transaction left undecoded, so that one
    malformed transaction does not hide the others (they are decoded one by one)."""

    transactions: list[msgspec.Raw]
    last_transaction_id: str | None = None


class TransactionPagesResponse(_Wire):
    """The body of ``GET transactions``: ``pages`` are idrange URLs."""

    pages: list[str]
    count: int | None = None
    page_size: int | None = None
    last_transaction_id: str | None = None


class PricingResponse(_Wire):
    prices: list[ClientPrice]
    time: str | None = None


class CandlesResponse(_Wire):
    instrument: str
    granularity: str
    candles: list[Candlestick]


class _TypeOnly(msgspec.Struct):
    type: str | None = None


class _IdOnly(msgspec.Struct):
    id: str | None = None


PricingStreamMessage = ClientPrice | PricingHeartbeat
TransactionStreamMessage = Transaction | TransactionHeartbeat


# --- decimals, times and instruments -----------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """Return ``value`` as OANDA's decimal string: plain notation, never an exponent."""
    if not value.is_finite():
        raise ValueError(f"cannot send the non-finite decimal {value!r} to OANDA")
    text = format(value, "f")
    return "0" if text in ("-0", "0", "-0.0") else text


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)


def parse_time_ns(text: str) -> int:
    """Return an OANDA DateTime (RFC 3339 to the nanosecond, or UNIX seconds) in ns."""
    match = _RFC3339.match(text)
    if match is None:
        try:
            seconds = Decimal(text)
        except ArithmeticError:
            raise ValueError(f"not an RFC 3339 or UNIX DateTime: {text!r}") from None
        if not seconds.is_finite():
            raise ValueError(f"not an RFC 3339 or UNIX DateTime: {text!r}")
        return int(seconds * 1_000_000_000)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = "+00:00" if zone == "Z" else zone
    whole = datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}{offset}")
    nanos = int((fraction or "").ljust(9, "0"))
    return int(whole.timestamp()) * 1_000_000_000 + nanos


def format_time(ts_ns: int) -> str:
    """Return ``ts_ns`` as RFC 3339 UTC with nine fractional digits, as OANDA sends it."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos:09d}Z"


def oanda_instrument(symbol: str) -> str:
    """Return OANDA's name for our symbol: EURUSD → EUR_USD, DE30EUR → DE30_EUR.

    Every OANDA instrument is ``<base>_<quote>`` with a three-letter quote currency.
    """
    if "_" in symbol:
        return symbol
    if len(symbol) < 6:
        raise ValueError(f"{symbol!r} is not an OANDA instrument (need <base><3-letter quote>)")
    return f"{symbol[:-3]}_{symbol[-3:]}"


def engine_symbol(instrument: str) -> str:
    """Return our symbol for an OANDA instrument name: XAU_USD → XAUUSD."""
    return instrument.replace("_", "")


def transaction_id_of(raw: bytes) -> str | None:
    """Return the ``id`` of a transaction that does not decode, if that much is readable."""
    try:
        found = msgspec.json.decode(raw, type=_IdOnly).id
    except msgspec.MsgspecError:
        return None
    return found if found is not None and found.isdigit() else None


def decode_stream_type(line: bytes) -> str | None:
    """Return the ``type`` of one stream line; raise ``msgspec.DecodeError`` if malformed."""
    return msgspec.json.decode(line, type=_TypeOnly).type
