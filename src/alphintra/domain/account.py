"""The state of one account: the fold of its events.

The live engine and journal replay both build state only through
``AccountState.apply``, so replaying the journal reproduces the live state exactly.
"""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Final

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TradingState
from alphintra.domain.events import (
    AccountFunded,
    AccountOpened,
    AnyEvent,
    EquityMarksRecorded,
    Event,
    MarkUpdated,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    SignalReceived,
    SignalRejected,
    TradingStateChanged,
)
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, SignalId
from alphintra.domain.orders import Order
from alphintra.domain.positions import Position
from alphintra.domain.values import ZERO, Currency

_BUY: Final = OrderSide.BUY
_CLOSED_STATES: Final = frozenset(status for status in OrderStatus if status.is_closed)
# The order event classes, for a dispatch without an isinstance() call on the hot path;
# any other subclass of OrderEvent still takes the isinstance() branch.
_ORDER_EVENT_TYPES: Final = frozenset(
    cls for cls in typing.get_args(AnyEvent) if issubclass(cls, OrderEvent)
)


class UnknownOrderError(KeyError):
    """An event names an order the account does not know."""


def is_execution_parent(order: Order) -> bool:
    """Return True for a parent whose children carry the real fills.

    That is an emulated iceberg, or any parent worked by an execution algorithm.
    """
    return order.emulated and (
        order.order_type is OrderType.ICEBERG or order.exec_algorithm is not None
    )


class AccountState:
    """Orders, positions, cash and trading state of one account."""

    __slots__ = (
        "account_id",
        "base_currency",
        "cash",
        "cash_version",
        "denials",
        "equity_marks",
        "event_count",
        "fees",
        "marks",
        "multipliers",
        "open_orders",
        "open_reduce_only",
        "orders",
        "positions",
        "quote_currencies",
        "signal_orders",
        "signal_rejections",
        "signals",
        "trading_state",
    )

    def __init__(
        self,
        account_id: AccountId,
        multipliers: dict[InstrumentId, Decimal],
        quote_currencies: dict[InstrumentId, Currency],
    ) -> None:
        self.account_id = account_id
        self.multipliers = multipliers
        self.quote_currencies = quote_currencies
        self.base_currency: Currency = "USD"
        self.orders: dict[ClientOrderId, Order] = {}
        self.open_orders: dict[ClientOrderId, Order] = {}
        self.open_reduce_only: dict[ClientOrderId, Order] = {}
        """The reduce-only orders among ``open_orders``, in the same order."""
        self.positions: dict[InstrumentId, Position] = {}
        self.cash: dict[Currency, Decimal] = {}
        self.fees: dict[Currency, Decimal] = {}
        self.marks: dict[InstrumentId, Decimal] = {}
        self.signals: dict[SignalId, SignalReceived] = {}
        self.denials: dict[ClientOrderId, OrderDenied] = {}
        """Why each denied order was denied."""
        self.signal_rejections: dict[SignalId, SignalRejected] = {}
        self.signal_orders: dict[SignalId, list[Order]] = {}
        """The orders of each signal, so that a signal's status costs no scan of every order."""
        self.trading_state = TradingState.ACTIVE
        self.equity_marks: EquityMarksRecorded | None = None
        """The loss monitor's last journaled day start and high-water mark."""
        self.event_count = 0
        self.cash_version = 0
        """Counts changes of cash or positions: a valuation is stale once it moves."""

    def apply(self, event: Event) -> bool:
        """Fold one event into the state; return False when it changed nothing (duplicate)."""
        self.event_count += 1
        if type(event) in _ORDER_EVENT_TYPES or isinstance(event, OrderEvent):
            # Order events (four of every five events) fold here, without another call.
            client_order_id = event.client_order_id  # type: ignore[attr-defined]
            if type(event) is OrderInitialized:
                created = Order(event)
                self.orders[client_order_id] = created
                self.open_orders[client_order_id] = created
                if created.reduce_only:
                    self.open_reduce_only[client_order_id] = created
                if event.signal_id is not None:
                    self.signal_orders.setdefault(event.signal_id, []).append(created)
                return True
            order = self.orders.get(client_order_id)
            if order is None:
                raise UnknownOrderError(
                    f"{type(event).__name__} names unknown order {client_order_id!r}"
                )
            changed = order.apply(event)  # type: ignore[arg-type]
            if type(event) is OrderDenied:
                self.denials[client_order_id] = event
            if order.status in _CLOSED_STATES:
                self.open_orders.pop(client_order_id, None)
                if order.reduce_only:
                    self.open_reduce_only.pop(client_order_id, None)
            if changed and type(event) is OrderFilled:
                self._book_fill(event)
            return changed
        if type(event) is AccountFunded:
            self.cash_version += 1
            self.cash[event.currency] = self.cash.get(event.currency, ZERO) + event.amount
        elif type(event) is TradingStateChanged:
            self.trading_state = event.state
        elif type(event) is EquityMarksRecorded:
            self.equity_marks = event
        elif type(event) is MarkUpdated:
            self.marks[event.instrument_id] = event.mark
        elif type(event) is SignalReceived:
            self.signals[event.signal_id] = event
        elif type(event) is SignalRejected:
            self.signal_rejections[event.signal_id] = event
        elif type(event) is AccountOpened:
            self.base_currency = event.base_currency
        return True

    def _book_fill(self, fill: OrderFilled) -> None:
        self.cash_version += 1
        instrument_id = fill.instrument_id
        position = self.positions.get(instrument_id)
        multiplier = self.multipliers[instrument_id]
        quote = self.quote_currencies[instrument_id]
        if position is None:
            position = Position(self.account_id, instrument_id, multiplier, quote)
            self.positions[instrument_id] = position
        signed = fill.last_quantity if fill.side is _BUY else -fill.last_quantity
        realized = position.apply_fill(
            fill.venue, fill.trade_id, signed, fill.last_price, fill.ts_event
        )
        if realized is None:
            return  # the position already holds this (venue, trade ID): book no cash twice
        cash = self.cash
        cash[quote] = cash.get(quote, ZERO) - signed * fill.last_price * multiplier
        if fill.fee:
            fee_currency = fill.fee_currency
            cash[fee_currency] = cash.get(fee_currency, ZERO) - fill.fee
            self.fees[fee_currency] = self.fees.get(fee_currency, ZERO) + fill.fee

    def position_quantity(self, instrument_id: InstrumentId) -> Decimal:
        """Return the signed position in ``instrument_id`` (zero when none)."""
        position = self.positions.get(instrument_id)
        return position.quantity if position is not None else ZERO

    def fingerprint(self) -> tuple[object, ...]:
        """Return a comparable summary of everything that must survive a replay."""
        return (
            self.base_currency,
            self.trading_state,
            sorted(self.cash.items()),
            sorted(self.fees.items()),
            sorted(
                (
                    o.client_order_id,
                    o.status,
                    o.quantity,
                    o.filled_quantity,
                    o.avg_price_notional,
                    o.price,
                    o.trigger_price,
                    o.venue_order_id,
                    tuple(sorted(o.trade_ids)),
                )
                for o in self.orders.values()
            ),
            sorted(
                (
                    p.instrument_id,
                    p.quantity,
                    p.open_cost,
                    p.realized_pnl,
                    p.opened_ts,
                    tuple(sorted(p.trade_ids)),
                )
                for p in self.positions.values()
            ),
            sorted(self.open_orders),
            sorted(self.signals),
            self.equity_marks,
        )
