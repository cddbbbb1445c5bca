"""What Alpaca does natively for US stocks and ETFs, declared as data."""

from __future__ import annotations

from alphintra.domain.enums import OrderType, TimeInForce
from alphintra.venues.adapter import RateLimit
from alphintra.venues.capabilities import VenueCapabilities

ALPACA_CAPABILITIES = VenueCapabilities(
    order_types=frozenset(
        {
            OrderType.MARKET,
            OrderType.LIMIT,
            OrderType.STOP,
            OrderType.STOP_LIMIT,
            OrderType.TRAILING_STOP,
        }
    ),
    # Alpaca also has opg and cls (auction orders); the engine has no such times in force.
    times_in_force=frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    # Alpaca has bracket/OCO/OTO order classes, but they are submitted as one request
    # carrying every leg; this adapter places one order at a time, so the engine links.
    native_oco=False,
    supports_modify=True,  # PATCH /v2/orders/{id} replaces the order with a new one
    supports_reduce_only=False,
    supports_post_only=False,
)

ALPACA_RATE_LIMIT = RateLimit(capacity=200, per_seconds=60.0)
"""Alpaca's documented budget: 200 trading API requests per minute per account."""
