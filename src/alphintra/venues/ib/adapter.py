"""The Interactive Brokers adapter: TWS or IB Gateway through ``ib_async``.

The client is ``ib_async.IB`` (one socket to TWS, asyncio). Translation lives in
``translation.py`` (contracts, orders, statuses, fills), ``errors.py`` (IB error codes)
and ``order_stream.py`` (ordering the order-update stream); quotes and bars in
``market_data.py`` (a mixin of the adapter). See ``README.md`` for running against a
paper TWS or IB Gateway.

Writes: ``place_order`` sends the order with ``orderRef`` = client order ID and waits up
to ``ack_timeout_s`` for TWS's first answer: an acknowledgement returns the state; an
error that refuses the order raises DEFINITIVE; silence, a dropped socket or a lost IB
link (1100) while waiting raises UNKNOWN_OUTCOME (the order may be live). Nothing is
ever re-sent under another client order ID.

Queries by client order ID: IB has no venue-side lookup by ``orderRef``. The adapter
searches this session's trades, then TWS's open orders (``reqOpenOrders``), then its
completed orders (``reqCompletedOrders``), then today's executions (``reqExecutions``);
only when all miss does ``query_order`` return None. IB keeps completed orders and
executions for the current day (executions up to 7 days if TWS is set to show more),
so an older order can no longer be found.

Stream: order updates come from ``orderStatusEvent``, ``execDetailsEvent``,
``commissionReportEvent`` and ``errorEvent``. On a dropped socket the adapter
reconnects with exponential backoff; after a reconnect, and after TWS reports its IB
link restored (1101, 1102), it polls executions since the last one seen and refreshes
every open order, so nothing is lost in the gap. 1101 also resubscribes market data.
A heartbeat (``reqCurrentTime``) left unanswered closes and re-opens a session that hung.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import structlog
from ib_async import IB, Contract, ExecutionFilter, Fill, Order, StartupFetch, Trade
from ib_async import OrderStatus as IbOrderStatus
from ib_async.wrapper import RequestError

from alphintra.domain.enums import OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, VenueOrderId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import ZERO
from alphintra.venues.adapter import (
    AccountSnapshot,
    OrderUpdateHandler,
    QuoteHandler,
    RateLimit,
    VenueBalance,
    VenueError,
    VenueErrorKind,
    VenueFill,
    VenueOrderState,
    VenuePosition,
)
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.ib import translation as tr
from alphintra.venues.ib.config import IbConfig
from alphintra.venues.ib.errors import IbErrorEffect, classify_error, venue_error
from alphintra.venues.ib.instruments import IbInstruments
from alphintra.venues.ib.market_data import IbMarketData
from alphintra.venues.ib.order_stream import (
    OrderStream,
    Update,
    answered_modify,
    state_from_executions,
    trade_state,
    working_ib_status,
)

log = structlog.get_logger("alphintra.venues.ib")
_T = TypeVar("_T")

IB_CAPABILITIES = VenueCapabilities(
    order_types=frozenset(OrderType),
    times_in_force=frozenset(
        {TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTD, TimeInForce.FOK}
    ),
    native_oco=True,  # OCO members share an IB ocaGroup (ocaType 1, cancel with block)
    supports_modify=True,
    supports_reduce_only=False,
    supports_post_only=False,
)
"""What IB does natively. FOK is accepted by TWS for some products only."""

IB_RATE_LIMIT = RateLimit(capacity=50, per_seconds=1.0)
"""IB's documented API limit: 50 messages per second (ib_async also paces itself at 45)."""

_STARTUP = (
    StartupFetch.POSITIONS
    | StartupFetch.ORDERS_OPEN
    | StartupFetch.ORDERS_COMPLETE
    | StartupFetch.ACCOUNT_UPDATES
)
"""What ib_async loads on connect; executions are polled by the adapter itself."""

_SETTLES_PLACE = frozenset(OrderStatus) - {OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL}
_EFFECTS_REFUSING = {
    "place": frozenset(
        {
            IbErrorEffect.REJECT,
            IbErrorEffect.VALIDATION,
            IbErrorEffect.CANCELLED,
            IbErrorEffect.UNKNOWN,
            IbErrorEffect.PACING,
        }
    ),
    "cancel": frozenset({IbErrorEffect.CANCEL_REFUSED}),
    "modify": frozenset(
        {IbErrorEffect.MODIFY_REFUSED, IbErrorEffect.VALIDATION, IbErrorEffect.REJECT}
    ),
}


