"""A risk denial and the stable reason codes of every pre-trade check.

A denial is a value, never an exception: the engine turns it into an ``OrderDenied``
event carrying ``code`` and ``reason``. Codes are part of the published behaviour;
never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an order was denied: a stable code and a reason naming the values."""

    code: str
    reason: str


# Account state.
TRADING_HALTED: Final = "TRADING_HALTED"
TRADING_REDUCING: Final = "TRADING_REDUCING"
REDUCE_ONLY_VIOLATION: Final = "REDUCE_ONLY_VIOLATION"

# Order level.
RESTRICTED_SYMBOL: Final = "RESTRICTED_SYMBOL"
MARKET_CLOSED: Final = "MARKET_CLOSED"
MAX_ORDER_QUANTITY: Final = "MAX_ORDER_QUANTITY"
MAX_ORDER_NOTIONAL: Final = "MAX_ORDER_NOTIONAL"
MIN_NOTIONAL: Final = "MIN_NOTIONAL"
PRICE_COLLAR: Final = "PRICE_COLLAR"
DUPLICATE_ORDER: Final = "DUPLICATE_ORDER"
ACCOUNT_ORDER_RATE: Final = "ACCOUNT_ORDER_RATE"
ACCOUNT_MESSAGE_RATE: Final = "ACCOUNT_MESSAGE_RATE"
VENUE_ORDER_RATE: Final = "VENUE_ORDER_RATE"
VENUE_MESSAGE_RATE: Final = "VENUE_MESSAGE_RATE"

# Position and portfolio.
MAX_POSITION_QUANTITY: Final = "MAX_POSITION_QUANTITY"
MAX_POSITION_NOTIONAL: Final = "MAX_POSITION_NOTIONAL"
MAX_GROSS_EXPOSURE: Final = "MAX_GROSS_EXPOSURE"
MAX_NET_EXPOSURE: Final = "MAX_NET_EXPOSURE"
MAX_LEVERAGE: Final = "MAX_LEVERAGE"
CONCENTRATION_INSTRUMENT: Final = "CONCENTRATION_INSTRUMENT"
CONCENTRATION_SECTOR: Final = "CONCENTRATION_SECTOR"
CONCENTRATION_ASSET_CLASS: Final = "CONCENTRATION_ASSET_CLASS"
CONCENTRATION_VENUE: Final = "CONCENTRATION_VENUE"
CORRELATION_CLUSTER: Final = "CORRELATION_CLUSTER"
INSUFFICIENT_BUYING_POWER: Final = "INSUFFICIENT_BUYING_POWER"
VOLATILITY_LIMIT: Final = "VOLATILITY_LIMIT"
VOLATILITY_BREAKER: Final = "VOLATILITY_BREAKER"
"""The instrument's circuit breaker is tripped: only reducing orders (the engine's check)."""

# Loss level.
DAILY_LOSS_LIMIT: Final = "DAILY_LOSS_LIMIT"
MAX_DRAWDOWN: Final = "MAX_DRAWDOWN"

# A limit is enabled but an input about the account that it needs is missing (a price
# or fx rate to value an exposure, equity, the order-rate window): deny, never guess.
# Missing market statistics (a reference price for the collar, a realised volatility,
# correlation clusters) are a normal state, not a wiring error: those checks pass.
PRICE_UNAVAILABLE: Final = "PRICE_UNAVAILABLE"
FX_RATE_UNAVAILABLE: Final = "FX_RATE_UNAVAILABLE"
EQUITY_UNAVAILABLE: Final = "EQUITY_UNAVAILABLE"
INSTRUMENT_UNAVAILABLE: Final = "INSTRUMENT_UNAVAILABLE"
ORDER_RATE_UNAVAILABLE: Final = "ORDER_RATE_UNAVAILABLE"

ALL_CODES: Final = frozenset(
    {
        TRADING_HALTED,
        TRADING_REDUCING,
        REDUCE_ONLY_VIOLATION,
        RESTRICTED_SYMBOL,
        MARKET_CLOSED,
        MAX_ORDER_QUANTITY,
        MAX_ORDER_NOTIONAL,
        MIN_NOTIONAL,
        PRICE_COLLAR,
        DUPLICATE_ORDER,
        ACCOUNT_ORDER_RATE,
        ACCOUNT_MESSAGE_RATE,
        VENUE_ORDER_RATE,
        VENUE_MESSAGE_RATE,
        MAX_POSITION_QUANTITY,
        MAX_POSITION_NOTIONAL,
        MAX_GROSS_EXPOSURE,
        MAX_NET_EXPOSURE,
        MAX_LEVERAGE,
        CONCENTRATION_INSTRUMENT,
        CONCENTRATION_SECTOR,
        CONCENTRATION_ASSET_CLASS,
        CONCENTRATION_VENUE,
        CORRELATION_CLUSTER,
        INSUFFICIENT_BUYING_POWER,
        VOLATILITY_LIMIT,
        VOLATILITY_BREAKER,
        DAILY_LOSS_LIMIT,
        MAX_DRAWDOWN,
        PRICE_UNAVAILABLE,
        FX_RATE_UNAVAILABLE,
        EQUITY_UNAVAILABLE,
        INSTRUMENT_UNAVAILABLE,
        ORDER_RATE_UNAVAILABLE,
    }
)
"""Every code a pre-trade check can return."""
