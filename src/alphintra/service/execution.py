"""The execution client: sends an account's durable commands to a venue adapter.

It never loses an order and never sends one twice:

* A command leaves only after ``engine.flush()`` made its event durable.
* A TRANSIENT error on a write means nothing happened: the same command (same client
  order ID) is retried after a backoff with jitter, up to a bound.
* A DEFINITIVE error rejects the order with the venue's reason.
* An UNKNOWN_OUTCOME leaves the order in flight. It is resolved by querying the venue
  by client order ID on a schedule; only after ``unknown_checks`` answers of "no such
  order" is it marked REJECTED. It is never re-sent under a new ID.
* Fills come from the venue's stream and from polling ``fills_since`` after every
  reconnect and on reconciliation; the engine drops duplicates by trade ID.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import structlog

from alphintra.domain.commands import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueCommand
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderEvents,
    OrderExpired,
    OrderFilled,
    OrderModified,
    OrderModifyRejected,
    OrderRejected,
)
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, VenueOrderId
from alphintra.domain.orders import Order
from alphintra.domain.values import Price, Quantity
from alphintra.engine.engine import TradingEngine
from alphintra.service.rate_limit import RateLimiter
from alphintra.venues.adapter import (
    VenueAdapter,
    VenueError,
    VenueErrorKind,
    VenueFill,
    VenueOrderState,
)

log = structlog.get_logger("alphintra.execution")
_T = TypeVar("_T")
_Refusal = TypeVar("_Refusal", OrderRejected, OrderCancelRejected, OrderModifyRejected)


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    """Retry and resolution settings."""

    write_retries: int = 3
    read_retries: int = 5
    first_backoff_s: float = 0.05
    max_backoff_s: float = 2.0
    unknown_checks: int = 5
    """How many 'no such order' answers confirm that an in-flight order never arrived."""
    resolve_interval_s: float = 0.2


class ExecutionClient:
    """Connects one account's engine to one venue adapter."""

    def __init__(
        self,
        engine: TradingEngine,
        adapter: VenueAdapter,
        *,
        limiter: RateLimiter | None = None,
        policy: ExecutionPolicy | None = None,
        lock: asyncio.Lock | None = None,
        seed: int | None = None,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.limiter = limiter
        self.policy = policy or ExecutionPolicy()
        self.lock = lock or asyncio.Lock()
        """The account's single-writer lock: every engine call happens under it."""
        self.in_flight: dict[ClientOrderId, int] = {}
        """Orders whose outcome is unknown, with the number of 'not found' answers."""
        self._random = random.Random(seed)
        self.last_fill_ts = 0
        self.venue_errors: list[str] = []
        self.awaiting_fills: dict[ClientOrderId, VenueOrderState] = {}
        """Venue states that close an order, held until the fills they report are booked
        (see `translate`); applied as soon as they are."""

    # Engine side ----------------------------------------------------------------------

    async def _apply(self, events: list[OrderEvents]) -> None:
        if not events:
            return
        async with self.lock:
            for event in events:
                self.engine.on_venue_event(event)
            commands = self.engine.flush(force=True)
        await self.send(commands)
        if self.awaiting_fills:
            await self._close_when_filled(events)

    async def _close_when_filled(self, events: list[OrderEvents]) -> None:
        """Apply the held closing states whose fills ``events`` completed."""
        for event in events:
            if type(event) is not OrderFilled:
                continue
            state = self.awaiting_fills.get(event.client_order_id)
            order = self._order(event.client_order_id)
            if state is None or order is None:
                continue
            if order.filled_quantity >= state.filled_quantity or order.status.is_closed:
                del self.awaiting_fills[event.client_order_id]
                await self._apply(self.translate(state))

    async def run_engine(self, action: Callable[[], _T]) -> _T:
        """Run ``action`` on the engine under the lock, send what it produced, return it."""
        async with self.lock:
            result = action()
            commands = self.engine.flush()
        await self.send(commands)
        return result

    # Sending --------------------------------------------------------------------------

    async def send(self, commands: list[VenueCommand]) -> None:
        """Send durable commands to the venue, one at a time, in order."""
        for command in commands:
            if type(command) is SubmitToVenue:
                await self._submit(command)
            elif type(command) is CancelAtVenue:
                await self._cancel(command)
            else:
                assert type(command) is ModifyAtVenue
                await self._modify(command)

    async def _call(self, write: bool, call: Callable[[], Awaitable[object]]) -> object:
        """Call the venue under the rate limit, retrying TRANSIENT errors with backoff."""
        attempts = self.policy.write_retries if write else self.policy.read_retries
        backoff = self.policy.first_backoff_s
        for attempt in range(attempts + 1):
            if self.limiter is not None:
                await self.limiter.acquire()
            try:
                return await call()
            except VenueError as exc:
                if exc.kind is not VenueErrorKind.TRANSIENT or attempt == attempts:
                    raise
                if exc.retry_after_s is not None and self.limiter is not None:
                    await self.limiter.back_off(exc.retry_after_s)
                delay = exc.retry_after_s or backoff * (1 + self._random.random())
                await asyncio.sleep(min(delay, self.policy.max_backoff_s))
                backoff = min(backoff * 2, self.policy.max_backoff_s)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _submit(self, command: SubmitToVenue) -> None:
        order = command.order
        cid = order.client_order_id
        try:
            state = await self._call(True, lambda: self.adapter.place_order(order))
        except VenueError as exc:
            if exc.kind is VenueErrorKind.DEFINITIVE:
                await self._apply([self._rejected(cid, exc.message)])
            else:
                self._unknown(cid, exc)
            return
        assert isinstance(state, VenueOrderState)
        await self._apply(self.translate(state))

    async def _cancel(self, command: CancelAtVenue) -> None:
        cid = command.client_order_id
        try:
            state = await self._call(
                True, lambda: self.adapter.cancel_order(cid, command.instrument_id)
            )
        except VenueError as exc:
            if exc.kind is VenueErrorKind.DEFINITIVE:
                # Refused: find out why (it may have filled meanwhile), then report it.
                await self.resolve(cid, command.instrument_id)
                order = self.engine.state.orders.get(cid)
                if order is not None and order.status is OrderStatus.PENDING_CANCEL:
                    await self._apply([self._cancel_rejected(cid, exc.message)])
            else:
                self._unknown(cid, exc)
            return
        assert isinstance(state, VenueOrderState)
        await self._apply(self.translate(state))

    async def _modify(self, command: ModifyAtVenue) -> None:
        cid = command.client_order_id
        try:
            state = await self._call(
                True,
                lambda: self.adapter.modify_order(
                    cid,
                    command.instrument_id,
                    quantity=command.quantity,
                    price=command.price,
                    trigger_price=command.trigger_price,
                ),
            )
        except VenueError as exc:
            if exc.kind is VenueErrorKind.DEFINITIVE:
                await self._apply([self._modify_rejected(cid, exc.message)])
            else:
                self._unknown(cid, exc)
            return
        assert isinstance(state, VenueOrderState)
        await self._apply(self.translate(state))

    def _unknown(self, cid: ClientOrderId, exc: VenueError) -> None:
        self.in_flight.setdefault(cid, 0)
        self.venue_errors.append(str(exc))
        log.warning("venue_outcome_unknown", order=cid, error=str(exc))

    # Resolution -----------------------------------------------------------------------

    async def resolve_in_flight(self) -> None:
        """Query every order whose outcome is unknown, once."""
        for cid in list(self.in_flight):
            order = self.engine.state.orders.get(cid)
            if order is None:
                self.in_flight.pop(cid, None)
                continue
            await self.resolve(cid, order.instrument_id)

    async def resolve(self, cid: ClientOrderId, instrument_id: InstrumentId) -> None:
        """Ask the venue about one order and apply what it says."""
        try:
            state = await self._call(
                False, lambda: self.adapter.query_order(instrument_id, client_order_id=cid)
            )
        except VenueError as exc:
            log.warning("venue_query_failed", order=cid, error=str(exc))
            return
        order = self.engine.state.orders.get(cid)
        if state is None:
            if cid in self.in_flight:
                self.in_flight[cid] += 1
                if self.in_flight[cid] >= self.policy.unknown_checks:
                    self.in_flight.pop(cid)
                    # Never acknowledged and confirmed absent: it never reached the venue
                    # (a cancel requested meanwhile changes nothing about that).
                    if (
                        order is not None
                        and order.venue_order_id is None
                        and order.status in (OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL)
                    ):
                        await self._apply(
                            [
                                self._rejected(
                                    cid,
                                    f"the venue has no order {cid} after "
                                    f"{self.policy.unknown_checks} checks",
                                )
                            ]
                        )
            return
        assert isinstance(state, VenueOrderState)
        self.in_flight.pop(cid, None)
        if order is not None and not state.status.is_closed:
            if order.status is OrderStatus.PENDING_CANCEL:
                # The cancel may never have arrived; cancelling again is harmless.
                await self._cancel(
                    CancelAtVenue(
                        venue=self.adapter.venue_id,
                        account_id=self.engine.account_id,
                        client_order_id=cid,
                        instrument_id=instrument_id,
                        ts=self.engine.clock.now_ns(),
                    )
                )
                return
            if order.status is OrderStatus.PENDING_MODIFY and (
                state.quantity == order.quantity
                and state.price == order.price
                and state.trigger_price == order.trigger_price
            ):
                await self._apply(
                    [self._modify_rejected(cid, "the venue did not apply the change")]
                )
        if (
            state.filled_quantity
            and order is not None
            and (state.filled_quantity > order.filled_quantity)
        ):
            # Fills we missed (a dropped stream message) may be older than the newest
            # fill seen, so look back to the order's creation, not to the last fill.
            await self.poll_fills(since_ns=order.ts_init)
        await self._apply(self.translate(state))

    async def poll_fills(self, since_ns: int | None = None) -> None:
        """Apply every venue fill since ``since_ns`` (default: the last one seen)."""
        start = self.last_fill_ts if since_ns is None else since_ns
        try:
            fills = await self._call(False, lambda: self.adapter.fills_since(start))
        except VenueError as exc:
            log.warning("venue_fill_poll_failed", error=str(exc))
            return
        assert isinstance(fills, list)
        await self._apply([e for f in fills if (e := self._fill_event(f)) is not None])

    async def on_update(self, update: VenueOrderState | VenueFill) -> None:
        """Handle one message from the venue's order-update stream."""
        if isinstance(update, VenueFill):
            event = self._fill_event(update)
            if event is not None:
                await self._apply([event])
            return
        await self._apply(self.translate(update))
        order = self._order(update.client_order_id)
        if update.client_order_id in self.awaiting_fills and order is not None:
            # Closed at the venue with fills not booked yet: fetch them rather than wait
            # for their stream messages (or the next reconciliation).
            await self.poll_fills(since_ns=order.ts_init)

    # Translation ----------------------------------------------------------------------

    def _order(self, cid: ClientOrderId | None) -> Order | None:
        return self.engine.state.orders.get(cid) if cid is not None else None

    def translate(self, state: VenueOrderState) -> list[OrderEvents]:
        """Return the events that move the engine's order to the venue's status.

        Fills are not derived from a status: they come from the venue's fill records.
        """
        order = self._order(state.client_order_id)
        if order is None or order.status.is_closed:
            return []
        cid = order.client_order_id
        ts = self.engine.clock.now_ns()
        account = self.engine.account_id
        events: list[OrderEvents] = []
        if order.status is OrderStatus.SUBMITTED and state.status is not OrderStatus.REJECTED:
            events.append(
                OrderAccepted(
                    account_id=account,
                    client_order_id=cid,
                    ts_event=state.ts or ts,
                    ts_recv=ts,
                    venue_order_id=state.venue_order_id or VenueOrderId(cid),
                )
            )
        modified = order.status is OrderStatus.PENDING_MODIFY and (
            state.quantity != order.quantity
            or (state.price is not None and state.price != order.price)
            or (state.trigger_price is not None and state.trigger_price != order.trigger_price)
        )
        closes = state.status is OrderStatus.CANCELLED or state.status is OrderStatus.EXPIRED
        if state.status is OrderStatus.FILLED and state.filled_quantity < order.quantity:
            closes = not modified  # else the modify is applied (below) and the fills end it
        if closes and state.filled_quantity > order.filled_quantity:
            # Closed at the venue with fills the engine has not booked yet (their messages
            # lag, or a fill poll failed). Closed unfilled now, a bracket entry would
            # cancel its exits, and its late fills would leave a position without them:
            # hold the close until the fills are in (`_close_when_filled`; a later resolve
            # or reconciliation applies it too).
            self.awaiting_fills[cid] = state
            return events
        self.awaiting_fills.pop(cid, None)
        if state.status is OrderStatus.CANCELLED:
            events.append(
                OrderCancelled(
                    account_id=account,
                    client_order_id=cid,
                    ts_event=state.ts or ts,
                    ts_recv=ts,
                    reason=state.reason or "cancelled at the venue",
                )
            )
        elif state.status is OrderStatus.EXPIRED:
            events.append(
                OrderExpired(
                    account_id=account, client_order_id=cid, ts_event=state.ts or ts, ts_recv=ts
                )
            )
        elif state.status is OrderStatus.REJECTED:
            events.append(self._rejected(cid, state.reason or "rejected by the venue"))
        elif modified:
            events.append(
                OrderModified(
                    account_id=account,
                    client_order_id=cid,
                    ts_event=state.ts or ts,
                    ts_recv=ts,
                    quantity=Quantity(state.quantity) if state.quantity != order.quantity else None,
                    price=Price(state.price) if state.price is not None else None,
                    trigger_price=(
                        Price(state.trigger_price) if state.trigger_price is not None else None
                    ),
                )
            )
        elif state.status is OrderStatus.FILLED and state.filled_quantity < order.quantity:
            # Done at the venue with less than the order's quantity, and not by a modify
            # (the branch above): as an order rebuilt from its executions alone reads
            # after a restart. The rest will never fill; without a terminal event the
            # order would stay open for good.
            events.append(
                OrderCancelled(
                    account_id=account,
                    client_order_id=cid,
                    ts_event=state.ts or ts,
                    ts_recv=ts,
                    reason=(
                        f"the venue reports the order done with {state.filled_quantity} of "
                        f"{order.quantity} filled"
                    ),
                )
            )
        return events

    def _fill_event(self, fill: VenueFill) -> OrderFilled | None:
        order = self._order(fill.client_order_id)
        if order is None:
            order = next(
                (
                    o
                    for o in self.engine.state.orders.values()
                    if o.venue_order_id == fill.venue_order_id
                ),
                None,
            )
        if order is None:
            log.warning(
                "fill_for_unknown_order", trade=fill.trade_id, venue_order=fill.venue_order_id
            )
            return None
        if fill.quantity <= 0 or fill.price <= 0:
            log.error(
                "malformed_venue_fill",
                trade=fill.trade_id,
                quantity=str(fill.quantity),
                price=str(fill.price),
            )
            return None
        self.last_fill_ts = max(self.last_fill_ts, fill.ts)
        ts = self.engine.clock.now_ns()
        return OrderFilled(
            account_id=self.engine.account_id,
            client_order_id=order.client_order_id,
            ts_event=fill.ts or ts,
            ts_recv=ts,
            venue=self.adapter.venue_id,
            venue_order_id=fill.venue_order_id,
            trade_id=fill.trade_id,
            instrument_id=order.instrument_id,
            side=order.side,
            last_quantity=Quantity(fill.quantity),
            last_price=fill.price,
            fee=fill.fee,
            fee_currency=fill.fee_currency,
            liquidity=fill.liquidity,
        )

    def _refusal(self, kind: type[_Refusal], cid: ClientOrderId, reason: str) -> _Refusal:
        ts = self.engine.clock.now_ns()
        return kind(
            account_id=self.engine.account_id,
            client_order_id=cid,
            ts_event=ts,
            ts_recv=ts,
            reason=reason,
        )

    def _rejected(self, cid: ClientOrderId, reason: str) -> OrderRejected:
        return self._refusal(OrderRejected, cid, reason)

    def _cancel_rejected(self, cid: ClientOrderId, reason: str) -> OrderCancelRejected:
        return self._refusal(OrderCancelRejected, cid, reason)

    def _modify_rejected(self, cid: ClientOrderId, reason: str) -> OrderModifyRejected:
        return self._refusal(OrderModifyRejected, cid, reason)


__all__ = ["Decimal", "ExecutionClient", "ExecutionPolicy"]
