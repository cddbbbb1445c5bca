"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> OrderSide:
        """Return the other side."""
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY

    @property
    def sign(self) -> int:
        """Return +1 for BUY and -1 for SELL."""
        return 1 if self is OrderSide.BUY else -1


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    """Stop-market: becomes a market order when the stop price trades."""
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    """Market-if-touched, or limit-if-touched when a limit price is set."""
    TRAILING_STOP = "TRAILING_STOP"
    ICEBERG = "ICEBERG"
    """A limit order that shows only its display quantity at a time."""


class ContingencyType(StrEnum):
    NONE = "NONE"
    OCO = "OCO"
    """One-cancels-other: a fill on one member cancels (or reduces) the others."""
    OTO = "OTO"
    """One-triggers-other: the children become active when the parent fills."""


class TimeInForce(StrEnum):
    GTC = "GTC"
    DAY = "DAY"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


class TrailingOffsetType(StrEnum):
    PRICE = "PRICE"
    PERCENT = "PERCENT"


class OrderStatus(StrEnum):
    NEW = "NEW"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    TRIGGERED = "TRIGGERED"
    PENDING_MODIFY = "PENDING_MODIFY"
    PENDING_CANCEL = "PENDING_CANCEL"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_closed(self) -> bool:
        """Return True for states no venue event can reopen."""
        return self in _CLOSED


_CLOSED = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
)


class LiquiditySide(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class AssetClass(StrEnum):
    CRYPTO = "CRYPTO"
    FX = "FX"
    EQUITY = "EQUITY"
    COMMODITY = "COMMODITY"
    INDEX = "INDEX"


class InstrumentKind(StrEnum):
    SPOT = "SPOT"
    PERPETUAL = "PERPETUAL"
    FUTURE = "FUTURE"
    CFD = "CFD"
    STOCK = "STOCK"
    ETF = "ETF"


class SignalAction(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    CLOSE_LONG = "CLOSE_LONG"
    CLOSE_SHORT = "CLOSE_SHORT"
    REBALANCE = "REBALANCE"


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    """Only orders that reduce exposure are accepted."""
    HALTED = "HALTED"
