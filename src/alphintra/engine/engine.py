"""The per-account trading engine: a deterministic single writer with no I/O.

Inputs are commands (submit, modify, cancel, signals), market data and execution
reports. Each input becomes immutable events, applied to the account state and
appended to the journal. Commands for venues wait in an outbox; ``flush`` makes the
journal durable first and only then hands them out (the write-ahead rule). Order
handling lives in ``core.OrderEngine``; this class adds signal intake and recovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

import msgspec

from alphintra.domain.account import is_execution_parent
from alphintra.domain.commands import (
    BracketRequest,
    OrderRequest,
    SubmitToVenue,
)
from alphintra.domain.enums import (
    ContingencyType,
    OrderSide,
    OrderStatus,
    OrderType,
    SignalAction,
    TradingState,
)
from alphintra.domain.events import (
    AlgoStateChanged,
    AlgoVolumeObserved,
    AnyEvent,
    AuditRecorded,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
    PositionMismatch,
    RiskAlertRaised,
    RoutingDecided,
    SignalReceived,
    SignalRejected,
    SizingPolicyChanged,
)
from alphintra.domain.identifiers import (
    ClientOrderId,
    InstrumentId,
    OrderListId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import MarketData
from alphintra.domain.orders import Order, is_reducing
from alphintra.domain.signals import TradingSignal
from alphintra.domain.values import Price, Quantity
from alphintra.engine.base import EventJournal, RejectedReport
from alphintra.engine.core import EMULATOR_VENUE_ORDER_ID, _ids_back_on_refusal
from alphintra.engine.sor import SorEngine
from alphintra.execution.algorithms import AlgoSpec
from alphintra.orders.brackets import build_bracket, exit_requests
from alphintra.orders.factory import OrderValidationError, check_bracket_prices
from alphintra.portfolio.valuation import PortfolioValue, value_account
from alphintra.risk.books import is_slice, side_reach
from alphintra.risk.denial import VOLATILITY_BREAKER
from alphintra.risk.monitors import (
    EmergencyStop,
    EnterReducing,
    MonitorAction,
    ResetBreaker,
    RiskMonitor,
    TripBreaker,
)
from alphintra.risk.order_checks import closes_within_position
from alphintra.signals.translation import SignalRejected as SignalRefused
from alphintra.signals.translation import signal_to_request

__all__ = ["EventJournal", "RejectedReport", "TradingEngine"]


MAX_CLOSE_PIECES: Final = 100
"""The most orders one emergency close (flatten, breaker reduction) sends."""

_CHECK_ID: Final = ClientOrderId("validation")
"""The client order ID of a request only validated (`_prepare`): no ID is drawn for it."""


class TradingEngine(SorEngine):
    """Runs one account: signals, orders, risk, emulation, execution algos, routing, booking."""

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
            elif (
                type(event) is AlgoStateChanged
                or type(event) is AlgoVolumeObserved
                or type(event) is RoutingDecided
            ):
                self._fold_algo_event(event)
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
            if not is_execution_parent(order) and order.status is OrderStatus.ACCEPTED:
                self.emulator.track(order, self.instrument(order.instrument_id))
        for client_order_id in self.emulator.tracked():  # released or closed since tracked
            if (order := self.state.orders[client_order_id]).status is not OrderStatus.ACCEPTED:
                self.emulator.untrack(order)
        self._restore_algos()
        self._restore_equity_marks()

    @_ids_back_on_refusal
    def submit_bracket(self, request: BracketRequest) -> list[Order]:
        """Submit an entry with a stop-loss and/or take-profit that activate on its fills.

        Return the entry followed by its children. All three are validated before
        anything is recorded.
        """
        entry_request = request.entry
        existing = self._existing(entry_request.client_order_id)
        if existing is not None:
            return [existing, *(self.state.orders[c] for c in existing.linked_ids)]
        instrument = self.instrument(entry_request.instrument_id)
        check_bracket_prices(request, self.state.marks.get(instrument.id))
        venue = self._venue_for(entry_request, instrument)
        native = self.venues[venue].order_types
        ts = self.clock.now_ns()
        entry_id = entry_request.client_order_id or self.next_client_order_id()
        child_ids = tuple(self.next_client_order_id() for _ in exit_requests(request))
        entry, *children = build_bracket(
            request,
            instrument,
            account_id=self.account_id,
            entry_id=entry_id,
            child_ids=child_ids,
            venue=venue,
            native_types=native,
            ts=ts,
        )
        for init in (entry, *children):
            self._inits[init.client_order_id] = init
            self._emit(init)
        entry_order = self.state.orders[entry_id]
        self._risk_and_release(entry_order, entry, instrument)
        return [entry_order, *(self.state.orders[c] for c in child_ids)]

    def valuation(self) -> PortfolioValue:
        """Value the account at the latest marks (cached until an event or new data)."""
        key = (self.state.cash_version, self._data_seq)
        cached = self._valuation
        if cached is not None and cached[0] == key:
            return cached[1]
        value = value_account(self.state, self.fx)
        self._valuation = (key, value)
        return value

    @_ids_back_on_refusal
    def process_signal(
        self,
        signal: TradingSignal,
        quantity: Decimal | None = None,
        algo: AlgoSpec | None = None,
    ) -> list[Order]:
        """Turn a sized signal into orders; a repeated signal ID returns its orders.

        With ``algo`` the order is worked by that execution algorithm (not with a
        stop loss or take profit). Raise ``SignalRejected`` or ``OrderValidationError``
        when the signal cannot become an order; nothing is recorded then, except when
        only ``algo`` is refused: the signal is then recorded as rejected with the
        error's code and reason. A bracket's exits must lie on the right side of the
        last price, or of ``entry_price`` while the instrument has no price yet.
        """
        if signal.signal_id in self.state.signals:
            return list(self.state.signal_orders.get(signal.signal_id, ()))
        position = self.state.position_quantity(signal.instrument_id)
        if signal.action is SignalAction.CLOSE_LONG:
            position -= self._closing_in_flight(signal.instrument_id, OrderSide.SELL)
        elif signal.action is SignalAction.CLOSE_SHORT:
            position += self._closing_in_flight(signal.instrument_id, OrderSide.BUY)
        request = signal_to_request(signal, quantity or signal.quantity, position)
        if isinstance(request, BracketRequest):
            if algo is not None:
                raise SignalRefused(
                    "ALGO_WITH_BRACKET", "an execution algorithm cannot work a bracket signal"
                )
            self.instrument(signal.instrument_id)
            # A market entry is judged at the last price; before any, at the model's own
            # entryPrice, so that a stop already through it is not armed to fire at once.
            mark = self.state.marks.get(signal.instrument_id)
            check_bracket_prices(request, signal.entry_price if mark is None else mark)
            for part in (request.entry, *exit_requests(request)):
                self._prepare(part, _CHECK_ID)
        prepared = None
        if isinstance(request, OrderRequest):
            if algo is None:  # built now, released after the signal is recorded
                prepared = self._prepare(request)
            else:
                self._prepare(request, _CHECK_ID)
        ts = self.clock.now_ns()
        self._emit(self._signal_received(signal, ts, quantity or signal.quantity))
        if request is None:
            return []
        if isinstance(request, BracketRequest):
            return self.submit_bracket(request)
        if prepared is not None:
            return [self._create_and_release(*prepared)]
        assert algo is not None
        try:
            return [self.submit_algo(request, algo)]
        except OrderValidationError as exc:
            # Only the algorithm's own terms are left to fail here (an end time already
            # past, for example): the signal is on record, so it says why.
            self.reject_signal(signal, exc.code, str(exc))
            raise

    def _closing_in_flight(self, instrument_id: InstrumentId, side: OrderSide) -> Decimal:
        """Return what the instrument's working reduce-only market orders on ``side``
        (closes and flattens not yet filled) have left to fill. A CLOSE signal closes
        only the rest: two sent before the first fills would otherwise both close the
        whole position, and a venue that does not enforce reduce-only fills both."""
        total = Decimal(0)
        for order in self.state.open_reduce_only.values():
            if (
                order.instrument_id == instrument_id
                and order.side is side
                and order.order_type is OrderType.MARKET
            ):
                total += order.quantity - order.filled_quantity
        return total

    @_ids_back_on_refusal
    def process_rebalance(
        self, signal: TradingSignal, deltas: Mapping[InstrumentId, Decimal]
    ) -> list[Order]:
        """Submit one market order per instrument to move positions by ``deltas``.

        A repeated signal ID returns its orders. Every order carries the signal's ID.
        Raise ``OrderValidationError`` when any of the orders is invalid (a quantity off
        the lot grid or below the minimum, for example); nothing is recorded then, so
        a rebalance never goes out half done.
        """
        if signal.signal_id in self.state.signals:
            return list(self.state.signal_orders.get(signal.signal_id, ()))
        requests = [
            OrderRequest(
                instrument_id=instrument_id,
                side=OrderSide.BUY if delta > 0 else OrderSide.SELL,
                order_type=OrderType.MARKET,
                quantity=abs(delta),
                signal_id=signal.signal_id,
            )
            for instrument_id, delta in deltas.items()
            if delta
        ]
        prepared = [self._prepare(request) for request in requests]
        ts = self.clock.now_ns()
        self._emit(self._signal_received(signal, ts, None))
        return [self._create_and_release(init, instrument) for init, instrument in prepared]

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
            entry_price=signal.entry_price,
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

    def record(self, event: AuditRecorded | SizingPolicyChanged) -> None:
        """Append a record that changes no engine state (an audit record, the account's
        sizing policy) to the account's stream."""
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
        self._send(SubmitToVenue(venue=order.venue or self.default_venue, order=released))

    # Risk monitors ------------------------------------------------------------------

    def attach_monitor(self, monitor: RiskMonitor) -> None:
        """Run ``monitor`` on every fill and market data point of this account.

        It carries on from the day start and peak the journal holds, if any.
        """
        self.monitor = monitor
        self._restore_equity_marks()
        self._context = None  # the risk context reads the monitor's day start and peak

    def on_market_data(self, data: MarketData) -> None:
        """Update marks and emulated orders, then run the monitors on the new price."""
        super().on_market_data(data)
        if self.limits.has_loss_checks:
            self.realized_vols.note(data.instrument_id, self.state.marks[data.instrument_id])
        if self.limits.correlation is not None:
            self._note_correlation(data)
        monitor = self.monitor
        if monitor is None:
            return
        limits = monitor.limits
        if (
            monitor.tripped
            or limits.volatility_threshold is not None
            or limits.jump_threshold is not None
        ):  # else `on_price` has nothing to do
            mark = self.state.marks[data.instrument_id]
            actions = monitor.on_price(data.instrument_id, data.ts, mark)
            if actions:
                self._act(actions)
        if self.state.positions and self._watches_equity(monitor):
            actions = monitor.on_equity(data.ts, self.equity())
            if actions:
                self._act(actions)

    def _monitor_fill(self, fill: OrderFilled) -> None:
        """Run the equity monitors after a fill (``on_venue_event`` calls it, last)."""
        monitor = self.monitor
        if monitor is not None and self._watches_equity(monitor):
            actions = monitor.on_equity(fill.ts_event, self.equity())
            if actions:
                self._act(actions)

    def on_timer(self, ts: int) -> None:
        """Work the execution algos, expire emulated orders, then run the equity monitors.

        Call it periodically: schedules move on, and the day can roll, without data.
        """
        super().on_timer(ts)
        self.expire_emulated(ts)
        monitor = self.monitor
        if monitor is not None and self._watches_equity(monitor):
            self._act(monitor.on_equity(ts, self.equity()))

    def _watches_equity(self, monitor: RiskMonitor) -> bool:
        limits = monitor.limits
        return (
            limits.max_drawdown is not None
            or limits.daily_loss_limit is not None
            or self.limits.loss is not None  # the pre-trade loss limits read its figures
        )

    def _breaker_denies(self, order: Order, init: OrderInitialized, instrument: Instrument) -> bool:
        """Deny an order that would add to a position while its circuit breaker is tripped.

        ``_risk_and_release`` asks this first, whenever a monitor is attached. An order
        passes when it reduces the position and cannot take it across zero, counting the
        working orders on its side (as REDUCING does): a burst of sells of a long, each
        within the position, could otherwise open a short together.
        """
        monitor = self.monitor
        if monitor is None or not monitor.entries_blocked(instrument.id):
            return False
        position = self.state.position_quantity(instrument.id)
        if init.reduce_only:
            reducing = closes_within_position(init.side, init.quantity, position)
        else:
            reducing = is_reducing(init.side, position) and side_reach(self.state, init)[1] == 0
        if not reducing:
            self._deny(
                order,
                VOLATILITY_BREAKER,
                f"{instrument.id} circuit breaker is tripped: only reducing orders are allowed",
            )
            return True
        return False

    def _alert(self, kind: str, message: str, instrument_id: InstrumentId | None = None) -> None:
        ts = self.clock.now_ns()
        self._emit(
            RiskAlertRaised(
                account_id=self.account_id,
                ts_event=ts,
                ts_recv=ts,
                kind=kind,
                message=message,
                instrument_id=instrument_id,
            )
        )

    def _act(self, actions: list[MonitorAction]) -> None:
        for action in actions:
            if type(action) is EmergencyStop:
                self._alert("drawdown", action.reason)
                self.cancel_all(f"emergency stop: {action.reason}")
                if action.flatten:
                    self.flatten(f"emergency stop: {action.reason}")
                self.set_trading_state(TradingState.HALTED, action.reason)
            elif type(action) is EnterReducing:
                self._alert("daily_loss", action.reason)
                if self.state.trading_state is TradingState.ACTIVE:  # never out of HALTED
                    self.set_trading_state(TradingState.REDUCING, action.reason)
                    self.cancel_risk_increasing(f"daily loss limit: {action.reason}")
            elif type(action) is TripBreaker:
                self._alert("volatility_breaker", action.reason, action.instrument_id)
                self._reduce(action.instrument_id, action.reduce_fraction, action.reason)
                self._tighten_stops(action.instrument_id, action.tighten_factor)
            elif type(action) is ResetBreaker:
                self._alert(
                    "volatility_breaker_reset",
                    f"{action.instrument_id} cool-down over",
                    action.instrument_id,
                )

    def cancel_all(self, reason: str, instrument_id: InstrumentId | None = None) -> int:
        """Cancel every open order (optionally of one instrument); return how many."""
        count = 0
        for order in tuple(self.state.open_orders.values()):
            if instrument_id is None or order.instrument_id == instrument_id:
                if is_slice(order, self.state):
                    continue  # the parent's cancel takes its working slice with it
                count += self.cancel(order.client_order_id, reason)
        return count

    def cancel_risk_increasing(self, reason: str) -> int:
        """Cancel the working orders REDUCING would deny now; return how many.

        REDUCING judges new orders only, so an entry resting before the breach could
        still fill and add to the position. This cancels every order that is not
        reduce-only and either adds to its position or, with the orders before it on
        its side, would take the position across zero. An algorithm's or iceberg's
        parent is judged for its slices; a bracket's exits are reduce-only and stay.
        As in REDUCING's check, the reduce-only orders on a side count first, up to the
        position they close (an OCO list once): one of them can flatten the position
        before a plain order on its side fills, which then opens the other way.
        """
        state = self.state
        used: dict[tuple[InstrumentId, OrderSide], Decimal] = {}
        groups: dict[tuple[OrderListId, OrderSide], Decimal] = {}
        for order in state.open_orders.values():
            if not order.reduce_only or is_slice(order, state):
                continue
            leaves = order.quantity - order.filled_quantity
            if order.contingency is ContingencyType.OCO and order.order_list_id is not None:
                group = (order.order_list_id, order.side)
                counted = groups.get(group, Decimal(0))
                groups[group] = max(counted, leaves)
                leaves = max(leaves - counted, Decimal(0))
            key = (order.instrument_id, order.side)
            used[key] = used.get(key, Decimal(0)) + leaves
        for key, reach in used.items():
            used[key] = min(reach, abs(state.position_quantity(key[0])))
        count = 0
        for order in tuple(state.open_orders.values()):
            if not order.is_open or order.reduce_only:
                continue  # cancelled with its parent earlier in this loop; or bounded
            if is_slice(order, state):
                continue  # the parent is judged (and cancelled) for it
            position = state.position_quantity(order.instrument_id)
            if is_reducing(order.side, position):
                key = (order.instrument_id, order.side)
                reach = used.get(key, Decimal(0)) + order.quantity - order.filled_quantity
                if reach <= abs(position):
                    used[key] = reach
                    continue
            count += self.cancel(order.client_order_id, reason)
        return count

    def flatten(self, reason: str, instrument_id: InstrumentId | None = None) -> list[Order]:
        """Send reduce-only market orders that close every position (or one).

        A position larger than one order may be is closed in several (`_close_part`).
        """
        orders = []
        for symbol, position in tuple(self.state.positions.items()):
            if position.quantity and (instrument_id is None or symbol == instrument_id):
                orders.extend(self._close_part(symbol, abs(position.quantity), position.quantity))
        return orders

    def _reduce(self, instrument_id: InstrumentId, fraction: Decimal, reason: str) -> None:
        held = self.state.position_quantity(instrument_id)
        if not held or fraction <= 0:
            return
        instrument = self.instrument(instrument_id)
        amount = instrument.round_quantity_down(abs(held) * min(fraction, Decimal(1)))
        if amount > 0:
            self._close_part(instrument_id, amount, held)

    def _close_part(
        self, instrument_id: InstrumentId, amount: Decimal, held: Decimal
    ) -> list[Order]:
        """Send reduce-only market orders closing ``amount`` of the position ``held``.

        The amount goes in pieces within the order-quantity and order-notional limits (at
        most `MAX_CLOSE_PIECES`), so that an emergency close is not denied for its size
        alone; every piece still passes the pre-trade checks. What cannot be sent (a
        piece the instrument refuses, more pieces than allowed) is alerted.
        """
        instrument = self.instrument(instrument_id)
        scope = self.limits.scope_for(instrument)
        piece = amount
        if scope.max_order_quantity is not None:
            piece = min(piece, scope.max_order_quantity)
        mark = self.state.marks.get(instrument_id)
        if scope.max_order_notional is not None and mark:
            piece = min(piece, scope.max_order_notional / (abs(mark) * instrument.multiplier))
        piece = instrument.round_quantity_down(piece)
        if piece <= 0:
            piece = amount  # no allowed piece: one order, which risk judges
        side = OrderSide.SELL if held > 0 else OrderSide.BUY
        orders: list[Order] = []
        left = amount
        while left > 0 and len(orders) < MAX_CLOSE_PIECES:
            size = min(piece, left)
            try:
                orders.append(
                    self.submit(
                        OrderRequest(
                            instrument_id=instrument_id,
                            side=side,
                            order_type=OrderType.MARKET,
                            quantity=size,
                            reduce_only=True,
                        )
                    )
                )
            except OrderValidationError as exc:
                self._alert(
                    "close_incomplete",
                    f"{left} of {instrument_id} not closed: {exc}",
                    instrument_id,
                )
                return orders
            left -= size
        if left > 0:
            self._alert(
                "close_incomplete",
                f"{left} of {instrument_id} not closed: more than {MAX_CLOSE_PIECES} orders",
                instrument_id,
            )
        return orders

    def _tighten_stops(self, instrument_id: InstrumentId, factor: Decimal) -> None:
        """Move the protective stops of an instrument closer to the market by ``factor``."""
        mark = self.state.marks.get(instrument_id)
        if mark is None:
            return
        instrument = self.instrument(instrument_id)
        for order in tuple(self.state.open_orders.values()):
            if (
                order.instrument_id != instrument_id
                or not order.reduce_only
                or order.order_type not in (OrderType.STOP, OrderType.STOP_LIMIT)
                or order.trigger_price is None
                # An order the venue has not acknowledged yet cannot be modified.
                or order.status not in (OrderStatus.NEW, OrderStatus.ACCEPTED)
            ):
                continue
            distance = abs(mark - order.trigger_price) * factor
            raw = mark - distance if order.side is OrderSide.SELL else mark + distance
            ticks = (raw / instrument.tick_size).to_integral_value(
                rounding=ROUND_FLOOR if order.side is OrderSide.SELL else ROUND_CEILING
            )
            new_trigger = ticks * instrument.tick_size
            if new_trigger != order.trigger_price:
                self._modify(
                    order.client_order_id,
                    quantity=None,
                    price=None,
                    trigger_price=new_trigger,
                    checked=False,
                )

    # Reconciliation -------------------------------------------------------------------

    def adopt_external(
        self,
        client_order_id: ClientOrderId,
        instrument_id: InstrumentId,
        side: OrderSide,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        venue_order_id: VenueOrderId,
        venue: VenueId,
    ) -> Order:
        """Record an order found working at the venue but unknown here (placed elsewhere).

        It is adopted as it stands: initialised, submitted and accepted; its fills then
        arrive like any other's.
        """
        existing = self.state.orders.get(client_order_id)
        if existing is not None:
            return existing
        ts = self.clock.now_ns()
        instrument = self.instrument(instrument_id)
        init = OrderInitialized(
            account_id=self.account_id,
            client_order_id=client_order_id,
            ts_event=ts,
            ts_recv=ts,
            instrument_id=instrument.id,
            side=side,
            order_type=order_type,
            quantity=Quantity(quantity),
            price=Price(price) if price is not None else None,
            venue=venue,
        )
        self._inits[client_order_id] = init
        self._emit(init)
        self._emit(
            OrderSubmitted(
                account_id=self.account_id,
                client_order_id=client_order_id,
                ts_event=ts,
                ts_recv=ts,
                venue=venue,
            )
        )
        self._emit(
            OrderAccepted(
                account_id=self.account_id,
                client_order_id=client_order_id,
                ts_event=ts,
                ts_recv=ts,
                venue_order_id=venue_order_id,
            )
        )
        return self.state.orders[client_order_id]

    def record_position_mismatch(
        self, instrument_id: InstrumentId, venue_quantity: Decimal
    ) -> None:
        """Record (and alert) a position the venue holds differently from the engine."""
        ts = self.clock.now_ns()
        engine_quantity = self.state.position_quantity(instrument_id)
        self._emit(
            PositionMismatch(
                account_id=self.account_id,
                ts_event=ts,
                ts_recv=ts,
                instrument_id=instrument_id,
                engine_quantity=engine_quantity,
                venue_quantity=venue_quantity,
            )
        )
        self._alert(
            "reconciliation",
            f"{instrument_id}: the venue holds {venue_quantity}, the engine {engine_quantity}",
            instrument_id,
        )
