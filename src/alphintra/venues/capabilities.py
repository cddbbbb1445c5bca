"""What a venue can do natively, declared as data."""

from __future__ import annotations

from dataclasses import dataclass, field

from alphintra.domain.enums import OrderType, TimeInForce


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """Order types, times in force and features a venue supports natively.

    The engine emulates any order type that is not listed here, and manages OCO
    links itself when ``native_oco`` is False.
    """

    order_types: frozenset[OrderType]
    times_in_force: frozenset[TimeInForce] = field(default_factory=lambda: frozenset(TimeInForce))
    native_oco: bool = False
    supports_modify: bool = True
    supports_reduce_only: bool = True
    supports_post_only: bool = True
    max_orders_per_second: int | None = None
