"""One contract for every venue adapter: broker APIs, exchanges and the simulated venue.

An adapter has a config, a client, a translation layer between domain values and the
venue's wire format, and its capabilities declared as data. Every vendor error is
translated at the boundary into one of three kinds:

* ``TRANSIENT``: nothing happened at the venue; a read may be retried with backoff.
* ``DEFINITIVE``: the venue refused (the order is REJECTED with the venue's reason).
* ``UNKNOWN_OUTCOME``: the request may or may not have been applied (a timeout, a 5xx,
  a connection dropped after sending). The order stays in flight and is resolved by
  querying the venue by client order ID; it is never re-sent under a new ID.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueId, VenueOrderId
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.domain.values import Currency
from alphintra.venues.capabilities import VenueCapabilities


class VenueErrorKind(StrEnum):
    TRANSIENT = "TRANSIENT"
    DEFINITIVE = "DEFINITIVE"
    UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"


class VenueError(Exception):
    """A vendor error, translated. ``retry_after_s`` is set when the venue asked for it."""

    def __init__(
        self,
        kind: VenueErrorKind,
        venue: str,
        message: str,
        *,
        code: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{venue}: {kind.value}: {message}")
        self.kind = kind
        self.venue = venue
        self.message = message
        self.code = code
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class VenueOrderState:
    """What the venue says about one order."""

    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    status: OrderStatus
    """One of SUBMITTED/ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELLED, REJECTED, EXPIRED."""
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    reason: str | None = None
    ts: int = 0


@dataclass(frozen=True, slots=True)
class VenueFill:
    """One execution as the venue reports it."""

    trade_id: TradeId
    client_order_id: ClientOrderId | None
    venue_order_id: VenueOrderId
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: Currency
    liquidity: LiquiditySide
    ts: int


@dataclass(frozen=True, slots=True)
class VenueBalance:
    """Cash or asset held at the venue."""

    currency: Currency
    total: Decimal
    available: Decimal


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """A position as the venue holds it (signed quantity)."""

    instrument_id: InstrumentId
    quantity: Decimal
    average_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Balances, positions and open orders, read together for reconciliation."""

    balances: tuple[VenueBalance, ...]
    positions: tuple[VenuePosition, ...]
    open_orders: tuple[VenueOrderState, ...]
    ts: int = 0


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A venue's request budget: ``capacity`` weight units refilled per ``per_seconds``."""

    capacity: int
    per_seconds: float
    endpoint_weights: dict[str, int] = field(default_factory=dict)


OrderUpdateHandler = Callable[[VenueOrderState | VenueFill], Awaitable[None]]
QuoteHandler = Callable[[QuoteTick], Awaitable[None]]


@runtime_checkable
class VenueAdapter(Protocol):
    """The operations the engine's execution client needs from a venue."""

    venue_id: VenueId
    capabilities: VenueCapabilities
    rate_limit: RateLimit | None

    async def connect(self) -> None:
        """Open connections and authenticate."""
        ...

    async def disconnect(self) -> None:
        """Close every connection."""
        ...

    async def account(self) -> AccountSnapshot:
        """Return balances, positions and open orders."""
        ...

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        """Send a new order under its client order ID; raise ``VenueError``."""
        ...

    async def cancel_order(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId
    ) -> VenueOrderState:
        """Cancel an order; raise ``VenueError``."""
        ...

    async def modify_order(
        self,
        client_order_id: ClientOrderId,
        instrument_id: InstrumentId,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> VenueOrderState:
        """Change an order; raise ``VenueError`` (DEFINITIVE when unsupported)."""
        ...

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None:
        """Return the order, or None when the venue confirms it does not exist."""
        ...

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        """Return executions at or after ``ts_ns``."""
        ...

    async def quote(self, instrument_id: InstrumentId) -> QuoteTick:
        """Return the current best bid and ask."""
        ...

    async def bars(
        self, instrument_id: InstrumentId, interval_s: int, start_ns: int, end_ns: int
    ) -> list[TradeBar]:
        """Return historical bars."""
        ...

    async def subscribe_quotes(
        self, instruments: list[InstrumentId], handler: QuoteHandler
    ) -> None:
        """Stream quotes into ``handler`` (reconnecting with backoff) until disconnect."""
        ...

    async def subscribe_order_updates(self, handler: OrderUpdateHandler) -> None:
        """Stream order updates and fills into ``handler`` until disconnect.

        After every reconnect the adapter (or the execution client) polls order status
        and fills since the last event seen, so nothing is lost during a gap.
        """
        ...