class IbAdapter(IbMarketData):
    """A ``VenueAdapter`` over one TWS or IB Gateway API session."""

    capabilities: VenueCapabilities = IB_CAPABILITIES
    rate_limit: RateLimit | None = IB_RATE_LIMIT

    def __init__(
        self,
        config: IbConfig,
        instruments: InstrumentRegistry | Mapping[InstrumentId, Instrument] | None = None,
        *,
        ib: IB | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.config = config
        self.venue_id = config.venue_id
        self.instruments = IbInstruments(
            config.venue_id, instruments if instruments is not None else InstrumentRegistry()
        )
        self._clock = clock or time.time_ns
        self._ib = ib or IB()
        self._ib.RaiseRequestErrors = True
        self.stream = OrderStream(
            resolve=self.instruments.resolve,
            commission_timeout_ns=int(config.commission_timeout_s * 1e9),
        )
        self._qualified_contracts: dict[InstrumentId, Contract] = {}
        self._list_lock = asyncio.Lock()
        self._updates: asyncio.Queue[Update] = asyncio.Queue()
        self._quotes: asyncio.Queue[QuoteTick] = asyncio.Queue()
        self._handlers: list[OrderUpdateHandler] = []
        self._quote_handlers: list[QuoteHandler] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pumps: list[asyncio.Task[None]] = []
        self._waiters: dict[tuple[int, str], asyncio.Future[VenueOrderState]] = {}
        self._resendable: set[ClientOrderId] = set()
        """Client order IDs whose placement TWS refused as TRANSIENT (pacing): not at IB."""
        self._subscribed: dict[InstrumentId, Contract] = {}
        self._tickers: dict[int, InstrumentId] = {}
        self._closing = True
        self._link_down = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self.heartbeats_missed = 0
        """How many times TWS left a heartbeat unanswered (each closed the session)."""
        self._flush_timer: asyncio.TimerHandle | None = None
        self._started_ns = 0
        self.reconnects = 0
        """How many times the adapter re-opened the API session after losing it."""
        ib_events = self._ib
        ib_events.orderStatusEvent += self._on_order_status
        ib_events.execDetailsEvent += self._on_execution
        ib_events.commissionReportEvent += self._on_commission
        ib_events.updateEvent += self._on_update
        ib_events.errorEvent += self._on_error
        ib_events.disconnectedEvent += self._on_disconnected
        ib_events.pendingTickersEvent += self._on_tickers

    # ------------------------------------------------------------------ connection

    @property
    def ib(self) -> IB:
        """The ib_async client (for diagnostics and tests)."""
        return self._ib

    @property
    def connected(self) -> bool:
        """Return True while the API session is up and TWS has its link to IB."""
        return self._ib.isConnected() and not self._link_down

    async def connect(self) -> None:
        """Open the API session; raise TRANSIENT when TWS is unreachable."""
        self._closing = False
        self._started_ns = self._started_ns or self._clock()
        await self._open()

    async def _open(self) -> None:
        cfg = self.config
        try:
            await self._ib.connectAsync(
                cfg.host,
                cfg.port,
                clientId=cfg.client_id,
                timeout=cfg.connect_timeout_s,
                account=cfg.account,
                fetchFields=_STARTUP,
            )
        except (OSError, TimeoutError, ConnectionError) as exc:
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self.venue_id,
                f"cannot open an API session with TWS at {cfg.host}:{cfg.port} "
                f"(client ID {cfg.client_id}): {type(exc).__name__}: {exc}",
                code="CONNECT",
            ) from exc
        self._link_down = False
        self._ib.reqMarketDataType(cfg.market_data_type)
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())
        log.info("ib_connected", host=cfg.host, port=cfg.port, client_id=cfg.client_id)

    async def _beat(self) -> None:
        """Ask TWS for its clock every ``heartbeat_interval_s``; close a session that
        leaves it unanswered for ``heartbeat_timeout_s``, to reconnect and resync. A hung
        TWS keeps its socket open: nothing else would notice."""
        cfg = self.config
        while not self._closing:
            await asyncio.sleep(cfg.heartbeat_interval_s)
            if self._closing or not self._ib.isConnected():
                continue  # a dropped socket is the reconnect loop's
            try:
                async with asyncio.timeout(cfg.heartbeat_timeout_s):
                    await self._ib.reqCurrentTimeAsync()
            except TimeoutError:
                if self._closing or not self._ib.isConnected():
                    continue
                self.heartbeats_missed += 1
                log.warning(
                    "ib_heartbeat_missed",
                    host=cfg.host,
                    port=cfg.port,
                    timeout_s=cfg.heartbeat_timeout_s,
                )
                self._ib.disconnect()  # emits disconnectedEvent: reconnect and resync
            except ConnectionError:
                continue  # the socket dropped while waiting: handled as any drop

    async def disconnect(self) -> None:
        """Close the API session and stop every background task."""
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._heartbeat
            self._heartbeat = None
        self._ib.disconnect()
        self._fail_waiters("the adapter disconnected")
        for task in [*self._pumps, *self._tasks]:
            task.cancel()
        for task in [*self._pumps, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pumps.clear()
        self._tasks.clear()
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None

    def _require_connected(self, what: str) -> None:
        if not self._ib.isConnected():
            raise VenueError(
                VenueErrorKind.TRANSIENT, self.venue_id, f"{what}: not connected to TWS"
            )
        if self._link_down:
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self.venue_id,
                f"{what}: TWS has lost its connection to IB (error 1100); waiting for 1102",
            )

    def _on_disconnected(self) -> None:
        self._fail_waiters("the connection to TWS dropped while waiting for an answer")
        if self._closing:
            return
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self.config.reconnect_initial_s
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._open()
            except VenueError as exc:
                log.warning("ib_reconnect_failed", error=exc.message, retry_in_s=delay)
                delay = min(delay * 2, self.config.reconnect_max_s)
                continue
            self.reconnects += 1
            await self._resync(resubscribe=True)
            return

    async def _resync(self, *, resubscribe: bool) -> None:
        """Catch up after a gap: resubscribe, poll executions, refresh open orders."""
        try:
            if resubscribe:
                self._resubscribe()
            since = self.stream.last_execution_ns or self._started_ns
            for fill in await self._executions(since):
                self._publish(self.stream.on_execution(fill, self._clock()))
            await self._refresh_orders()
        except VenueError as exc:
            log.warning("ib_resync_failed", error=exc.message)

    async def _refresh_orders(self) -> None:
        """Ask TWS for every order still open here: open orders first, then completed ones.

        This session's ``Trade`` objects may be stale after a gap (TWS sends no status
        for what changed while its link to IB was down), so they are not trusted here.
        """
        waiting = {
            t.client_order_id: t
            for t in self.stream.orders.values()
            if not (t.last and t.last.status.is_closed)
        }
        if not waiting:
            return
        now = self._clock()
        async with self._list_lock:  # ib_async keys this request by name
            still_open = await self._request(self._ib.reqOpenOrdersAsync, "open orders")
        for trade in still_open:
            tracked = waiting.pop(ClientOrderId(trade.order.orderRef), None)
            if tracked is not None:
                self._publish(self.stream.on_status(trade, now))
        if not waiting:
            return
        for trade in await self._completed_orders("completed orders"):
            tracked = waiting.get(ClientOrderId(trade.order.orderRef))
            if tracked is not None:
                state = trade_state(trade, tracked.instrument_id, ts=now)
                if state is not None:
                    self._publish(self.stream.on_snapshot(state))

    async def _qualified(self, instrument_id: InstrumentId) -> Contract:
        """Return the contract with IB's conId filled in (``reqContractDetails``), cached.

        ib_async keys market data by conId, and a qualified contract is unambiguous.
        """
        cached = self._qualified_contracts.get(instrument_id)
        if cached is not None:
            return cached
        contract = self.instruments.contract(instrument_id)
        what = f"contract details for {instrument_id}"
        (found,) = await self._request(lambda: self._ib.qualifyContractsAsync(contract), what)
        if not isinstance(found, Contract) or not found.conId:
            raise VenueError(
                VenueErrorKind.DEFINITIVE,
                self.venue_id,
                f"{what}: IB knows no single contract matching {contract}",
            )
        self._qualified_contracts[instrument_id] = found
        self.instruments.learn(found.conId, instrument_id)
        return found

    # ------------------------------------------------------------------ order updates

    async def subscribe_order_updates(self, handler: OrderUpdateHandler) -> None:
        """Deliver order states and fills to ``handler``, in order, until disconnect."""
        self._handlers.append(handler)
        if not any(not p.done() for p in self._pumps if p.get_name() == "ib-orders"):
            self._pumps.append(asyncio.create_task(self._pump_orders(), name="ib-orders"))

    async def _pump_orders(self) -> None:
        while True:
            update = await self._updates.get()
            for handler in list(self._handlers):
                try:
                    await handler(update)
                except Exception as exc:  # a handler's failure must not stop the stream
                    log.exception("ib_order_handler_failed", error=str(exc))

    def _publish(self, updates: list[Update]) -> None:
        for update in updates:
            self._updates.put_nowait(update)
        if self.stream.pending_fills and self._flush_timer is None:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(self.config.commission_timeout_s, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        self._publish(self.stream.flush(self._clock()))

    def _on_order_status(self, trade: Trade) -> None:
        now = self._clock()
        self._publish(self.stream.on_status(trade, now))
        tracked = self.stream.orders.get(ClientOrderId(trade.order.orderRef))
        if tracked is None:
            return
        try:
            state = trade_state(trade, tracked.instrument_id, ts=now)
        except tr.IbTranslationError:
            return  # logged by the stream
        if state is None:
            return
        order_id = trade.order.orderId
        place = self._waiters.get((order_id, "place"))
        if place is not None and not place.done() and state.status in _SETTLES_PLACE:
            if state.status is OrderStatus.REJECTED:
                place.set_exception(self._refusal(state))
            else:
                place.set_result(state)
        closed = state.status.is_closed
        cancel = self._waiters.get((order_id, "cancel"))
        if cancel is not None and not cancel.done() and closed:
            if state.status is OrderStatus.CANCELLED:
                cancel.set_result(state)
            else:
                cancel.set_exception(
                    self._refusal(state, f"cannot cancel: order is {state.status}")
                )
        modify = self._waiters.get((order_id, "modify"))
        if modify is not None and not modify.done() and (answered_modify(trade) or closed):
            modify.set_result(state)

    def _refusal(self, state: VenueOrderState, message: str | None = None) -> VenueError:
        return VenueError(
            VenueErrorKind.DEFINITIVE,
            self.venue_id,
            message or f"order {state.client_order_id} refused: {state.reason or state.status}",
        )

    def _on_execution(self, trade: Trade, fill: Fill) -> None:
        self._publish(self.stream.on_execution(fill, self._clock()))

    def _on_commission(self, trade: Trade, fill: Fill, report: object) -> None:
        self._publish(self.stream.flush(self._clock()))

    def _on_update(self) -> None:
        # after every socket read: commission reports for executions of orders ib_async
        # keeps no trade for (placed in an earlier session) raise no event of their own
        if self.stream.pending_fills:
            self._publish(self.stream.flush(self._clock()))

    def _on_error(self, req_id: int, code: int, message: str, contract: object) -> None:
        rule = classify_error(code)
        effect = rule.effect
        if effect is IbErrorEffect.CONNECTION_LOST:
            self._link_down = True
            log.warning("ib_link_lost", code=code, message=message)
            self._fail_waiters(f"TWS reported error {code} ({rule.meaning}) while waiting")
            return
        if effect in (IbErrorEffect.RESTORED, IbErrorEffect.RESTORED_DATA_LOST):
            self._link_down = False
            log.info("ib_link_restored", code=code, message=message)
            self._spawn(self._resync(resubscribe=effect is IbErrorEffect.RESTORED_DATA_LOST))
            return
        for kind, effects in _EFFECTS_REFUSING.items():
            waiter = self._waiters.get((req_id, kind))
            if waiter is not None and not waiter.done() and effect in effects:
                error = venue_error(
                    self.venue_id, code, message, write_in_flight=True, what=f"{kind} order"
                )
                if error is not None:
                    waiter.set_exception(error)
        if effect not in (IbErrorEffect.IGNORE, IbErrorEffect.WARNING):
            log.info("ib_error", req_id=req_id, code=code, message=message)

    def _fail_waiters(self, reason: str) -> None:
        for (order_id, kind), waiter in list(self._waiters.items()):
            if not waiter.done():
                waiter.set_exception(
                    VenueError(
                        VenueErrorKind.UNKNOWN_OUTCOME,
                        self.venue_id,
                        f"{kind} of IB order {order_id}: {reason}; query by client order ID",
                    )
                )

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coroutine
            except Exception as exc:  # a background task must never fail silently
                log.exception("ib_background_task_failed", error=str(exc))

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _await_answer(self, order_id: int, kind: str, what: str) -> VenueOrderState:
        future = self._waiters[(order_id, kind)]
        try:
            return await asyncio.wait_for(future, self.config.ack_timeout_s)
        except TimeoutError:
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME,
                self.venue_id,
                f"{what}: TWS did not answer within {self.config.ack_timeout_s} s; "
                "query by client order ID",
                code="TIMEOUT",
            ) from None
        finally:
            self._waiters.pop((order_id, kind), None)

    # ------------------------------------------------------------------ writes

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        """Send ``order`` under its client order ID (``orderRef``) and wait for TWS's answer."""
        cid = order.client_order_id
        self._require_connected(f"place {cid}")
        sent = cid in self.stream.orders or self._session_trade(cid) is not None
        if sent and cid not in self._resendable:
            raise VenueError(
                VenueErrorKind.DEFINITIVE,
                self.venue_id,
                f"duplicate client order ID {cid}: already sent to IB",
                code="DUPLICATE",
            )
        contract = await self._qualified(order.instrument_id)
        try:
            ib_order = tr.order_for(
                order, account=self.config.account, outside_rth=self.config.outside_rth
            )
        except tr.IbTranslationError as exc:
            raise VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, str(exc)) from exc
        try:
            trade = self._ib.placeOrder(contract, ib_order)
        except ConnectionError as exc:  # raised before anything was written
            raise VenueError(
                VenueErrorKind.TRANSIENT, self.venue_id, f"place {cid}: {exc}"
            ) from exc
        self._resendable.discard(cid)
        self.stream.track(cid, order.instrument_id)
        order_id = trade.order.orderId
        self._waiters[(order_id, "place")] = asyncio.get_running_loop().create_future()
        try:
            return await self._await_answer(order_id, "place", f"place {cid}")
        except VenueError as exc:
            if exc.kind is VenueErrorKind.TRANSIENT:  # refused before IB took it (pacing)
                self._resendable.add(cid)  # the execution client's retry may go out
            raise

    async def cancel_order(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId
    ) -> VenueOrderState:
        """Cancel; DEFINITIVE when the order is unknown, already closed, or TWS refuses."""
        what = f"cancel {client_order_id}"
        self._require_connected(what)
        trade = await self._live_trade(client_order_id, instrument_id, what)
        order_id = trade.order.orderId
        self._waiters[(order_id, "cancel")] = asyncio.get_running_loop().create_future()
        try:
            self._ib.cancelOrder(trade.order)
        except ConnectionError as exc:
            self._waiters.pop((order_id, "cancel"), None)
            raise VenueError(VenueErrorKind.TRANSIENT, self.venue_id, f"{what}: {exc}") from exc
        return await self._await_answer(order_id, "cancel", what)

    async def modify_order(
        self,
        client_order_id: ClientOrderId,
        instrument_id: InstrumentId,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> VenueOrderState:
        """Change quantity, limit or trigger price by re-sending the order under its IB ID."""
        what = f"modify {client_order_id}"
        self._require_connected(what)
        trade = await self._live_trade(client_order_id, instrument_id, what)
        ib_order = trade.order
        # ib_async modifies through the Trade's own Order: what IB holds is put back if
        # the change is refused or never sent, so that the order is not reported, nor
        # later re-sent, with values IB did not take
        held = _modifiable_fields(ib_order)
        if trade.isDone():
            # ib_async set Cancelled on the error that refused an earlier change of this
            # live order; its placeOrder asserts a live status after sending
            status = working_ib_status(trade)
            if status is None or status in IbOrderStatus.DoneStates:
                raise VenueError(
                    VenueErrorKind.DEFINITIVE,
                    self.venue_id,
                    f"{what}: ib_async holds the order as {trade.orderStatus.status}",
                )
            trade.orderStatus.status = status
        if quantity is not None:
            ib_order.totalQuantity = tr.ib_quantity(quantity)
        if price is not None:
            ib_order.lmtPrice = tr.wire_decimal(price)
        if trigger_price is not None:
            if ib_order.orderType.startswith("TRAIL"):
                ib_order.trailStopPrice = tr.wire_decimal(trigger_price)
            else:
                ib_order.auxPrice = tr.wire_decimal(trigger_price)
        order_id = ib_order.orderId
        self._waiters[(order_id, "modify")] = asyncio.get_running_loop().create_future()
        try:
            self._ib.placeOrder(trade.contract, ib_order)
        except ConnectionError as exc:
            self._waiters.pop((order_id, "modify"), None)
            _restore_fields(ib_order, held)
            raise VenueError(VenueErrorKind.TRANSIENT, self.venue_id, f"{what}: {exc}") from exc
        try:
            return await self._await_answer(order_id, "modify", what)
        except VenueError as exc:
            if exc.kind is VenueErrorKind.DEFINITIVE:  # refused: the order is as it was
                _restore_fields(ib_order, held)
            raise

    async def _live_trade(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId, what: str
    ) -> Trade:
        trade = self._session_trade(client_order_id)
        if trade is None:
            state = await self.query_order(instrument_id, client_order_id=client_order_id)
            detail = "IB does not know it" if state is None else f"it is {state.status}"
            raise VenueError(
                VenueErrorKind.DEFINITIVE,
                self.venue_id,
                f"{what}: no working order of this API client with that orderRef ({detail})",
            )
        state = trade_state(trade, self.instruments.resolve(trade.contract))
        if state is not None and state.status.is_closed:
            raise VenueError(
                VenueErrorKind.DEFINITIVE, self.venue_id, f"{what}: the order is {state.status}"
            )
        return trade

    # ------------------------------------------------------------------ reads

    async def _request(self, send: Callable[[], Awaitable[_T]], what: str) -> _T:
        """Send a request (only once the session is known to be up) and await its answer."""
        self._require_connected(what)
        try:
            return await asyncio.wait_for(send(), self.config.request_timeout_s)
        except RequestError as exc:
            error = venue_error(self.venue_id, exc.code, exc.message, what=what)
            raise error or VenueError(
                VenueErrorKind.DEFINITIVE, self.venue_id, f"{what}: {exc}"
            ) from exc
        except TimeoutError:
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self.venue_id,
                f"{what}: no answer from TWS within {self.config.request_timeout_s} s",
                code="TIMEOUT",
            ) from None
        except ConnectionError as exc:
            raise VenueError(VenueErrorKind.TRANSIENT, self.venue_id, f"{what}: {exc}") from exc

    async def _completed_orders(self, what: str) -> list[Trade]:
        async with self._list_lock:  # ib_async keys this request by name
            return await self._request(lambda: self._ib.reqCompletedOrdersAsync(apiOnly=True), what)

    def _session_trade(self, client_order_id: ClientOrderId) -> Trade | None:
        """Return this session's trade for the client order ID, preferring a live one."""
        matches = [t for t in self._ib.trades() if t.order.orderRef == client_order_id]
        live = [t for t in matches if t.order.orderId and not t.isDone()]
        chosen = live or matches
        return chosen[-1] if chosen else None

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None:
        """Find the order in session trades, open orders, completed orders, then executions."""
        what = f"query {client_order_id or venue_order_id}"
        self._require_connected(what)

        def matches(trade: Trade) -> bool:
            if client_order_id is not None:
                return trade.order.orderRef == client_order_id
            return bool(venue_order_id) and str(trade.order.permId) == venue_order_id

        now = self._clock()
        tracked = self.stream.orders.get(client_order_id) if client_order_id else None
        if tracked is not None and tracked.last is not None and tracked.last.status.is_closed:
            return tracked.last  # final, and fresher than a Trade a gap left stale
        for source in ("session", "open", "completed"):
            if source == "session":
                trades = self._ib.trades()
            elif source == "open":
                async with self._list_lock:  # ib_async keys this request by name
                    trades = await self._request(self._ib.reqOpenOrdersAsync, what)
            else:
                trades = await self._completed_orders(what)
            found = [t for t in trades if matches(t)]
            live = [t for t in found if not t.isDone()]
            for trade in reversed(live or found):
                state = trade_state(trade, instrument_id, ts=now)
                if state is not None:
                    return state
        fills = [
            f
            for f in await self._executions(0)
            if (client_order_id is not None and f.execution.orderRef == client_order_id)
            or (venue_order_id and str(f.execution.permId) == venue_order_id)
        ]
        if not fills:
            return None
        known = tracked.last.quantity if tracked is not None and tracked.last else None
        return state_from_executions(fills, instrument_id, now, known)

    async def _executions(self, since_ns: int) -> list[Fill]:
        """Return IB's executions at or after ``since_ns``, with their commission reports
        (one per execution: a corrected one as its latest correction)."""
        flt = ExecutionFilter(time=tr.ib_execution_filter_time(since_ns)) if since_ns else None
        fills = await self._request(lambda: self._ib.reqExecutionsAsync(flt), "executions")
        deadline = asyncio.get_running_loop().time() + self.config.commission_timeout_s

        def current() -> list[Fill]:
            # ib_async keeps the commission on the Fill it first saw for an execId
            stored = {f.execution.execId: f for f in self._ib.fills()}
            return [stored.get(f.execution.execId, f) for f in fills]

        while not all(tr.fill_has_commission(f) for f in current()):
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.02)
        return [
            f
            for f in tr.latest_executions(current())
            if tr.ns_from_datetime(f.execution.time) >= since_ns
        ]

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        """Return today's executions at or after ``ts_ns`` (IB keeps the current day)."""
        out: list[VenueFill] = []
        for fill in await self._executions(ts_ns):
            ref = fill.execution.orderRef
            tracked = self.stream.orders.get(ClientOrderId(ref)) if ref else None
            iid = tracked.instrument_id if tracked else self.instruments.resolve(fill.contract)
            if instrument_id is None or iid == instrument_id:
                out.append(tr.venue_fill(fill, iid, fee_currency=fill.contract.currency))
        return sorted(out, key=lambda f: (f.ts, f.trade_id))

    async def account(self) -> AccountSnapshot:
        """Return cash per currency, positions and open orders (manual ones as ``ib-perm-N``)."""
        positions = await self._request(self._ib.reqPositionsAsync, "positions")
        account = self.config.account
        balances = [
            VenueBalance(v.currency, Decimal(v.value), Decimal(v.value))
            for v in self._ib.accountValues(account)
            if v.tag == "CashBalance" and v.currency not in ("", "BASE")
        ]
        held = []
        for position in positions:
            if account and position.account != account:
                continue
            quantity = tr.decimal_from_ib(position.position) or ZERO
            if not quantity:
                continue
            multiplier = Decimal(position.contract.multiplier or 1)
            cost = tr.decimal_from_ib(position.avgCost)
            held.append(
                VenuePosition(
                    self.instruments.resolve(position.contract),
                    quantity,
                    cost / multiplier if cost is not None else None,
                )
            )
        now = self._clock()
        open_orders = []
        for trade in self._ib.openTrades():
            try:
                state = trade_state(trade, self.instruments.resolve(trade.contract), ts=now)
            except tr.IbTranslationError as exc:  # a manual order type we have no name for
                log.warning(
                    "ib_open_order_unrepresentable", perm_id=trade.order.permId, error=str(exc)
                )
                continue
            if state is None or state.status.is_closed:
                continue
            if not trade.order.orderRef:
                synthetic = ClientOrderId(f"ib-perm-{trade.order.permId}")
                state = dataclasses.replace(state, client_order_id=synthetic)
            open_orders.append(state)
        return AccountSnapshot(tuple(balances), tuple(held), tuple(open_orders), ts=now)


_MODIFIABLE = ("totalQuantity", "lmtPrice", "auxPrice", "trailStopPrice")


def _modifiable_fields(order: Order) -> dict[str, object]:
    """Return the fields of an IB order that ``modify_order`` changes."""
    return {name: getattr(order, name) for name in _MODIFIABLE}


def _restore_fields(order: Order, held: dict[str, object]) -> None:
    """Put back the fields ``_modifiable_fields`` read."""
    for name, value in held.items():
        setattr(order, name, value)
