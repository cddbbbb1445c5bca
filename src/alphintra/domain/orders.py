"""Orders and their lifecycle.

An order changes only by ``Order.apply(event)``, which looks the move up in one
transition table of (state, event type) -> new state. A move that is not in the
table raises ``InvalidTransition`` naming both states.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from alphintra.domain.enums import (
    ContingencyType,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderChildFilled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModified,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingModify,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderListId,
    SignalId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.values import ZERO, Price, Quantity

NANOS_PER_DAY: Final = 86_400 * 1_000_000_000


def time_in_force_over(
    time_in_force: TimeInForce, expire_ts: int | None, placed_ns: int, now_ns: int
) -> bool:
    """Return True once an order's time in force has run out at ``now_ns``: a GTD order
    at its expire time, a DAY order on a later UTC day than it was placed."""
    if time_in_force is TimeInForce.GTD:
        return expire_ts is not None and now_ns >= expire_ts
    return time_in_force is TimeInForce.DAY and now_ns // NANOS_PER_DAY > placed_ns // NANOS_PER_DAY


class InvalidTransition(Exception):
    """An event arrived that the order's current state does not allow."""

    def __init__(self, client_order_id: str, state: OrderStatus, event: str) -> None:
        super().__init__(f"order {client_order_id}: event {event} is not allowed in state {state}")
        self.state = state
        self.event = event


class OverfillError(Exception):
    """A fill would take the order past its quantity."""


# Markers for targets that depend on more than the event type.
BY_FILL: Final = "BY_FILL"  # PARTIALLY_FILLED or FILLED, from the quantities
RESTORE: Final = "RESTORE"  # the state held before the pending request
Target = OrderStatus | str

S = OrderStatus

TRANSITIONS: Final[dict[tuple[OrderStatus, type[OrderEvent]], Target]] = {
    (S.NEW, OrderDenied): S.DENIED,
    (S.NEW, OrderSubmitted): S.SUBMITTED,
    # A bracket child or OCO sibling held locally can be cancelled before release,
    # and resized while it waits for its parent to fill.
    (S.NEW, OrderCancelled): S.CANCELLED,
    (S.NEW, OrderModified): S.NEW,
    (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
    (S.SUBMITTED, OrderRejected): S.REJECTED,
    # Venues may report a fill (or an IOC/FOK cancel or expiry) before the ack.
    (S.SUBMITTED, OrderFilled): BY_FILL,
    (S.SUBMITTED, OrderCancelled): S.CANCELLED,
    (S.SUBMITTED, OrderExpired): S.EXPIRED,
    (S.SUBMITTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.SUBMITTED, OrderTriggered): S.TRIGGERED,
    # A venue may repeat its acknowledgement (after a reconnect or a resubmission of
    # an order it lost in a restart): nothing changes.
    (S.ACCEPTED, OrderAccepted): S.ACCEPTED,
    (S.PARTIALLY_FILLED, OrderAccepted): S.PARTIALLY_FILLED,
    (S.ACCEPTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.ACCEPTED, OrderPendingModify): S.PENDING_MODIFY,
    (S.ACCEPTED, OrderModified): S.ACCEPTED,
    (S.ACCEPTED, OrderCancelled): S.CANCELLED,
    (S.ACCEPTED, OrderExpired): S.EXPIRED,
    (S.ACCEPTED, OrderTriggered): S.TRIGGERED,
    (S.ACCEPTED, OrderFilled): BY_FILL,
    # Some venues reject after acknowledging (for example a post-only order that
    # would cross once it reaches the book).
    (S.ACCEPTED, OrderRejected): S.REJECTED,
    # An emulated order, once triggered, is released to the venue under the same
    # client order ID; the venue's acknowledgement does not change its state.
    (S.TRIGGERED, OrderAccepted): S.TRIGGERED,
    (S.TRIGGERED, OrderRejected): S.REJECTED,
    (S.TRIGGERED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.TRIGGERED, OrderPendingModify): S.PENDING_MODIFY,
    (S.TRIGGERED, OrderModified): S.TRIGGERED,
    (S.TRIGGERED, OrderCancelled): S.CANCELLED,
    (S.TRIGGERED, OrderExpired): S.EXPIRED,
    (S.TRIGGERED, OrderFilled): BY_FILL,
    (S.PARTIALLY_FILLED, OrderFilled): BY_FILL,
    (S.PARTIALLY_FILLED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, OrderPendingModify): S.PENDING_MODIFY,
    (S.PARTIALLY_FILLED, OrderModified): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderCancelled): S.CANCELLED,
    (S.PARTIALLY_FILLED, OrderExpired): S.EXPIRED,
    (S.PARTIALLY_FILLED, OrderTriggered): S.PARTIALLY_FILLED,
    (S.PENDING_CANCEL, OrderCancelled): S.CANCELLED,
    (S.PENDING_CANCEL, OrderCancelRejected): RESTORE,
    (S.PENDING_CANCEL, OrderExpired): S.EXPIRED,
    # A fill can cross the cancel request in flight; the order keeps waiting for
    # the cancel unless the fill completed it.
    (S.PENDING_CANCEL, OrderFilled): BY_FILL,
    (S.PENDING_CANCEL, OrderPendingCancel): S.PENDING_CANCEL,
    # A late acknowledgement, or a trigger, of an order we are already cancelling.
    (S.PENDING_CANCEL, OrderAccepted): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderTriggered): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderModified): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderModifyRejected): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderRejected): S.REJECTED,
    (S.PENDING_MODIFY, OrderModified): RESTORE,
    (S.PENDING_MODIFY, OrderModifyRejected): RESTORE,
    (S.PENDING_MODIFY, OrderFilled): BY_FILL,
    (S.PENDING_MODIFY, OrderCancelled): S.CANCELLED,
    (S.PENDING_MODIFY, OrderExpired): S.EXPIRED,
    (S.PENDING_MODIFY, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PENDING_MODIFY, OrderTriggered): S.PENDING_MODIFY,
    (S.PENDING_MODIFY, OrderAccepted): S.PENDING_MODIFY,
    # The classic race: the venue reports the cancel, then a fill that happened
    # just before it arrives. The fill is real and must reach the position.
    (S.CANCELLED, OrderFilled): BY_FILL,
    (S.EXPIRED, OrderFilled): BY_FILL,
}

