"""Execution algorithms in the engine: parents that send their children themselves.

``submit_algo`` records a parent order carrying its ``AlgoSpec`` (TWAP, VWAP, POV or
ICEBERG, see ``alphintra.execution.algorithms``) in ``OrderInitialized.exec_algorithm``
and ``exec_params``. The parent is emulated: it never reaches a venue. Its children
are ordinary orders with ``parent_id`` set; they go through the normal submit path
(pre-trade risk included) and their fills are mirrored onto the parent as
``OrderChildFilled``, so the parent's filled quantity is the sum of its children's.

Rules the engine keeps for every algo:

* **One child at a time.** A new child goes out only when none is working; its size
  is what the policy says is due now less what is already filled. A child below the
  instrument's minimum quantity or (when risk enforces it) minimum notional waits
  until what is due reaches it; when all that is left is below, the parent closes.
* **Children go out on inputs that carry time and price**: a market data point of
  the instrument, ``on_timer``, the parent's release and ``resume_algo``. An
  execution report never sends a TWAP, VWAP or POV child (an iceberg refill, priced
  at the parent's limit, is the exception). A journal replay then fed the same
  inputs makes the same children.
* **Stale children are replaced.** A TWAP or VWAP child still working when its bucket
  ends, or a POV child still working at the next data point, is cancelled; what it
  did not fill is due again and goes out with the next child.
* **Limit-price guard.** A parent of type LIMIT has its price as the guard. Children
  are LIMIT at the guard or at the current marketable price (ask to buy, bid to
  sell, last trade on trade data), whichever is better for us. At the end time,
  with ``finish_aggressively``, the rest goes out as LIMIT at the guard (MARKET when
  the parent has no guard); without it, the parent is cancelled.
* **Change.** A change of the parent's quantity or guard is the engine's to make (no
  venue holds the parent): it applies at once and cancels the working children that
  no longer fit what is left or the guard. A child cannot be changed by request.
* **Expiry.** A GTD parent expires (``OrderExpired``) at its expire time, paused or
  not, on the first input after it, and its working children are cancelled.
* **Pause, resume, cancel.** ``pause_algo`` journals ``AlgoStateChanged`` and cancels
  the working children; ``resume_algo`` journals the resume and sends what is due.
  ``cancel`` on the parent cancels its children. A child denied by risk, rejected
  or expired by the venue cancels the parent.

The algos' runtime state is the fold of journaled events (``AlgoStateChanged``,
``AlgoVolumeObserved``) plus schedules that are pure functions of the parent's spec,
quantity and client order ID, so ``TradingEngine.restore`` rebuilds it exactly.
"""

from __future__ import annotations

import functools
from decimal import ROUND_FLOOR, Decimal

import msgspec

from alphintra.domain.account import is_execution_parent
from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import (
    AlgoStateChanged,
    AlgoVolumeObserved,
    OrderChildFilled,
    OrderExpired,
    OrderFilled,
    RiskAlertRaised,
)
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.instruments import Instrument, InstrumentRuleError
from alphintra.domain.market import MarketData, TradeBar, TradeTick
from alphintra.domain.orders import Order, time_in_force_over
from alphintra.domain.values import ZERO
from alphintra.engine.core import OrderEngine, _ids_back_on_refusal
from alphintra.execution.algorithms import (
    INVALID,
    AlgoSpec,
    IcebergSpec,
    PovSpec,
    SlicePlan,
    SorSpec,
    TwapSpec,
    VwapSpec,
    algo_name,
    bar_volume,
    child_limit_price,
    decode_spec,
    encode_spec,
    marketable_price,
    plan_for,
    pov_child_quantity,
    pov_target,
)
from alphintra.orders.factory import OrderValidationError, build_order

__all__ = ["AlgoEngine"]

_MAX_PASSES = 4
"""Decisions per drive: replace stale children, then send one; never loops further."""


class _Running:
    """One algo parent's spec, and its slice plan for the quantity it was built for."""

    __slots__ = ("plan", "quantity", "spec")

    def __init__(self, spec: AlgoSpec, plan: SlicePlan | None, quantity: Decimal) -> None:
        self.spec = spec
        self.plan = plan
        self.quantity = quantity


