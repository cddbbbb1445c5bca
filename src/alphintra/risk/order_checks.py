"""Order-level pre-trade checks: account state, symbol, hours, size, price, duplicates, rate.

Each check is a pure function of its arguments and returns a `Denial` or None.
Checks that spare risk-reducing orders take the answer as an argument: the entry
point (`alphintra.risk.pretrade`) works it out only when it matters.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderSide, OrderStatus, TradingState
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import is_reducing
from alphintra.risk.context import NANOS_PER_MILLI, OrderRateWindow
from alphintra.risk.denial import (
    ACCOUNT_MESSAGE_RATE,
    ACCOUNT_ORDER_RATE,
    DUPLICATE_ORDER,
    MARKET_CLOSED,
    MAX_ORDER_NOTIONAL,
    MAX_ORDER_QUANTITY,
    MIN_NOTIONAL,
    PRICE_COLLAR,
    REDUCE_ONLY_VIOLATION,
    RESTRICTED_SYMBOL,
    TRADING_HALTED,
    TRADING_REDUCING,
    VENUE_MESSAGE_RATE,
    VENUE_ORDER_RATE,
    Denial,
)
from alphintra.risk.limits import PriceCollar, ScopeLimits, Throttle

_HALTED = Denial(TRADING_HALTED, "trading is halted for this account")


def closes_within_position(side: OrderSide, quantity: Decimal, position: Decimal) -> bool:
    """Return True when ``quantity`` on ``side`` reduces ``position`` without crossing zero."""
    return is_reducing(side, position) and quantity <= abs(position)


def check_trading_state(
    trading_state: TradingState, position: Decimal, risk_reducing: bool
) -> Denial | None:
    """Deny everything when HALTED, and all but risk-reducing orders when REDUCING."""
    if trading_state is TradingState.HALTED:
        return _HALTED
    if trading_state is TradingState.REDUCING and not risk_reducing:
        return Denial(
            TRADING_REDUCING,
            f"trading is in REDUCING state: only orders that reduce the position "
            f"({position}), with the working orders, are allowed",
        )
    return None


def check_reduce_only(order: OrderInitialized, position: Decimal) -> Denial | None:
    """Deny a reduce-only order that would not reduce the position (position only:
    reduce-only is enforced again at fill time)."""
    if order.reduce_only and not closes_within_position(order.side, order.quantity, position):
        return Denial(
            REDUCE_ONLY_VIOLATION,
            f"reduce-only {order.side} of {order.quantity} would not reduce the position "
            f"{position}",
        )
    return None


def check_restricted(
    instrument: Instrument, restricted: frozenset[str], risk_reducing: bool
) -> Denial | None:
    """Deny orders in a restricted instrument, except risk-reducing ones."""
    if instrument.id in restricted and not risk_reducing:
        return Denial(
            RESTRICTED_SYMBOL,
            f"{instrument.id} is on the restricted list: only orders that reduce the position "
            "are allowed",
        )
    return None


def check_trading_hours(instrument: Instrument, now_ns: int) -> Denial | None:
    """Deny an order outside the instrument's trading hours (when it has any)."""
    hours = instrument.trading_hours
    if hours is not None and not hours.is_open(now_ns):
        return Denial(
            MARKET_CLOSED,
            f"{instrument.id} is outside its trading hours ({hours.timezone}) at {now_ns} ns",
        )
    return None


def check_order_quantity(
    instrument: Instrument, quantity: Decimal, scope: ScopeLimits
) -> Denial | None:
    """Deny an order larger than the maximum order quantity."""
    limit = scope.max_order_quantity
    if limit is not None and quantity > limit:
        return Denial(
            MAX_ORDER_QUANTITY,
            f"order quantity {quantity} of {instrument.id} exceeds the limit {limit}",
        )
    return None


def check_order_notional(
    instrument: Instrument, notional: Decimal, scope: ScopeLimits
) -> Denial | None:
    """Deny an order whose quote-currency notional exceeds the maximum."""
    limit = scope.max_order_notional
    if limit is not None and notional > limit:
        return Denial(
            MAX_ORDER_NOTIONAL,
            f"order notional {notional} {instrument.quote_currency} of {instrument.id} "
            f"exceeds the limit {limit}",
        )
    return None


