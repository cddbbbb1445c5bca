"""The order engine: orders, risk, emulation and contingencies of one account.

Inputs are commands (submit, modify, cancel), market data and execution reports.
Each input becomes immutable events, applied to the account state and appended to
the journal. Commands for venues wait in an outbox; ``flush`` makes the journal
durable first and only then hands them out (the write-ahead rule).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Concatenate, ParamSpec, TypeVar

import msgspec

from alphintra.domain.account import UnknownOrderError, is_execution_parent
from alphintra.domain.commands import (
    CancelAtVenue,
    ModifyAtVenue,
    OrderRequest,
    SubmitToVenue,
    VenueCommand,
)
from alphintra.domain.enums import (
    AssetClass,
    ContingencyType,
    InstrumentKind,
    OrderSide,
    OrderStatus,
    OrderType,
)
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderChildFilled,
    OrderDenied,
    OrderEvents,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModified,
    OrderPendingCancel,
    OrderPendingModify,
    OrderSubmitted,
    OrderTriggered,
)
from alphintra.domain.identifiers import (
    ClientOrderId,
    InstrumentId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.instruments import Instrument, InstrumentRuleError
from alphintra.domain.market import MarketData, QuoteTick, closing_mid
from alphintra.domain.orders import InvalidTransition, Order, OverfillError, time_in_force_over
from alphintra.domain.values import Price, Quantity
from alphintra.engine.base import EngineBase, RejectedReport
from alphintra.orders.emulator import MoveTrigger, Release
from alphintra.orders.factory import OrderValidationError, build_order
from alphintra.risk.changes import adds_risk, check_order_change
from alphintra.risk.pretrade import check_order

EMULATOR_VENUE_ORDER_ID = VenueOrderId("EMULATED")
_FX_SOURCES = frozenset({AssetClass.FX, AssetClass.CRYPTO})
_CLOSED_STATES = frozenset(status for status in OrderStatus if status.is_closed)
# Enum members read on hot paths, as constants: an enum class attribute is slow.
_OCO = ContingencyType.OCO
_OTO = ContingencyType.OTO
_NEW = OrderStatus.NEW
_ACCEPTED = OrderStatus.ACCEPTED
_FILLED = OrderStatus.FILLED
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_PENDING_MODIFY = OrderStatus.PENDING_MODIFY
_FITTABLE = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
"""Statuses in which a reduce-only order is resized or cancelled to fit the position."""
_SPOT = InstrumentKind.SPOT
_P = ParamSpec("_P")
_R = TypeVar("_R")
_E = TypeVar("_E", bound="OrderEngine")


def _ids_back_on_refusal(
    method: Callable[Concatenate[_E, _P], _R],
) -> Callable[Concatenate[_E, _P], _R]:
    # Give back the client order IDs a refused request drew: every ID the engine issues
    # is then journaled, and a replay continues the numbering exactly.
    @functools.wraps(method)
    def guarded(engine: _E, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        id_seq, recorded = engine._id_seq, len(engine._inits)
        try:
            return method(engine, *args, **kwargs)
        except OrderValidationError:
            if len(engine._inits) == recorded:
                engine._id_seq = id_seq
            raise

    return guarded


class OrderEngine(EngineBase):
    """Runs one account: validates, risk-checks, emulates and books everything."""

    # Commands -------------------------------------------------------------------

    def _venue_for(self, request: OrderRequest, instrument: Instrument) -> VenueId:
        venue = request.venue or instrument.venue or self.default_venue
        if venue not in self.venues:
            raise OrderValidationError(
                "UNKNOWN_VENUE", f"venue {venue!r} is not configured; known: {sorted(self.venues)}"
            )
        return venue

    def submit(self, request: OrderRequest) -> Order:
        """Validate, risk-check and release one order; return it (possibly DENIED).

        A client order ID that already exists returns the existing order unchanged.
        Raise ``OrderValidationError`` for a malformed request; nothing is recorded.
        """
        client_order_id = request.client_order_id
        if client_order_id is not None:
            existing = self.state.orders.get(client_order_id)
            if existing is not None:
                return existing
        # As _ids_back_on_refusal, inline: a refused request gives back the ID it drew.
        id_seq, recorded = self._id_seq, len(self._inits)
        try:
            init, instrument = self._prepare(request)
            # As _create_and_release, one call fewer.
            self._inits[init.client_order_id] = init
            self._emit(init)
            order = self.state.orders[init.client_order_id]
            self._risk_and_release(order, init, instrument)
            return order
        except OrderValidationError:
            if len(self._inits) == recorded:
                self._id_seq = id_seq
            raise

    def _prepare(
        self, request: OrderRequest, client_order_id: ClientOrderId | None = None
    ) -> tuple[OrderInitialized, Instrument]:
        """Validate ``request`` into the order it would make, recording nothing; raise
        ``OrderValidationError`` if `submit` would refuse it. The order takes
        ``client_order_id``, else the request's, else a fresh one (which a caller that
        then records nothing must give back: `_ids_back_on_refusal`)."""
        instrument = self._instruments.get(request.instrument_id) or self.instrument(
            request.instrument_id
        )
        # Through the hook: a subclass routes (service/live.py RoutedEngine) or refuses.
        venue = self._venue_for(request, instrument)
        init = build_order(
            request,
            instrument,
            account_id=self.account_id,
            client_order_id=(
                client_order_id or request.client_order_id or self.next_client_order_id()
            ),
            venue=venue,
            native_types=self.venues[venue].order_types,
            ts=self.clock.now_ns(),
        )
        return init, instrument

    def _create_and_release(self, init: OrderInitialized, instrument: Instrument) -> Order:
        self._inits[init.client_order_id] = init
        self._emit(init)
        order = self.state.orders[init.client_order_id]
        self._risk_and_release(order, init, instrument)
        return order

    def _send(self, command: VenueCommand) -> None:
        """Queue a venue command (released by ``flush``) and count it for the throttles."""
        self._outbox.append(command)
        rate = self._order_rate
        if rate is not None:
            ts = self.clock.now_ns()
            if type(command) is SubmitToVenue:
                rate.record_order(ts, command.venue)
            else:
                rate.record_message(ts, command.venue)

    def _risk_and_release(
        self, order: Order, init: OrderInitialized, instrument: Instrument
    ) -> bool:
        monitor = self.monitor  # a breaker can deny only while one is tripped
        if (
            monitor is not None
            and monitor.tripped
            and self._breaker_denies(order, init, instrument)
        ):
            return False
        context = self._context
        if context is None or self._context_limits is not self.limits:
            context = self._risk_context()
        denial = check_order(init, instrument, self.state, self.limits, context)
        if denial is not None:
            self._deny(order, denial.code, denial.reason)
            return False
        self._release(order, init, instrument)
        return True

    def _breaker_denies(self, order: Order, init: OrderInitialized, instrument: Instrument) -> bool:
        """Deny ``order`` if the monitor's breaker blocks it; True when it did (a hook)."""
        return False

    def _monitor_fill(self, fill: OrderFilled) -> None:
        """Run the monitor after a booked fill (a hook; the engine has one set)."""

    def _deny(self, order: Order, code: str, reason: str) -> None:
        ts = self.clock.now_ns()
        self._emit(
            OrderDenied(
                account_id=self.account_id,
                client_order_id=order.client_order_id,
                ts_event=ts,
                ts_recv=ts,
                reason_code=code,
                reason=reason,
            )
        )
        self._after_close(order)

    def _release(self, order: Order, init: OrderInitialized, instrument: Instrument) -> None:
        ts = init.ts_event
        venue = init.venue or self.default_venue
        self._emit(
            OrderSubmitted(
                account_id=self.account_id,
                client_order_id=order.client_order_id,
                ts_event=ts,
                ts_recv=ts,
                venue=venue,
            )
        )
        if not order.emulated:
            if order.contingency is _OCO and not self._venue_handles_oco(order):
                # The engine works this OCO link itself; the venue must not also do so.
                init = msgspec.structs.replace(
                    init, contingency=ContingencyType.NONE, order_list_id=None
                )
            command = SubmitToVenue(venue=venue, order=init)
            self._outbox.append(command)  # as _send, one call fewer
            if self._order_rate is not None:
                self._order_rate.record_order(self.clock.now_ns(), venue)
            return
        self._emit(
            OrderAccepted(
                account_id=self.account_id,
                client_order_id=order.client_order_id,
                ts_event=ts,
                ts_recv=ts,
                venue_order_id=EMULATOR_VENUE_ORDER_ID,
            )
        )
        if is_execution_parent(order):  # an iceberg or an execution algorithm's parent
            self._next_slice(order)
        else:
            self.emulator.track(order, instrument)

    def cancel(self, client_order_id: ClientOrderId, reason: str = "") -> bool:
        """Request cancellation; return False when the order is already closed.

        Raise ``UnknownOrderError`` for an order this account does not have.
        """
        order = self._order(client_order_id)
        if order.status in _CLOSED_STATES or order.status is _PENDING_CANCEL:
            return False
        ts = self.clock.now_ns()
        if (
            order.status is _NEW
            or (order.emulated and order.status is _ACCEPTED)
            or is_execution_parent(order)  # partly filled too: the venue holds only slices
        ):
            # Held by the engine (bracket child, emulated trigger, iceberg parent).
            self.emulator.untrack(order)
            self._emit(self._cancelled(order, ts, reason or "cancelled by request"))
            self._after_close(order)
            return True
        self._emit(
            OrderPendingCancel(
                account_id=self.account_id,
                client_order_id=client_order_id,
                ts_event=ts,
                ts_recv=ts,
            )
        )
        self._send(
            CancelAtVenue(
                venue=order.venue or self.default_venue,
                account_id=self.account_id,
                client_order_id=client_order_id,
                instrument_id=order.instrument_id,
                ts=ts,
            )
        )
        return True

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> bool:
        """Request a change of quantity, price or trigger price; False when closed.

        A change that adds quantity or moves a price is checked as the order would then
        stand, by the same pre-trade checks as a new order (`_check_change`); refused,
        it raises ``OrderValidationError`` with the denial's code and reason, and the order
        keeps working unchanged. Raise ``OrderValidationError`` (CHANGE_PENDING) while a
        cancel or another change of the order awaits the venue's answer.
        """
        return self._modify(
            client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
            checked=True,
        )

    def _modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
        checked: bool,
    ) -> bool:
        """`modify`; unchecked (``checked=False``) for the engine's own protective
        changes: an exit resized to the position, an OCO sibling cut, a stop tightened."""
        order = self._order(client_order_id)
        if order.status.is_closed:
            return False
        if order.status in (_PENDING_MODIFY, _PENDING_CANCEL):
            raise OrderValidationError(
                "CHANGE_PENDING",
                f"order {client_order_id} is {order.status}: wait for the venue's answer",
            )
        instrument = self.instrument(order.instrument_id)
        try:
            new_quantity = instrument.make_quantity(quantity) if quantity is not None else None
            new_price = instrument.make_price(price) if price is not None else None
            new_trigger = (
                instrument.make_price(trigger_price) if trigger_price is not None else None
            )
        except InstrumentRuleError as exc:
            raise OrderValidationError("INVALID_MODIFY", str(exc)) from None
        if new_quantity is not None and new_quantity < order.filled_quantity:
            raise OrderValidationError(
                "INVALID_MODIFY",
                f"new quantity {new_quantity} is below the filled {order.filled_quantity}",
            )
        if new_price is not None and order.price is None:
            raise OrderValidationError("INVALID_MODIFY", f"{order.order_type} has no price")
        if (
            new_trigger is not None
            and order.trigger_price is None
            and (order.order_type is not OrderType.TRAILING_STOP)
        ):
            raise OrderValidationError("INVALID_MODIFY", f"{order.order_type} has no trigger price")
        if checked:
            self._check_change(order, instrument, new_quantity, new_price, new_trigger)
        ts = self.clock.now_ns()
        if order.status is _NEW or (order.emulated and order.status is _ACCEPTED):
            self._emit(self._modified(order, ts, new_quantity, new_price, new_trigger))
            if new_trigger is not None and order.status is _ACCEPTED:
                # A trailing stop then trails from the stop set here, as after a restart:
                # the best price seen before is not in the journal.
                self.emulator.track(order, instrument)
            return True
        self._emit(
            OrderPendingModify(
                account_id=self.account_id, client_order_id=client_order_id, ts_event=ts, ts_recv=ts
            )
        )
        self._send(
            ModifyAtVenue(
                venue=order.venue or self.default_venue,
                account_id=self.account_id,
                client_order_id=client_order_id,
                instrument_id=order.instrument_id,
                quantity=new_quantity,
                price=new_price,
                trigger_price=new_trigger,
                ts=ts,
            )
        )
        return True

    def _check_change(
        self,
        order: Order,
        instrument: Instrument,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> None:
        """Raise ``OrderValidationError`` when pre-trade risk denies ``order`` as changed
        (`alphintra.risk.changes`); the order then keeps working as it was."""
        if not adds_risk(order, quantity, price, trigger_price):
            return
        released = self._inits.get(order.client_order_id)
        if released is None:
            raise OrderValidationError(
                "RISK_UNAVAILABLE",
                f"order {order.client_order_id} was not released by this engine: "
                "its change cannot be risk-checked",
            )
        monitor = self.monitor
        denial = check_order_change(
            order,
            released,
            instrument,
            self.state,
            self.limits,
            self._risk_context(),
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
            now_ns=self.clock.now_ns(),
            breaker_tripped=monitor is not None
            and bool(monitor.tripped)
            and monitor.entries_blocked(instrument.id),
        )
        if denial is not None:
            raise OrderValidationError(denial.code, denial.reason)

    def _order(self, client_order_id: ClientOrderId) -> Order:
        order = self.state.orders.get(client_order_id)
        if order is None:
            raise UnknownOrderError(f"unknown order {client_order_id!r}")
        return order

    # Inputs ---------------------------------------------------------------------

    def on_market_data(self, data: MarketData) -> None:
        """Update marks and rates, and work emulated orders on the instrument."""
        instrument_id = data.instrument_id
        mark = closing_mid(data)
        self.state.marks[instrument_id] = mark
        self._data_seq += 1
        instrument = self._instruments.get(instrument_id) or self.instrument(instrument_id)
        if instrument.asset_class in _FX_SOURCES and instrument.kind is _SPOT:
            self.fx.update(instrument.base_currency, instrument.quote_currency, mark)
        if self.emulator.watches(instrument_id):
            self.expire_emulated(data.ts, instrument_id)
            if type(data) is QuoteTick and data.indicative:
                return  # a closed market's mark: a native stop would wait for the reopen
            for action in self.emulator.on_market_data(data):
                order = self.state.orders[action.order_id]
                if type(action) is MoveTrigger:
                    self._emit(self._modified(order, data.ts, None, None, action.trigger_price))
                else:
                    assert type(action) is Release
                    self._release_emulated(order, action.order_type, data.ts)

    def expire_emulated(self, ts: int, instrument_id: InstrumentId | None = None) -> None:
        """Expire the emulated trigger orders whose time in force ran out by ``ts`` (GTD
        at its expire time, DAY on a later UTC day, as the simulated venue does): no
        venue holds them to do it, and an expired stop must not trigger."""
        for order in self.emulator.watched(instrument_id):
            if time_in_force_over(order.time_in_force, order.expire_ts, order.ts_init, ts):
                self.emulator.untrack(order)
                self._emit(
                    OrderExpired(
                        account_id=self.account_id,
                        client_order_id=order.client_order_id,
                        ts_event=ts,
                        ts_recv=ts,
                    )
                )
                self._after_close(order)

    def _release_emulated(self, order: Order, order_type: OrderType, ts: int) -> None:
        self._emit(
            OrderTriggered(
                account_id=self.account_id,
                client_order_id=order.client_order_id,
                ts_event=ts,
                ts_recv=ts,
            )
        )
        released = msgspec.structs.replace(
            self._inits[order.client_order_id],
            order_type=order_type,
            quantity=Quantity(order.quantity - order.filled_quantity),
            price=order.price if order_type is OrderType.LIMIT else None,
            trigger_price=None,
            trailing_offset=None,
            trailing_offset_type=None,
            emulated=False,
            # An emulated member means the engine works the OCO link, not the venue.
            contingency=ContingencyType.NONE,
            order_list_id=None,
            ts_event=ts,
            ts_recv=ts,
        )
        self._send(SubmitToVenue(venue=order.venue or self.default_venue, order=released))

    def on_venue_event(self, event: OrderEvents) -> bool:
        """Apply one execution report; return False when it was a duplicate or invalid.

        An invalid report (unknown order, illegal transition, overfill) leaves the state
        unchanged and is kept in ``rejected_reports``.
        """
        try:
            changed = self._emit(event)
        except (InvalidTransition, OverfillError, UnknownOrderError) as exc:
            self.rejected_reports.append(RejectedReport(event, str(exc)))
            return False
        if not changed:
            return False
        order = self.state.orders[event.client_order_id]
        if type(event) is OrderFilled:
            self._after_fill(order, event)
            if self.monitor is not None:
                self._monitor_fill(event)
        elif order.status in _CLOSED_STATES:
            self._after_close(order)
        return True

    # Contingencies and execution parents ---------------------------------------

    def _after_fill(self, order: Order, fill: OrderFilled) -> None:
        position = self.state.positions.get(fill.instrument_id)
        if position is None or not position.quantity:
            # A flat position needs no protection: reduce-only orders would only
            # ever open a new one if they stayed. A venue with native OCO cancels the
            # siblings of a filled member itself; a second cancel would be refused.
            cancelled_by_venue = (
                order.linked_ids
                if order.status is _FILLED
                and order.contingency is _OCO
                and self._venue_handles_oco(order)
                else ()
            )
            for other in tuple(self.state.open_reduce_only.values()):
                if (
                    other.instrument_id == fill.instrument_id
                    and other is not order
                    and other.client_order_id not in cancelled_by_venue
                ):
                    self.cancel(other.client_order_id, "position is flat")
        self._contingencies_after_fill(order, fill)
        if position is not None and position.quantity and self.state.open_reduce_only:
            self._fit_reduce_only(order, fill.instrument_id, position.quantity)

    def _contingencies_after_fill(self, order: Order, fill: OrderFilled) -> None:
        if order.parent_id is not None:
            parent = self.state.orders.get(order.parent_id)
            if parent is not None and is_execution_parent(parent):
                self._mirror_fill(parent, order, fill)
                return
        if order.contingency is _OTO:
            self._activate_children(order)
        elif order.contingency is _OCO and not self._venue_handles_oco(order):
            self._update_siblings(order, fill)

    def _fit_reduce_only(self, filled: Order, instrument_id: InstrumentId, held: Decimal) -> None:
        """Keep the working reduce-only orders of an instrument within its position.

        A fill of another order that shrank the position (a partial close) leaves exits
        larger than what they protect, and one that took it across zero leaves exits
        that would add to the new side; a venue that does not enforce reduce-only (IB,
        the simulated venue) would fill either past zero. The first are cut to the
        position (cancelled when what is left is below the instrument's minimum
        quantity), the second cancelled. An exit not yet working at the venue (waiting
        for its entry, or for an acknowledgement) or with a change in flight is left to
        the next fill; the order that filled and its OCO siblings are its own
        contingencies' (`_update_siblings`, or the venue's native OCO).
        """
        size = abs(held)
        closing = OrderSide.SELL if held > 0 else OrderSide.BUY
        siblings = filled.linked_ids if filled.contingency is _OCO else ()
        for other in tuple(self.state.open_reduce_only.values()):
            if (
                other.instrument_id != instrument_id
                or other.status not in _FITTABLE
                or other is filled
                or other.client_order_id in siblings
            ):
                continue
            if other.side is not closing:
                self.cancel(other.client_order_id, "position is now on the order's side")
            elif other.quantity - other.filled_quantity > size:
                try:
                    self._modify(
                        other.client_order_id,
                        quantity=other.filled_quantity + size,
                        price=None,
                        trigger_price=None,
                        checked=False,
                    )
                except OrderValidationError as exc:
                    # No order of that size can exist (below the instrument's minimum):
                    # left as it is, the exit would sell past zero.
                    self.cancel(other.client_order_id, f"cannot be cut to the position: {exc}")

    def _after_close(self, order: Order) -> None:
        if order.contingency is _OTO and not order.filled_quantity:
            for child_id in order.linked_ids:
                child = self.state.orders[child_id]
                if child.status is _NEW:
                    self._emit(
                        self._cancelled(child, self.clock.now_ns(), "parent closed unfilled")
                    )
        if order.parent_id is not None and self._is_slice(order) and order.status is not (_FILLED):
            parent = self.state.orders[order.parent_id]
            if parent.is_open:
                self._emit(self._cancelled(parent, self.clock.now_ns(), "working slice closed"))
        if is_execution_parent(order):
            for child in tuple(self.state.open_orders.values()):
                if child.parent_id == order.client_order_id:
                    self.cancel(child.client_order_id, "parent closed")

    def _is_slice(self, order: Order) -> bool:
        parent = self.state.orders.get(order.parent_id) if order.parent_id else None
        return parent is not None and is_execution_parent(parent)

    def _activate_children(self, entry: Order) -> None:
        # Protect what the entry opened: in a netting account an entry that first
        # closed an opposite position leaves less than its fill to protect.
        held = self.state.position_quantity(entry.instrument_id) * entry.side.sign
        filled = Quantity(max(min(entry.filled_quantity, held), Decimal(0)))
        if not filled:
            for child_id in entry.linked_ids:
                child = self.state.orders[child_id]
                if child.status is _NEW:
                    self._emit(self._cancelled(child, self.clock.now_ns(), "nothing to protect"))
            return
        for child_id in entry.linked_ids:
            child = self.state.orders[child_id]
            if child.status is _NEW:
                if child.quantity != filled:
                    self._emit(self._modified(child, self.clock.now_ns(), filled, None, None))
                # Release the child as it stands now: resized, and with any price or
                # trigger change made while it waited for its entry.
                init = msgspec.structs.replace(
                    self._inits[child_id],
                    quantity=filled,
                    price=child.price,
                    trigger_price=child.trigger_price,
                    ts_event=self.clock.now_ns(),
                )
                self._inits[child_id] = init
                self._risk_and_release(child, init, self.instrument(child.instrument_id))
            elif child.is_open and child.status not in (_PENDING_MODIFY, _PENDING_CANCEL):
                # Its leaves cover the position: what it filled already is out of it. A
                # resize already in flight is superseded by the next fill's resize; a child
                # being cancelled is going away (if the venue refuses the cancel, the next
                # fill resizes it).
                target = child.filled_quantity + filled
                if child.quantity != target:
                    self._modify(
                        child_id, quantity=target, price=None, trigger_price=None, checked=False
                    )

    def _venue_handles_oco(self, order: Order) -> bool:
        capabilities = self.venues.get(order.venue or self.default_venue)
        if capabilities is None or not capabilities.native_oco:
            return False
        return not any(self.state.orders[s].emulated for s in order.linked_ids) and (
            not order.emulated
        )

    def _update_siblings(self, order: Order, fill: OrderFilled) -> None:
        for sibling_id in order.linked_ids:
            sibling = self.state.orders[sibling_id]
            if not sibling.is_open or sibling.status is _PENDING_CANCEL:
                continue
            remaining = sibling.quantity - fill.last_quantity
            if order.status is _FILLED or remaining <= sibling.filled_quantity:
                self.cancel(sibling_id, "OCO sibling filled")
            elif sibling.status is not _PENDING_MODIFY:
                self._modify(
                    sibling_id, quantity=remaining, price=None, trigger_price=None, checked=False
                )

    def _next_slice(self, parent: Order) -> None:
        leaves = parent.quantity - parent.filled_quantity
        display = parent.display_quantity
        assert display is not None and parent.price is not None
        if leaves <= 0 or not parent.is_open:
            return
        instrument = self.instrument(parent.instrument_id)
        id_seq = self._id_seq
        try:
            init = build_order(
                OrderRequest(
                    instrument_id=parent.instrument_id,
                    side=parent.side,
                    order_type=OrderType.LIMIT,
                    quantity=min(display, leaves),
                    price=parent.price,
                    time_in_force=parent.time_in_force,
                    expire_ts=parent.expire_ts,
                    post_only=parent.post_only,
                    reduce_only=parent.reduce_only,
                    signal_id=parent.signal_id,
                ),
                instrument,
                account_id=self.account_id,
                client_order_id=self.next_client_order_id(),
                venue=parent.venue or self.default_venue,
                native_types=self.venues[parent.venue or self.default_venue].order_types,
                ts=self.clock.now_ns(),
                parent_id=parent.client_order_id,
            )
        except OrderValidationError as exc:  # e.g. what is left is below the minimum
            self._id_seq = id_seq  # nothing was journaled under the ID drawn
            self._emit(self._cancelled(parent, self.clock.now_ns(), f"slice refused: {exc}"))
            return
        self._inits[init.client_order_id] = init
        self._emit(init)
        child = self.state.orders[init.client_order_id]
        if not self._risk_and_release(child, init, instrument) and parent.is_open:
            self._emit(self._cancelled(parent, self.clock.now_ns(), "slice denied by risk"))

    def _mirror_fill(self, parent: Order, child: Order, fill: OrderFilled) -> None:
        self._emit(
            OrderChildFilled(
                account_id=self.account_id,
                client_order_id=parent.client_order_id,
                ts_event=fill.ts_event,
                ts_recv=fill.ts_recv,
                child_order_id=child.client_order_id,
                trade_id=fill.trade_id,
                last_quantity=fill.last_quantity,
                last_price=fill.last_price,
            )
        )
        if child.status is _FILLED and parent.is_open:
            self._next_slice(parent)

    # Event helpers --------------------------------------------------------------

    def _cancelled(self, order: Order, ts: int, reason: str) -> OrderCancelled:
        return OrderCancelled(
            account_id=self.account_id,
            client_order_id=order.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            reason=reason,
        )

    def _modified(
        self,
        order: Order,
        ts: int,
        quantity: Quantity | None,
        price: Price | None,
        trigger_price: Price | None,
    ) -> OrderModified:
        return OrderModified(
            account_id=self.account_id,
            client_order_id=order.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )
