"""The per-account trading engine: a deterministic single writer with no I/O.

Inputs are commands (submit, modify, cancel, signals), market data and execution
reports. Each input becomes immutable events, applied to the account state and
appended to the journal. Commands for venues wait in an outbox; ``flush`` makes the
journal durable first and only then hands them out (the write-ahead rule). Order
handling lives in ``core.OrderEngine``; this class adds signal intake and recovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import msgspec

from alphintra.domain.commands import (
    BracketRequest,
    OrderRequest,
    SubmitToVenue,
)
from alphintra.domain.enums import (
    OrderSide,
    OrderStatus,
    OrderType,
)
from alphintra.domain.events import (
    AnyEvent,
    AuditRecorded,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
    SignalReceived,
    SignalRejected,
)
from alphintra.domain.identifiers import (
    ClientOrderId,
    InstrumentId,
)
from alphintra.domain.orders import Order
from alphintra.domain.signals import TradingSignal
from alphintra.domain.values import Quantity
from alphintra.engine.core import (
    EMULATOR_VENUE_ORDER_ID,
    EventJournal,
    OrderEngine,
    RejectedReport,
)
from alphintra.orders.factory import check_bracket_prices
from alphintra.signals.translation import signal_to_request

__all__ = ["EventJournal", "RejectedReport", "TradingEngine"]


class TradingEngine(OrderEngine):
    """Runs one account: signals, orders, risk, emulation and booking."""

    def restore(self, events: list[AnyEvent]) -> None:
        """Rebuild state from journaled events (replay); nothing is re-journaled.

        A later call continues from the state an earlier one (or a snapshot) left.
        """
        released: dict[ClientOrderId, None] = {}  # emulated orders, in the emulator's order
        for event in events:
            if type(event) is OrderInitialized:
                self.instrument(event.instrument_id)
                self._inits[event.client_order_id] = event
            elif type(event) is OrderFilled:
                self.instrument(event.instrument_id)
            self.state.apply(event)
            if type(event) is OrderSubmitted:
                # The order as released: a bracket child goes out resized, on its entry's fill.
                order = self.state.orders[event.client_order_id]
                self._inits[order.client_order_id] = msgspec.structs.replace(
                    self._inits[order.client_order_id],
                    quantity=order.quantity,
                    price=order.price,
                    trigger_price=order.trigger_price,
                    ts_event=event.ts_event,
                )
            elif type(event) is OrderAccepted and event.venue_order_id == EMULATOR_VENUE_ORDER_ID:
                released[event.client_order_id] = None
        # Never reissue a journaled ID, though IDs drawn for failed requests left no event.
        prefix = f"{self._id_prefix}-"
        numbers = [i.removeprefix(prefix) for i in self._inits if i.startswith(prefix)]
        self._id_seq = max([self._id_seq, *(int(n) for n in numbers if n.isdigit())])
        for client_order_id in released:
            order = self.state.orders[client_order_id]
            if order.order_type is not OrderType.ICEBERG and order.status is OrderStatus.ACCEPTED:
                self.emulator.track(order, self.instrument(order.instrument_id))
        for client_order_id in self.emulator.tracked():  # released or closed since tracked
            if (order := self.state.orders[client_order_id]).status is not OrderStatus.ACCEPTED:
                self.emulator.untrack(order)

    def process_signal(self, signal: TradingSignal, quantity: Decimal | None = None) -> list[Order]:
        """Turn a sized signal into orders; a repeated signal ID returns its orders.

        Raise ``SignalRejected`` or ``OrderValidationError`` when the signal cannot
        become an order; nothing is recorded then.
        """
        if signal.signal_id in self.state.signals:
            return [o for o in self.state.orders.values() if o.signal_id == signal.signal_id]
        position = self.state.position_quantity(signal.instrument_id)
        request = signal_to_request(signal, quantity or signal.quantity, position)
        if isinstance(request, BracketRequest):
            self.instrument(signal.instrument_id)
            check_bracket_prices(request, self.state.marks.get(signal.instrument_id))
        ts = self.clock.now_ns()
        self._emit(self._signal_received(signal, ts, quantity or signal.quantity))
        if request is None:
            return []
        if isinstance(request, BracketRequest):
            return self.submit_bracket(request)
        return [self.submit(request)]

    def process_rebalance(
        self, signal: TradingSignal, deltas: Mapping[InstrumentId, Decimal]
    ) -> list[Order]:
        """Submit one market order per instrument to move positions by ``deltas``.

        A repeated signal ID returns its orders. Every order carries the signal's ID.
        """
        if signal.signal_id in self.state.signals:
            return [o for o in self.state.orders.values() if o.signal_id == signal.signal_id]
        ts = self.clock.now_ns()
        self._emit(self._signal_received(signal, ts, None))
        orders = []
        for instrument_id, delta in deltas.items():
            if not delta:
                continue
            orders.append(
                self.submit(
                    OrderRequest(
                        instrument_id=instrument_id,
                        side=OrderSide.BUY if delta > 0 else OrderSide.SELL,
                        order_type=OrderType.MARKET,
                        quantity=abs(delta),
                        signal_id=signal.signal_id,
                    )
                )
            )
        return orders

    def _signal_received(
        self, signal: TradingSignal, ts: int, quantity: Decimal | None
    ) -> SignalReceived:
        return SignalReceived(
            account_id=self.account_id,
            ts_event=signal.ts,
            ts_recv=ts,
            signal_id=signal.signal_id,
            model_id=signal.model_id,
            instrument_id=signal.instrument_id,
            action=signal.action,
            confidence=signal.confidence,
            quantity=quantity,
        )

    def reject_signal(self, signal: TradingSignal, code: str, reason: str) -> None:
        """Record a signal that cannot become an order (sizing failed, nothing to close)."""
        ts = self.clock.now_ns()
        if signal.signal_id not in self.state.signals:
            self._emit(self._signal_received(signal, ts, signal.quantity))
        self._emit(
            SignalRejected(
                account_id=self.account_id,
                ts_event=ts,
                ts_recv=ts,
                signal_id=signal.signal_id,
                reason_code=code,
                reason=reason,
            )
        )

    def record(self, event: AuditRecorded) -> None:
        """Append an audit record to the account's stream."""
        self._emit(event)

    def resubmit_after_restart(self, client_order_id: ClientOrderId) -> None:
        """Send a working order again, under the same ID, to a venue that lost it.

        Only the quantity still working is sent, so the venue cannot overfill it.
        """
        order = self._order(client_order_id)
        init = self._inits[client_order_id]
        leaves = order.quantity - order.filled_quantity
        released = msgspec.structs.replace(
            init,
            quantity=Quantity(leaves),
            price=order.price,
            trigger_price=order.trigger_price,
            ts_event=self.clock.now_ns(),
        )
        self._outbox.append(SubmitToVenue(venue=order.venue or self.default_venue, order=released))