class _AlgoBook:
    """What the engine knows about its algos beyond the orders themselves."""

    __slots__ = ("driving", "last_data", "paused", "running", "volumes")

    def __init__(self) -> None:
        self.running: dict[ClientOrderId, _Running | None] = {}
        """Open algo parents in creation order (None: spec not decoded yet)."""
        self.paused: set[ClientOrderId] = set()
        self.volumes: dict[ClientOrderId, Decimal] = {}
        """Volume each POV parent has counted (``AlgoVolumeObserved``)."""
        self.last_data: dict[InstrumentId, MarketData] = {}
        """Latest data point per instrument: market data, not journaled (like marks)."""
        self.driving: set[ClientOrderId] = set()


class AlgoEngine(OrderEngine):
    """Adds execution algorithms (TWAP, VWAP, POV, ICEBERG) to the order engine."""

    def _existing(self, client_order_id: ClientOrderId | None) -> Order | None:
        if client_order_id is None:
            return None
        return self.state.orders.get(client_order_id)

    @functools.cached_property
    def _algo(self) -> _AlgoBook:
        return _AlgoBook()

    # Commands -----------------------------------------------------------------------

    @_ids_back_on_refusal
    def submit_algo(self, request: OrderRequest, algo: AlgoSpec) -> Order:
        """Record a parent order worked by ``algo``, release it and return it.

        ``request`` is the whole order: a LIMIT request's price is the guard (no child
        ever buys above or sells below it), a MARKET request has no guard. An
        ``IcebergSpec`` needs a LIMIT request, and only it may be post-only (the other
        algos' children take liquidity). A client order ID that already exists
        returns the existing order. Raise ``OrderValidationError`` for a malformed
        request or spec (an end time already past, a VWAP profile with no volume in
        the window); nothing is recorded then.
        """
        existing = self._existing(request.client_order_id)
        if existing is not None:
            return existing
        instrument = self.instrument(request.instrument_id)
        venue = self._venue_for(request, instrument)
        now = self.clock.now_ns()
        end = None if isinstance(algo, IcebergSpec | SorSpec) else algo.end_ns
        if end is not None and end <= now:
            raise OrderValidationError(INVALID, f"algo end time {end} is not after now {now}")
        _check_child_cap(algo, instrument)
        init = build_order(
            _parent_request(request, algo),
            instrument,
            account_id=self.account_id,
            client_order_id=request.client_order_id or self.next_client_order_id(),
            venue=venue,
            native_types=frozenset(),  # emulated: the engine works the parent
            ts=now,
        )
        name, params = encode_spec(algo)
        init = msgspec.structs.replace(init, exec_algorithm=name, exec_params=params)
        running = _build_running(algo, init.quantity, instrument, init.client_order_id)
        self._algo.running[init.client_order_id] = running
        return self._create_and_release(init, instrument)

    def pause_algo(self, client_order_id: ClientOrderId, reason: str = "") -> bool:
        """Stop sending children and cancel the working ones; False when not running.

        The pause is journaled (``AlgoStateChanged``). Raise ``UnknownOrderError`` for
        an unknown order and ``OrderValidationError`` for one no algo works.
        """
        parent = self._algo_parent(client_order_id)
        if not parent.is_open or client_order_id in self._algo.paused:
            return False
        self._record_state(parent, paused=True, reason=reason)
        for child in self._open_children(parent):
            self.cancel(child.client_order_id, "algo paused")
        return True

    def resume_algo(self, client_order_id: ClientOrderId, reason: str = "") -> bool:
        """Resume a paused algo and send what is due now; False when not paused.

        A TWAP or VWAP catches up with its schedule; a POV counts volume again from
        now on (volume traded while it was paused is not participated in).
        """
        parent = self._algo_parent(client_order_id)
        if not parent.is_open or client_order_id not in self._algo.paused:
            return False
        self._record_state(parent, paused=False, reason=reason)
        self._next_slice(parent)
        return True

    def _modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
        checked: bool,
    ) -> bool:
        """Change an execution parent here (no venue holds it); others as the core does.

        The parent (an algo's, or a plain iceberg) changes at once in any open state,
        then binds its working children: an algo's child that no longer fits what is
        left or the guard (an iceberg algo's: not at its price) is cancelled, what it
        leaves due again; a plain iceberg's slice is resized and repriced. Cut to what
        it filled, the parent is done. A change requested of a child is refused.
        """
        parent = self.state.orders.get(client_order_id)
        if checked and parent is not None and parent.parent_id is not None:
            owner = self.state.orders.get(parent.parent_id)
            if owner is not None and is_execution_parent(owner) and owner.is_open:
                raise OrderValidationError(
                    "INVALID_MODIFY",
                    f"order {client_order_id} is a child worked by parent {owner.client_order_id}"
                    f" ({owner.exec_algorithm or owner.order_type}): change the parent instead",
                )
        if parent is None or not is_execution_parent(parent):
            return super()._modify(
                client_order_id,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
                checked=checked,
            )
        if parent.status.is_closed:
            return False
        instrument = self.instrument(parent.instrument_id)
        try:
            new_quantity = instrument.make_quantity(quantity) if quantity is not None else None
            new_price = instrument.make_price(price) if price is not None else None
        except InstrumentRuleError as exc:
            raise OrderValidationError("INVALID_MODIFY", str(exc)) from None
        if trigger_price is not None:
            raise OrderValidationError(
                "INVALID_MODIFY", f"{parent.order_type} has no trigger price"
            )
        if new_quantity is not None and new_quantity < parent.filled_quantity:
            raise OrderValidationError(
                "INVALID_MODIFY",
                f"new quantity {new_quantity} is below the filled {parent.filled_quantity}",
            )
        if new_price is not None and parent.price is None:
            raise OrderValidationError(
                "INVALID_MODIFY", f"algo parent {client_order_id} has no guard price to change"
            )
        if checked:
            self._check_change(parent, instrument, new_quantity, new_price, None)
        resized = self._slice_changes(parent, instrument, new_quantity, new_price, strict=checked)
        self._emit(self._modified(parent, self.clock.now_ns(), new_quantity, new_price, None))
        if not parent.is_open:  # cut to what it has filled
            self._after_close(parent)
        elif parent.exec_algorithm is None:  # a plain iceberg: its slice is resized
            for slice_id, q, p in resized:
                self._modify(slice_id, quantity=q, price=p, trigger_price=None, checked=False)
        else:
            self._fit_children(parent)
        return True

    def _slice_changes(
        self,
        parent: Order,
        instrument: Instrument,
        quantity: Decimal | None,
        price: Decimal | None,
        *,
        strict: bool,
    ) -> list[tuple[ClientOrderId, Decimal | None, Decimal | None]]:
        """Return (slice, quantity, price) changes fitting a plain iceberg's slice to it
        (cancelling it would cancel the iceberg). One that cannot be (in flight, below
        the minimum) raises when ``strict``, else is left to the engine's reduce-only fit.
        """
        room = (parent.quantity if quantity is None else quantity) - parent.filled_quantity
        if parent.exec_algorithm is not None or room <= 0:
            return []  # an algo's children are cancelled; a filled parent's too
        target = parent.price if price is None else price
        changes: list[tuple[ClientOrderId, Decimal | None, Decimal | None]] = []
        for child in self._open_children(parent):
            if child.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_MODIFY):
                if not strict:
                    continue
                raise OrderValidationError(
                    "CHANGE_PENDING",
                    f"slice {child.client_order_id} is {child.status}: wait for the venue's answer",
                )
            keep = min(child.quantity - child.filled_quantity, room)
            room -= keep
            new_quantity = None
            if child.filled_quantity + keep < child.quantity:
                try:
                    new_quantity = instrument.make_quantity(child.filled_quantity + keep)
                except InstrumentRuleError as exc:
                    if not strict:
                        continue
                    raise OrderValidationError("INVALID_MODIFY", f"its slice: {exc}") from None
            new_price = target if child.price != target else None
            if new_quantity is not None or new_price is not None:
                changes.append((child.client_order_id, new_quantity, new_price))
        return changes

    def _fit_children(self, parent: Order) -> None:
        """Cancel the working children the parent's new quantity or guard leaves out."""
        room = parent.quantity - parent.filled_quantity
        guard, buy = parent.price, parent.side is OrderSide.BUY
        for child in self._open_children(parent):
            if child.status is OrderStatus.PENDING_CANCEL:
                continue
            leaves = child.quantity - child.filled_quantity
            beyond = guard is not None and (
                child.price is None
                or (child.price > guard if buy else child.price < guard)
                or (parent.order_type is OrderType.ICEBERG and child.price != guard)
            )
            if beyond or leaves > room:
                self.cancel(child.client_order_id, "parent modified")
            else:
                room -= leaves

    def algo_spec(self, client_order_id: ClientOrderId) -> AlgoSpec:
        """Return the spec of an algo parent (open or closed)."""
        init = self._inits[self._algo_parent(client_order_id).client_order_id]
        assert init.exec_algorithm is not None
        return decode_spec(init.exec_algorithm, init.exec_params or {})

    def algo_plan(self, client_order_id: ClientOrderId) -> SlicePlan | None:
        """Return the slice plan of a TWAP or VWAP parent (None for POV and ICEBERG)."""
        parent = self._algo_parent(client_order_id)
        spec = self.algo_spec(client_order_id)
        if not isinstance(spec, TwapSpec | VwapSpec):
            return None
        lot = self.instrument(parent.instrument_id).lot_size
        return plan_for(spec, parent.quantity, lot, parent.client_order_id)

    def algo_states(self) -> list[tuple[ClientOrderId, bool, Decimal]]:
        """Return (parent, paused, counted volume) of each open algo, in creation order."""
        book = self._algo
        return [
            (coid, coid in book.paused, book.volumes.get(coid, ZERO))
            for coid in book.running
            if self.state.orders[coid].is_open
        ]

    # Inputs -------------------------------------------------------------------------

    def on_market_data(self, data: MarketData) -> None:
        """Update marks and emulated orders, then work the instrument's algos."""
        super().on_market_data(data)
        book = self._algo
        book.last_data[data.instrument_id] = data
        if not book.running:
            return
        for coid in tuple(book.running):
            parent = self.state.orders[coid]
            if not parent.is_open or self._expired(parent):
                self._forget(coid)
            elif parent.instrument_id == data.instrument_id:
                spec = self._runtime(parent).spec
                if isinstance(spec, PovSpec):
                    self._observe(parent, spec, data)
                if not isinstance(spec, IcebergSpec):
                    self._drive(parent)

    def on_timer(self, ts: int) -> None:
        """Work every running algo at the engine clock's time (schedules move on)."""
        for coid in tuple(self._algo.running):
            parent = self.state.orders[coid]
            if not parent.is_open or self._expired(parent):
                self._forget(coid)
            elif not isinstance(self._runtime(parent).spec, IcebergSpec):
                self._drive(parent)

    # Replay -------------------------------------------------------------------------

    def _fold_algo_event(self, event: AlgoStateChanged | AlgoVolumeObserved) -> None:
        book = self._algo
        if type(event) is AlgoStateChanged:
            if event.paused:
                book.paused.add(event.client_order_id)
            else:
                book.paused.discard(event.client_order_id)
        else:
            assert type(event) is AlgoVolumeObserved
            book.volumes[event.client_order_id] = event.observed_volume

    def _restore_algos(self) -> None:
        """List the open algo parents, in creation order, after a replay."""
        book = self._algo
        book.running = {
            order.client_order_id: book.running.get(order.client_order_id)
            for order in self.state.open_orders.values()
            if order.exec_algorithm is not None and is_execution_parent(order)
        }
        book.paused.intersection_update(book.running)
        for coid in tuple(book.volumes):
            if coid not in book.running:
                del book.volumes[coid]

    def _algo_snapshot(self) -> tuple[list[ClientOrderId], dict[ClientOrderId, Decimal]]:
        """Return the paused parents and the counted volumes, for a snapshot."""
        book = self._algo
        return sorted(book.paused), dict(sorted(book.volumes.items()))

    def _load_algo_snapshot(
        self, paused: list[ClientOrderId], volumes: dict[ClientOrderId, Decimal]
    ) -> None:
        book = self._algo
        book.paused.update(paused)
        book.volumes.update(volumes)

    # Hooks into the order engine ------------------------------------------------------

    def _next_slice(self, parent: Order) -> None:
        if parent.exec_algorithm is None:
            super()._next_slice(parent)  # a plain iceberg, worked as before
            return
        if (
            not parent.is_open
            or self._expired(parent)
            or parent.client_order_id in self._algo.paused
        ):
            return
        if parent.order_type is OrderType.ICEBERG:
            if not self._open_children(parent):  # never show more than the display
                super()._next_slice(parent)
            return
        self._drive(parent)

    def _mirror_fill(self, parent: Order, child: Order, fill: OrderFilled) -> None:
        if parent.filled_quantity + fill.last_quantity > parent.quantity:
            self._overfilled(parent, child, fill)
            return
        if parent.exec_algorithm is None or parent.order_type is OrderType.ICEBERG:
            super()._mirror_fill(parent, child, fill)  # refills the iceberg
            if parent.exec_algorithm is not None and not parent.is_open:
                self._forget(parent.client_order_id)
            return
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
        if not parent.is_open:
            self._forget(parent.client_order_id)

    def _after_close(self, order: Order) -> None:
        if order.parent_id is not None:
            parent = self.state.orders.get(order.parent_id)
            if parent is not None and parent.exec_algorithm is not None:
                self._child_closed(parent, order)
                return
        super()._after_close(order)
        if order.exec_algorithm is not None:
            self._forget(order.client_order_id)

    # Working the algos ----------------------------------------------------------------

    def _child_closed(self, parent: Order, child: Order) -> None:
        if not parent.is_open or child.status is OrderStatus.FILLED or self._expired(parent):
            return
        if child.status is OrderStatus.CANCELLED:
            # Replaced, paused, or cancelled at the venue: what it left is due again.
            if parent.order_type is OrderType.ICEBERG:
                self._next_slice(parent)
            return
        self._close_parent(
            parent, f"child {child.client_order_id} was {child.status.value.lower()}"
        )

    def _drive(self, parent: Order) -> None:
        book = self._algo
        coid = parent.client_order_id
        if coid in book.driving:
            return  # re-entered through a child's local close: the outer pass goes on
        if self._expired(parent):
            return
        book.driving.add(coid)
        try:
            for _ in range(_MAX_PASSES):
                if not parent.is_open or coid in book.paused or not self._drive_once(parent):
                    return
        finally:
            book.driving.discard(coid)

    def _drive_once(self, parent: Order) -> bool:
        """Take the next step for ``parent``; return True when something was done."""
        running = self._runtime(parent)
        spec, plan = running.spec, running.plan
        assert not isinstance(spec, IcebergSpec | SorSpec)  # SOR: see engine.sor
        now = self.clock.now_ns()
        if now < spec.start_ns:
            return False
        finishing = spec.end_ns is not None and now >= spec.end_ns
        if finishing and not spec.finish_aggressively:
            self._close_parent(parent, "algo end time reached")
            return False
        due = plan.due(now) if plan is not None else None
        if finishing:
            assert spec.end_ns is not None
            fresh_from = spec.end_ns  # the finishing child is never replaced
        else:
            fresh_from = due.fresh_from if due is not None else now
        children = self._open_children(parent)
        replaced = False
        for child in children:
            if child.ts_init < fresh_from and child.status is not OrderStatus.PENDING_CANCEL:
                replaced |= self.cancel(child.client_order_id, "replaced by the algo")
        if replaced:
            return True
        if any(child.is_open for child in children):
            return False
        instrument = self.instrument(parent.instrument_id)
        remaining = parent.quantity - parent.filled_quantity
        if finishing:
            quantity = remaining
        elif due is not None:
            if not due.may_send:
                return False
            quantity = min(due.target - parent.filled_quantity, remaining)
        else:
            assert isinstance(spec, PovSpec)
            target = pov_target(
                spec.participation,
                self._algo.volumes.get(parent.client_order_id, ZERO),
                parent.quantity,
                instrument.lot_size,
            )
            quantity = pov_child_quantity(
                spec,
                target=target,
                committed=parent.filled_quantity,
                remaining=remaining,
                lot_size=instrument.lot_size,
                min_quantity=instrument.min_quantity,
            )
        if quantity <= 0:
            return False
        if quantity < instrument.min_quantity:
            if finishing or remaining < instrument.min_quantity:  # no child can ever go
                self._close_parent(parent, f"{remaining} left is below the instrument minimum")
            return False
        guard = parent.price
        price: Decimal | None
        if finishing:
            order_type = OrderType.MARKET if guard is None else OrderType.LIMIT
            price = guard
        else:
            data = self._algo.last_data.get(parent.instrument_id)
            marketable = None if data is None else marketable_price(data, parent.side)
            price = child_limit_price(parent.side, marketable, guard, instrument.tick_size)
            if price is None:
                return False  # no guard and no market price yet: wait for data
            order_type = OrderType.LIMIT
        # Risk denies a child worth less than the minimum notional, and a denial cancels
        # the parent: hold a small child back (what is due grows) like one below the
        # minimum quantity, and close the parent once nothing left could be sent.
        value_at = price if price is not None else self.state.marks.get(parent.instrument_id)
        if self._below_min_notional(quantity, value_at, instrument):
            if finishing or self._below_min_notional(remaining, value_at, instrument):
                self._close_parent(
                    parent,
                    f"{remaining} left is below the instrument minimum notional "
                    f"{instrument.min_notional} at {value_at}",
                )
            return False
        return self._send_child(parent, instrument, quantity, order_type, price)

    def _below_min_notional(
        self, quantity: Decimal, price: Decimal | None, instrument: Instrument
    ) -> bool:
        """Return True when pre-trade risk would deny ``quantity`` at ``price`` as too small."""
        if price is None or not self.limits.enforce_min_notional:
            return False
        return instrument.notional(quantity, price) < instrument.min_notional

    def _send_child(
        self,
        parent: Order,
        instrument: Instrument,
        quantity: Decimal,
        order_type: OrderType,
        price: Decimal | None,
    ) -> bool:
        venue = parent.venue or self.default_venue
        id_seq = self._id_seq
        try:
            init = build_order(
                OrderRequest(
                    instrument_id=parent.instrument_id,
                    side=parent.side,
                    order_type=order_type,
                    quantity=quantity,
                    price=price,
                    time_in_force=parent.time_in_force,
                    expire_ts=parent.expire_ts,
                    reduce_only=parent.reduce_only,
                    post_only=parent.post_only and order_type is OrderType.LIMIT,
                    signal_id=parent.signal_id,
                ),
                instrument,
                account_id=self.account_id,
                client_order_id=self.next_client_order_id(),
                venue=venue,
                native_types=self.venues[venue].order_types,
                ts=self.clock.now_ns(),
                parent_id=parent.client_order_id,
            )
        except OrderValidationError as exc:
            self._id_seq = id_seq  # nothing was journaled under the ID drawn
            self._close_parent(parent, f"child refused: {exc}")
            return False
        self._inits[init.client_order_id] = init
        self._emit(init)
        child = self.state.orders[init.client_order_id]
        # A denial closes the child, and through _child_closed the parent.
        self._risk_and_release(child, init, instrument)
        return True

    def _observe(self, parent: Order, spec: PovSpec, data: MarketData) -> None:
        coid = parent.client_order_id
        book = self._algo
        if (
            coid in book.paused
            or not isinstance(data, TradeBar | TradeTick)
            or data.ts < spec.start_ns
            or (spec.end_ns is not None and data.ts >= spec.end_ns)
        ):
            return
        volume = bar_volume(data)
        if volume <= 0:
            return
        event = AlgoVolumeObserved(
            account_id=self.account_id,
            ts_event=data.ts,
            ts_recv=self.clock.now_ns(),
            client_order_id=coid,
            observed_volume=book.volumes.get(coid, ZERO) + volume,
        )
        self._emit(event)
        self._fold_algo_event(event)

    # Helpers --------------------------------------------------------------------------

    def _runtime(self, parent: Order) -> _Running:
        book = self._algo
        running = book.running.get(parent.client_order_id)
        if running is None or running.quantity != parent.quantity:
            # After a replay, or after the parent's quantity was modified.
            init = self._inits[parent.client_order_id]
            assert init.exec_algorithm is not None
            spec = decode_spec(init.exec_algorithm, init.exec_params or {})
            instrument = self.instrument(parent.instrument_id)
            running = _build_running(spec, parent.quantity, instrument, parent.client_order_id)
            book.running[parent.client_order_id] = running
        return running

    def _algo_parent(self, client_order_id: ClientOrderId) -> Order:
        order = self._order(client_order_id)
        if order.exec_algorithm is None or not is_execution_parent(order):
            raise OrderValidationError(
                "NOT_AN_ALGO", f"order {client_order_id!r} is not worked by an algo"
            )
        return order

    def _open_children(self, parent: Order) -> list[Order]:
        coid = parent.client_order_id
        return [o for o in self.state.open_orders.values() if o.parent_id == coid]

    def _record_state(self, parent: Order, *, paused: bool, reason: str) -> None:
        ts = self.clock.now_ns()
        event = AlgoStateChanged(
            account_id=self.account_id,
            ts_event=ts,
            ts_recv=ts,
            client_order_id=parent.client_order_id,
            paused=paused,
            reason=reason,
        )
        self._emit(event)
        self._fold_algo_event(event)

    def _expired(self, parent: Order) -> bool:
        """Expire a GTD parent at its expire time, a DAY one on a later UTC day (as the
        simulated venue does), and cancel its children; True if now."""
        now = self.clock.now_ns()
        if not parent.is_open or not time_in_force_over(
            parent.time_in_force, parent.expire_ts, parent.ts_init, now
        ):
            return False
        self._emit(
            OrderExpired(
                account_id=self.account_id,
                client_order_id=parent.client_order_id,
                ts_event=now,
                ts_recv=now,
            )
        )
        self._after_close(parent)
        return True

    def _close_parent(self, parent: Order, reason: str) -> None:
        if parent.is_open:
            self._emit(self._cancelled(parent, self.clock.now_ns(), reason))
            self._after_close(parent)

    def _overfilled(self, parent: Order, child: Order, fill: OrderFilled) -> None:
        # A late fill of a child already replaced (the venue reported the cancel, then
        # a fill from before it). The fill is booked on the child and the position; the
        # parent cannot hold more than its quantity, so it stops and an alert says why.
        ts = self.clock.now_ns()
        self._emit(
            RiskAlertRaised(
                account_id=self.account_id,
                ts_event=ts,
                ts_recv=ts,
                kind="algo_overfill",
                message=(
                    f"fill {fill.trade_id} of {fill.last_quantity} on child "
                    f"{child.client_order_id} takes parent {parent.client_order_id} past "
                    f"its quantity {parent.quantity} (filled {parent.filled_quantity})"
                ),
                instrument_id=parent.instrument_id,
            )
        )
        self._close_parent(parent, "a child overfilled the parent")

    def _forget(self, coid: ClientOrderId) -> None:
        book = self._algo
        book.running.pop(coid, None)
        book.paused.discard(coid)
        book.volumes.pop(coid, None)


