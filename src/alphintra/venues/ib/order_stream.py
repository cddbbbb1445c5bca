"""Turn ib_async's order events into one ordered stream of ``VenueOrderState`` and ``VenueFill``.

TWS reports an order through four independent messages (openOrder, orderStatus,
execDetails, commissionReport) that arrive in no guaranteed order. This module keeps
the per-order bookkeeping that makes the stream consistent, without any I/O:

* a fill is released only once its commission report has arrived (so its fee is
  right), or after a timeout with a zero fee;
* a status claiming more filled quantity than the fills released so far waits until
  the fills catch up, so the engine sees fill, then PARTIALLY_FILLED or FILLED;
* repeated statuses (PreSubmitted then Submitted are both ACCEPTED) are sent once;
* after a closed state (FILLED, CANCELLED, REJECTED), a stale open state is dropped;
* executions are deduplicated by ``execId`` (IB repeats them after every request), a
  correction (a new ``execId``, ``execution_key``) counting as the execution it corrects;
* ib_async's locally synthesized ``Cancelled`` after an error is replaced by what the
  error code means (``errors.py``): a refused cancel leaves the order as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from ib_async import Contract, Fill, Trade

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.values import ZERO
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.ib.errors import IbErrorEffect, classify_error
from alphintra.venues.ib.translation import (
    IbTranslationError,
    decimal_from_ib,
    execution_key,
    fill_has_commission,
    ns_from_datetime,
    order_state,
    order_status_from_ib,
    side_from_ib,
    venue_fill,
    venue_order_id,
)

Update = VenueOrderState | VenueFill
InstrumentResolver = Callable[[Contract], InstrumentId]

_log = structlog.get_logger("alphintra.venues.ib")

_UNACKNOWLEDGED = frozenset({"", "PendingSubmit", "ApiPending"})


@dataclass(slots=True)
class TrackedOrder:
    """What the stream knows about one order, by client order ID."""

    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    last: VenueOrderState | None = None
    """The last state sent to the engine."""
    deferred: VenueOrderState | None = None
    """A state waiting for its fills to be released first."""
    fill_quantity: Decimal = ZERO
    """The quantity of the fills released so far."""


@dataclass(slots=True)
class _PendingFill:
    fill: Fill
    instrument_id: InstrumentId
    since_ns: int


@dataclass(frozen=True, slots=True)
class _Verdict:
    """The status a trade's history amounts to, once ib_async's synthetic ones are undone."""

    ib_status: str | None
    status: OrderStatus | None = None
    reason: str | None = None


def _verdict(trade: Trade) -> _Verdict:
    refused_cancel = False
    entries = list(trade.log)
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if entry.errorCode:
            effect = classify_error(entry.errorCode).effect
            if effect is IbErrorEffect.REJECT or (
                effect is IbErrorEffect.VALIDATION
                and all(e.status in _UNACKNOWLEDGED for e in entries[:index] if not e.errorCode)
            ):
                return _Verdict(None, OrderStatus.REJECTED, entry.message)
            if effect is IbErrorEffect.CANCELLED:
                return _Verdict(None, OrderStatus.CANCELLED, entry.message)
            refused_cancel = refused_cancel or effect is IbErrorEffect.CANCEL_REFUSED
            continue  # a warning, a refused modify or cancel: the order is as it was
        if refused_cancel and entry.status == "PendingCancel":
            continue  # our cancel request, which TWS then refused
        return _Verdict(entry.status)
    if refused_cancel:
        return _Verdict(None)
    return _Verdict(trade.orderStatus.status)


def working_ib_status(trade: Trade) -> str | None:
    """Return the IB status the trade's history amounts to once ib_async's synthetic
    ``Cancelled`` after a refused modify or cancel is undone (None when none settles)."""
    verdict = _verdict(trade)
    return verdict.ib_status if verdict.status is None else None


def trade_state(
    trade: Trade, instrument_id: InstrumentId, *, ts: int = 0
) -> VenueOrderState | None:
    """Return our state of an ib_async trade; None when its history does not settle one.

    The trade's log is read backwards so that a status ib_async synthesized after an
    error (``Cancelled`` on a refused cancel, for example) is replaced by the meaning of
    the error code. A trade from IB's completed orders carries its fill count in
    ``order.filledQuantity`` rather than in its (empty) status row.
    """
    verdict = _verdict(trade)
    status_row = trade.orderStatus
    filled = decimal_from_ib(status_row.filled) or ZERO
    completed_fill = decimal_from_ib(trade.order.filledQuantity)
    if completed_fill is not None and completed_fill > filled:
        filled = completed_fill
    status = verdict.status
    if status is None:
        if verdict.ib_status is None:
            return None
        status = order_status_from_ib(verdict.ib_status, filled)
        if status is None:
            return None
    elif status is OrderStatus.REJECTED and filled > 0:
        status = OrderStatus.CANCELLED
    order = trade.order
    return order_state(
        client_order_id=ClientOrderId(order.orderRef),
        instrument_id=instrument_id,
        order=order,
        status=status,
        filled=filled,
        average_price=decimal_from_ib(status_row.avgFillPrice) or None,
        perm_id=order.permId or status_row.permId,
        reason=verdict.reason,
        ts=ts,
    )


def _same(a: VenueOrderState, b: VenueOrderState) -> bool:
    return (
        a.status is b.status
        and a.filled_quantity == b.filled_quantity
        and a.quantity == b.quantity
        and a.price == b.price
        and a.trigger_price == b.trigger_price
        and a.venue_order_id == b.venue_order_id
    )


@dataclass
class OrderStream:
    """The bookkeeping between ib_async events and the adapter's update stream.

    ``resolve`` returns the instrument of a contract TWS reported, for orders and
    executions the adapter did not place itself. ``commission_timeout_ns`` bounds how
    long a fill waits for its commission report.
    """

    resolve: InstrumentResolver
    commission_timeout_ns: int
    orders: dict[ClientOrderId, TrackedOrder] = field(default_factory=dict)
    last_execution_ns: int = 0
    """The time of the latest execution seen: the adapter polls from here after a gap."""
    _pending: dict[str, _PendingFill] = field(default_factory=dict)
    _seen_executions: set[str] = field(default_factory=set)
    _seen_corrections: set[str] = field(default_factory=set)
    """Corrections already warned about (IB repeats executions after every request)."""

    def track(self, client_order_id: ClientOrderId, instrument_id: InstrumentId) -> TrackedOrder:
        """Start following an order the adapter is about to place."""
        tracked = self.orders.get(client_order_id)
        if tracked is None:
            tracked = TrackedOrder(client_order_id, instrument_id)
            self.orders[client_order_id] = tracked
        return tracked

    def _tracked_for(self, trade: Trade) -> TrackedOrder | None:
        ref = trade.order.orderRef
        if not ref:
            return None  # a manual TWS order: not the engine's
        tracked = self.orders.get(ClientOrderId(ref))
        if tracked is None:  # an order of ours from an earlier session: adopt it
            tracked = self.track(ClientOrderId(ref), self.resolve(trade.contract))
        return tracked

    def on_status(self, trade: Trade, now_ns: int) -> list[Update]:
        """Handle an order status change (also ib_async's error-driven ones)."""
        tracked = self._tracked_for(trade)
        if tracked is None:
            return []
        try:
            state = trade_state(trade, tracked.instrument_id, ts=now_ns)
        except IbTranslationError as exc:
            _log.warning(
                "ib_status_untranslatable", client_order_id=tracked.client_order_id, error=str(exc)
            )
            return []
        if state is None:
            if tracked.last is not None and tracked.last.status is OrderStatus.PENDING_CANCEL:
                # the cancel was refused: forget the pending cancel without emitting it
                tracked.last = None
            return []
        return self._offer(tracked, state)

    def on_snapshot(self, state: VenueOrderState) -> list[Update]:
        """Handle a state learned by a query (after a reconnect, for example)."""
        tracked = self.track(state.client_order_id, state.instrument_id)
        return self._offer(tracked, state)

    def _offer(self, tracked: TrackedOrder, state: VenueOrderState) -> list[Update]:
        last = tracked.last
        if last is not None:
            if _same(last, state):
                return []
            if last.status.is_closed and (
                not state.status.is_closed or state.filled_quantity == last.filled_quantity
            ):
                return []  # stale, or a repeat: the order already ended (a late fill counts)
        if state.filled_quantity > tracked.fill_quantity:
            tracked.deferred = state  # wait until the fills behind it are released
            return []
        tracked.deferred = None
        tracked.last = state
        return [state]

    def on_execution(self, fill: Fill, now_ns: int) -> list[Update]:
        """Handle an execution (live, or from a poll); it waits for its commission."""
        exec_id = fill.execution.execId
        key = execution_key(exec_id)  # a correction repeats an execution: not a new fill
        if not exec_id or key in self._seen_executions:
            if exec_id != key and exec_id not in self._seen_corrections:
                self._seen_corrections.add(exec_id)
                _log.warning(  # the books keep the first report: no fill amendment
                    "ib_execution_correction_not_applied",
                    exec_id=exec_id,
                    corrects=key,
                    order_ref=fill.execution.orderRef,
                    shares=str(fill.execution.shares),
                    price=str(fill.execution.price),
                )
            return []
        self._seen_executions.add(key)
        ref = fill.execution.orderRef
        tracked = self.orders.get(ClientOrderId(ref)) if ref else None
        instrument_id = tracked.instrument_id if tracked else self.resolve(fill.contract)
        self._pending[exec_id] = _PendingFill(fill, instrument_id, now_ns)
        self.last_execution_ns = max(self.last_execution_ns, ns_from_datetime(fill.execution.time))
        return self.flush(now_ns)

    def flush(self, now_ns: int) -> list[Update]:
        """Release fills whose commission arrived, and those that waited too long."""
        out: list[Update] = []
        for exec_id, pending in list(self._pending.items()):
            complete = fill_has_commission(pending.fill)
            if not complete and now_ns - pending.since_ns < self.commission_timeout_ns:
                continue
            if not complete:
                _log.warning("ib_commission_missing_fee_zero", exec_id=exec_id)
            del self._pending[exec_id]
            out.extend(self._release(pending))
        return out

    def _release(self, pending: _PendingFill) -> list[Update]:
        fill = venue_fill(
            pending.fill, pending.instrument_id, fee_currency=pending.fill.contract.currency
        )
        out: list[Update] = [fill]
        tracked = self.orders.get(fill.client_order_id) if fill.client_order_id else None
        if tracked is not None:
            tracked.fill_quantity += fill.quantity
            deferred = tracked.deferred
            if deferred is not None and deferred.filled_quantity <= tracked.fill_quantity:
                out.extend(self._offer(tracked, deferred))
        return out

    @property
    def pending_fills(self) -> int:
        """Return how many executions wait for their commission report."""
        return len(self._pending)


def state_from_executions(
    fills: list[Fill], instrument_id: InstrumentId, now: int, quantity: Decimal | None = None
) -> VenueOrderState:
    """Return the state of an order IB lists nowhere, built from its executions alone.

    Such an order no longer works. Executions do not carry the order's quantity. With
    ``quantity`` known (this session tracked the order, e.g. across a reconnect) and the
    executions short of it, the order was filled in part and the rest cancelled: it is
    CANCELLED with the executed shares filled (a FILLED status short of the order's
    quantity gives the engine no terminal event, so its order stayed open). Otherwise it
    is FILLED with the executed shares (an untracked order, after a restart, cannot be
    told apart from a complete one here).
    """
    first = fills[0].execution
    executed = sum((decimal_from_ib(f.execution.shares) or ZERO for f in fills), ZERO)
    complete = quantity is None or executed >= quantity
    notional = sum(
        (
            (decimal_from_ib(f.execution.shares) or ZERO)
            * (decimal_from_ib(f.execution.price) or ZERO)
            for f in fills
        ),
        ZERO,
    )
    return VenueOrderState(
        client_order_id=ClientOrderId(first.orderRef),
        venue_order_id=venue_order_id(first.permId),
        instrument_id=instrument_id,
        side=side_from_ib(first.side),
        order_type=OrderType.MARKET,
        status=OrderStatus.FILLED if complete else OrderStatus.CANCELLED,
        quantity=executed if complete or quantity is None else quantity,
        filled_quantity=executed,
        average_price=notional / executed if executed else None,
        reason="rebuilt from executions: IB no longer lists the order"
        + ("" if complete else "; what did not execute is no longer working"),
        ts=now,
    )


def answered_modify(trade: Trade) -> bool:
    """Return True once TWS reported the order again after our latest modification."""
    for entry in reversed(trade.log):
        if entry.message == "Modify":
            return False
        if not entry.errorCode:
            return True  # a status after the modify ("Modified", or changed values)
    return False
