"""Commands: what a user asks the engine for, and what the engine asks a venue for."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from alphintra.domain.enums import OrderSide, OrderType, TimeInForce, TrailingOffsetType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    SignalId,
    VenueId,
)
from alphintra.domain.values import Price, Quantity


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A request for one order. Prices and quantities are validated by the engine."""

    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trailing_offset: Decimal | None = None
    trailing_offset_type: TrailingOffsetType | None = None
    display_quantity: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_ts: int | None = None
    reduce_only: bool = False
    post_only: bool = False
    client_order_id: ClientOrderId | None = None
    """Idempotency key; the engine generates one when absent."""
    signal_id: SignalId | None = None
    venue: VenueId | None = None


class BracketRequest(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An entry order plus an optional stop-loss and take-profit that protect it."""

    entry: OrderRequest
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


class SubmitToVenue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Release an order to its venue."""

    venue: VenueId
    order: OrderInitialized
    """The order as released: for an emulated order, its market or limit form."""


class CancelAtVenue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Ask the venue to cancel an order."""

    venue: VenueId
    account_id: AccountId
    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    ts: int


class ModifyAtVenue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Ask the venue to change an order's quantity, price or trigger price."""

    venue: VenueId
    account_id: AccountId
    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    quantity: Quantity | None
    price: Price | None
    trigger_price: Price | None
    ts: int


VenueCommand = SubmitToVenue | CancelAtVenue | ModifyAtVenue