# A parent's progress from its children's fills moves it exactly as its own fills would.
TRANSITIONS.update(
    {
        (state, OrderChildFilled): target
        for (state, kind), target in list(TRANSITIONS.items())
        if kind is OrderFilled
    }
)

_PENDING_STATES = frozenset({S.PENDING_CANCEL, S.PENDING_MODIFY})
# States a partial fill does not leave: a cancelled or expired order stays closed (a late
# fill is still booked), a pending request stays pending.
_KEPT_ON_PARTIAL_FILL = frozenset({S.CANCELLED, S.EXPIRED, S.PENDING_CANCEL, S.PENDING_MODIFY})
# Members read on every order or fill, as constants: an enum class attribute is slow.
_NEW: Final = S.NEW
_FILLED: Final = S.FILLED
_PARTIALLY_FILLED: Final = S.PARTIALLY_FILLED


class Order:
    """A single order, built from its ``OrderInitialized`` event."""

    __slots__ = (
        "account_id",
        "avg_price_notional",
        "client_order_id",
        "contingency",
        "display_quantity",
        "emulated",
        "exec_algorithm",
        "expire_ts",
        "filled_quantity",
        "instrument_id",
        "last_event_ts",
        "linked_ids",
        "order_list_id",
        "order_type",
        "parent_id",
        "post_only",
        "price",
        "quantity",
        "reduce_only",
        "side",
        "signal_id",
        "status",
        "status_before_pending",
        "time_in_force",
        "trade_ids",
        "trailing_offset",
        "trailing_offset_type",
        "trigger_price",
        "ts_init",
        "venue",
        "venue_order_id",
    )

    def __init__(self, init: OrderInitialized) -> None:
        self.client_order_id: ClientOrderId = init.client_order_id
        self.account_id: AccountId = init.account_id
        self.instrument_id: InstrumentId = init.instrument_id
        self.side: OrderSide = init.side
        self.order_type: OrderType = init.order_type
        self.quantity: Quantity = init.quantity
        self.price: Price | None = init.price
        self.trigger_price: Price | None = init.trigger_price
        self.trailing_offset: Decimal | None = init.trailing_offset
        self.trailing_offset_type: TrailingOffsetType | None = init.trailing_offset_type
        self.display_quantity: Quantity | None = init.display_quantity
        self.time_in_force: TimeInForce = init.time_in_force
        self.expire_ts: int | None = init.expire_ts
        self.reduce_only: bool = init.reduce_only
        self.post_only: bool = init.post_only
        self.contingency: ContingencyType = init.contingency
        self.order_list_id: OrderListId | None = init.order_list_id
        self.parent_id: ClientOrderId | None = init.parent_id
        self.linked_ids: tuple[ClientOrderId, ...] = init.linked_ids
        self.signal_id: SignalId | None = init.signal_id
        self.emulated: bool = init.emulated
        self.exec_algorithm: str | None = init.exec_algorithm
        self.venue: VenueId | None = init.venue
        self.venue_order_id: VenueOrderId | None = None
        self.status: OrderStatus = _NEW
        self.status_before_pending: OrderStatus = _NEW
        self.filled_quantity: Decimal = ZERO
        self.avg_price_notional: Decimal = ZERO
        self.trade_ids: set[TradeId] = set()
        self.ts_init: int = init.ts_event
        self.last_event_ts: int = init.ts_event

    @property
    def leaves_quantity(self) -> Decimal:
        """Return the quantity still working (zero once the order is closed)."""
        if self.status.is_closed:
            return ZERO
        return self.quantity - self.filled_quantity

    @property
    def average_price(self) -> Decimal | None:
        """Return the quantity-weighted average fill price, or None before any fill."""
        if not self.filled_quantity:
            return None
        return self.avg_price_notional / self.filled_quantity

    @property
    def is_open(self) -> bool:
        """Return True while the order can still fill."""
        return not self.status.is_closed

    def apply(self, event: OrderEvent) -> bool:
        """Apply ``event``; return False when it is a duplicate fill that changes nothing.

        A fill whose trade ID the order already holds is a duplicate in any state.

        Raise ``InvalidTransition`` for a move outside the table and ``OverfillError``
        for a fill beyond the order's quantity. Neither leaves the order changed.
        """
        state = self.status
        if type(event) is OrderFilled or type(event) is OrderChildFilled:
            # A repeated fill report is a no-op in every state, a filled order included:
            # venues resend execution reports (after a reconnect, for example).
            if event.trade_id in self.trade_ids:
                return False
            if (state, type(event)) not in TRANSITIONS:
                raise InvalidTransition(self.client_order_id, state, type(event).__name__)
            self._fill(state, event)
            return True
        target = TRANSITIONS.get((state, type(event)))
        if target is None:
            raise InvalidTransition(self.client_order_id, state, type(event).__name__)
        if type(event) is OrderAccepted:
            self.venue_order_id = event.venue_order_id
        elif type(event) is OrderSubmitted:
            self.venue = event.venue
        elif type(event) is OrderModified:
            self._modify(event)
            if self.filled_quantity and self.filled_quantity == self.quantity:
                target = S.FILLED  # cut down to what has already filled: complete
        if target is RESTORE:
            target = self.status_before_pending
            if self.filled_quantity:
                # A fill crossed the request in flight: the order it returns to is
                # partially filled now, whatever it was before the request.
                target = S.PARTIALLY_FILLED
        elif target in _PENDING_STATES and state not in _PENDING_STATES:
            self.status_before_pending = state
        self.status = target  # type: ignore[assignment]
        self.last_event_ts = event.ts_event
        return True

    def _fill(self, state: OrderStatus, event: OrderFilled | OrderChildFilled) -> None:
        """Book one new fill (its transition is allowed) and move to the state it implies.

        Every fill entry of the table targets ``BY_FILL``: the quantities decide.
        """
        filled = self.filled_quantity + event.last_quantity
        if filled > self.quantity:
            raise OverfillError(
                f"order {self.client_order_id}: fill {event.trade_id} of "
                f"{event.last_quantity} takes filled quantity to {filled}, "
                f"over the order quantity {self.quantity}"
            )
        self.trade_ids.add(event.trade_id)
        self.filled_quantity = filled
        self.avg_price_notional += event.last_quantity * event.last_price
        if self.venue_order_id is None and type(event) is OrderFilled:
            self.venue_order_id = event.venue_order_id
        if filled == self.quantity:
            self.status = _FILLED
        elif state not in _KEPT_ON_PARTIAL_FILL:
            self.status = _PARTIALLY_FILLED
        self.last_event_ts = event.ts_event

    def _modify(self, event: OrderModified) -> None:
        if event.quantity is not None:
            if event.quantity < self.filled_quantity:
                raise OverfillError(
                    f"order {self.client_order_id}: new quantity {event.quantity} is below "
                    f"the filled quantity {self.filled_quantity}"
                )
            self.quantity = event.quantity
        if event.price is not None:
            self.price = event.price
        if event.trigger_price is not None:
            self.trigger_price = event.trigger_price


def is_reducing(side: OrderSide, position_quantity: Decimal) -> bool:
    """Return True when an order on ``side`` reduces a position of signed quantity."""
    return (side is OrderSide.SELL and position_quantity > 0) or (
        side is OrderSide.BUY and position_quantity < 0
    )


__all__ = [
    "BY_FILL",
    "RESTORE",
    "TRANSITIONS",
    "InvalidTransition",
    "Order",
    "OrderAccepted",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OverfillError",
    "is_reducing",
]