def _parent_request(request: OrderRequest, algo: AlgoSpec) -> OrderRequest:
    if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        raise OrderValidationError(
            INVALID, f"an algo parent works over time; time in force {request.time_in_force}"
        )
    if isinstance(algo, IcebergSpec):
        if request.order_type is not OrderType.LIMIT:
            raise OrderValidationError(
                INVALID, f"an iceberg needs a LIMIT request, got {request.order_type}"
            )
        return msgspec.structs.replace(
            request, order_type=OrderType.ICEBERG, display_quantity=algo.display_quantity
        )
    if request.post_only:
        raise OrderValidationError(
            INVALID,
            f"a {algo_name(algo)} parent cannot be post-only: its children take liquidity "
            "(at the marketable price, or IOC for SOR); only an ICEBERG rests post-only",
        )
    if request.order_type not in (OrderType.MARKET, OrderType.LIMIT):
        raise OrderValidationError(
            INVALID,
            f"an algo parent is MARKET (no guard) or LIMIT (price = guard), "
            f"got {request.order_type}",
        )
    return request


def _check_child_cap(algo: AlgoSpec, instrument: Instrument) -> None:
    """Refuse a POV child cap that leaves no child big enough to send."""
    if not isinstance(algo, PovSpec) or algo.max_child_quantity is None:
        return
    lot = instrument.lot_size
    smallest = max(lot, instrument.min_quantity)
    if (algo.max_child_quantity / lot).to_integral_value(rounding=ROUND_FLOOR) * lot < smallest:
        raise OrderValidationError(
            INVALID,
            f"max_child_quantity {algo.max_child_quantity:f} leaves no child to send: "
            f"{instrument.id} trades in lots of {lot:f} and at least "
            f"{instrument.min_quantity:f}",
        )


def _build_running(
    spec: AlgoSpec, quantity: Decimal, instrument: Instrument, seed: ClientOrderId
) -> _Running:
    plan = (
        plan_for(spec, quantity, instrument.lot_size, seed)
        if isinstance(spec, TwapSpec | VwapSpec)
        else None
    )
    return _Running(spec, plan, quantity)