def check_min_notional(instrument: Instrument, notional: Decimal) -> Denial | None:
    """Deny an order below the instrument's minimum notional."""
    if instrument.min_notional > 0 and notional < instrument.min_notional:
        return Denial(
            MIN_NOTIONAL,
            f"order notional {notional} is below the instrument minimum {instrument.min_notional}",
        )
    return None


def collar_band(reference: Decimal, instrument: Instrument, collar: PriceCollar) -> Decimal:
    """Return the largest allowed distance from ``reference`` (see `PriceCollar`)."""
    bands = []
    if collar.max_fraction is not None:
        bands.append(abs(reference) * collar.max_fraction)
    if collar.max_ticks is not None:
        bands.append(instrument.tick_size * collar.max_ticks)
    return max(min(bands), collar.min_band)


def check_price_collar(
    order: OrderInitialized,
    instrument: Instrument,
    reference: Decimal | None,
    collar: PriceCollar,
) -> Denial | None:
    """Deny a limit or trigger price farther from the reference than the collar allows.

    With no reference price (no market data yet) there is nothing to measure against
    and the check passes.
    """
    if reference is None:
        return None
    band: Decimal | None = None
    for label, price in (("limit", order.price), ("trigger", order.trigger_price)):
        if price is None:
            continue
        if band is None:
            band = collar_band(reference, instrument, collar)
        distance = abs(price - reference)
        if distance > band:
            return Denial(
                PRICE_COLLAR,
                f"{label} price {price} of {instrument.id} is {distance} from the reference "
                f"price {reference}, beyond the collar band {band}",
            )
    return None


def check_duplicate(
    order: OrderInitialized, state: AccountState, window_ms: int, now_ns: int
) -> Denial | None:
    """Deny an order equal to one the account created less than ``window_ms`` ago.

    Equal means the same instrument, side, quantity, limit price and trigger price.
    Denied orders and child orders (slices, bracket exits) do not count.
    """
    cutoff = now_ns - window_ms * NANOS_PER_MILLI
    for other in reversed(state.orders.values()):
        if other.ts_init <= cutoff:
            break
        if (
            other.client_order_id == order.client_order_id
            or other.status is OrderStatus.DENIED
            or other.parent_id is not None
        ):
            continue
        if (
            other.instrument_id == order.instrument_id
            and other.side is order.side
            and other.quantity == order.quantity
            and other.price == order.price
            and other.trigger_price == order.trigger_price
        ):
            return Denial(
                DUPLICATE_ORDER,
                f"order duplicates {other.client_order_id} ({order.side} {order.quantity} "
                f"{order.instrument_id} at {order.price or order.trigger_price or 'market'}) "
                f"created {(now_ns - other.ts_init) / NANOS_PER_MILLI} ms ago, within the "
                f"{window_ms} ms window",
            )
    return None


def check_throttle(
    rate: OrderRateWindow, throttle: Throttle, now_ns: int, venue: VenueId | None = None
) -> Denial | None:
    """Deny an order that would exceed the order or message rate (account-wide, or of
    ``venue``) over the rolling window ending now."""
    orders, messages = rate.sent_after(now_ns - throttle.window_ns, venue)
    if throttle.max_orders is not None:
        sent = orders
        if sent >= throttle.max_orders:
            return Denial(
                ACCOUNT_ORDER_RATE if venue is None else VENUE_ORDER_RATE,
                f"{_scope(venue)} already sent {sent} orders in the last {throttle.window_ms} "
                f"ms; the limit is {throttle.max_orders}",
            )
    if throttle.max_messages is not None:
        sent = messages
        if sent >= throttle.max_messages:
            return Denial(
                ACCOUNT_MESSAGE_RATE if venue is None else VENUE_MESSAGE_RATE,
                f"{_scope(venue)} already sent {sent} messages in the last {throttle.window_ms} "
                f"ms; the limit is {throttle.max_messages}",
            )
    return None


def _scope(venue: VenueId | None) -> str:
    return "account" if venue is None else f"venue {venue}"
