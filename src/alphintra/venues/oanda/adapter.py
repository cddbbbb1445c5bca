"""The OANDA v20 adapter: FX, metals and index CFDs behind the common venue protocol.

Our client order ID travels in ``clientExtensions.id`` and names the order afterwards as
the OrderSpecifier ``@<client order ID>``. Errors are translated in ``translate.py``:
a 400/404 refusal, 401 and 403 are DEFINITIVE; 429 is TRANSIENT with ``Retry-After``;
a 5xx, timeout or dropped connection is UNKNOWN_OUTCOME on a write and TRANSIENT on a
read (a connection that was never established is TRANSIENT on a write too: nothing was
sent). OANDA answers 201 to an order that it created and then cancelled (a FOK that
could not fill, a price-bound violation): that is not an error, and the returned state
says CANCELLED (EXPIRED for ``TIME_IN_FORCE_EXPIRED``) with OANDA's reason, except a
market order cancelled unfilled with ``MARKET_HALTED``: REJECTED, with a reason that names
the instrument OANDA does not trade. Prices that say ``tradeable: false`` (a closed
market, a halt) are published as quotes (indicative marks); while the latest one read
says so, a market order on the instrument is refused without sending (``tradeable.py``).

Streams (prices, transactions) run as background tasks that reconnect with exponential
backoff. After every reconnect of the transaction stream the adapter polls
``transactions/sinceid`` from the last transaction it delivered, so a gap loses nothing;
it does the same when a transaction arrives whose ID is not the next one, or a heartbeat
names a newer ``lastTransactionID`` (an account's transaction IDs are consecutive, so a
lost stream line shows as a gap). Transactions are delivered once each, in ID order.
A line or a transaction that cannot be understood is logged and skipped (``skipped``
keeps the recent reasons); it never stops a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import structlog

from alphintra.domain.enums import OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, VenueOrderId
from alphintra.domain.market import QuoteTick, TradeBar
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
from alphintra.venues.oanda import translate
from alphintra.venues.oanda.client import (
    MalformedLine,
    OandaClient,
    OandaClientError,
    RequestLimiter,
    StreamOpened,
    order_specifier,
    page_range,
)
from alphintra.venues.oanda.config import OandaConfig
from alphintra.venues.oanda.tradeable import MARKET_HALTED, Tradeability, is_tradeable
from alphintra.venues.oanda.wire import (
    ClientPrice,
    Order,
    Transaction,
    TransactionHeartbeat,
    format_time,
    oanda_instrument,
    parse_time_ns,
)

log = structlog.get_logger("alphintra.venues.oanda")
_T = TypeVar("_T")

OANDA_CAPABILITIES = VenueCapabilities(
    order_types=frozenset(translate.TO_OANDA_TYPE),
    times_in_force=frozenset(
        {TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK}
    ),
    native_oco=False,
    supports_modify=True,
    supports_reduce_only=True,
    supports_post_only=False,
    max_orders_per_second=100,
)
"""MARKET, LIMIT, STOP and TAKE_PROFIT (OANDA's MARKET_IF_TOUCHED) are native.

TRAILING_STOP is not: OANDA's TRAILING_STOP_LOSS (like TAKE_PROFIT and STOP_LOSS) is
attached to an open trade by tradeID and closes all of it, so the engine emulates
trailing stops. DAY maps to GFD; reduce-only maps to ``positionFill: REDUCE_ONLY``;
modify is OANDA's replace (cancel + create, new OANDA order ID, same client ID).
"""
ON_FILL_DETAILS = frozenset({"takeProfitOnFill", "stopLossOnFill", "trailingStopLossOnFill"})
"""Exit orders OANDA can attach to an entry order, created when it fills (client support)."""
OANDA_RATE_LIMIT = RateLimit(capacity=100, per_seconds=1.0)
"""OANDA documents 100 requests per second per connection."""
_PAGE_SIZE = 1000
_REMEMBERED_ORDERS = 10_000
_MAX_CANDLES = 5000


class OandaAdapter:
    """``VenueAdapter`` for an OANDA v20 account."""

    capabilities = OANDA_CAPABILITIES
    rate_limit: RateLimit | None = OANDA_RATE_LIMIT

    def __init__(
        self,
        config: OandaConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        home_currency: str = "USD",
        limiter: RequestLimiter | None = None,
    ) -> None:
        self.config = config
        self.venue_id = config.venue_id
        self._transport = transport
        self.limiter = limiter
        """Every REST request of the adapter takes a token from it (see ``OandaClient``)."""
        self.client = OandaClient(config, transport=transport, limiter=limiter)
        self.home_currency = home_currency
        """The account currency fees are charged in; read from the summary at connect."""
        self.last_transaction_id: str | None = None
        self.skipped: deque[str] = deque(maxlen=100)
        """Recent reasons for stream lines or transactions that were logged and skipped."""
        self.skipped_count = 0
        self.reconnects = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._orders: OrderedDict[VenueOrderId, VenueOrderState] = OrderedDict()
        """Recent orders by OANDA ID: fills and cancels from the stream are checked against
        them (side) and completed from them (quantity, type). Bounded."""
        self._delivered_id = 0
        self.tradeability = Tradeability()
        """What the latest prices read say about which instruments OANDA trades now."""

    # --- symbols ------------------------------------------------------------------------

    def instrument_name(self, instrument_id: InstrumentId) -> str:
        """Return OANDA's name for one of our instruments."""
        return self.config.instrument_names.get(instrument_id) or oanda_instrument(instrument_id)

    def symbol_of(self, name: str) -> InstrumentId:
        """Return our instrument ID for an OANDA instrument name."""
        for ours, theirs in self.config.instrument_names.items():
            if theirs == name:
                return InstrumentId(ours)
        return InstrumentId(name.replace("_", ""))

    # --- lifecycle ----------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the client and read the account summary (authenticates, learns currency)."""
        if self.client.closed:
            self.client = OandaClient(self.config, transport=self._transport, limiter=self.limiter)
        summary = await self._read(self.client.account_summary())
        self.home_currency = summary.account.currency
        self.last_transaction_id = summary.last_transaction_id
        self._delivered_id = int(summary.last_transaction_id or 0)

    async def disconnect(self) -> None:
        """Stop the streams and close every connection."""
        tasks = list(self._tasks)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.client.aclose()

    # --- error plumbing -----------------------------------------------------------------

    async def _read(self, call: Coroutine[Any, Any, _T]) -> _T:
        try:
            return await call
        except OandaClientError as exc:
            error = translate.venue_error(exc, self.venue_id, write=False)
            assert error is not None
            raise error from exc

    async def _write(self, call: Coroutine[Any, Any, _T]) -> _T:
        try:
            return await call
        except OandaClientError as exc:
            error = translate.venue_error(exc, self.venue_id, write=True)
            assert error is not None
            raise error from exc

    def _definitive(self, message: str, code: str = "UNSUPPORTED") -> VenueError:
        return VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, message, code=code)

    def _remember(self, state: VenueOrderState) -> None:
        self._orders[state.venue_order_id] = state
        self._orders.move_to_end(state.venue_order_id)
        while len(self._orders) > _REMEMBERED_ORDERS:
            self._orders.popitem(last=False)

    def _skip(self, reason: str, **context: object) -> None:
        self.skipped_count += 1
        self.skipped.append(reason)
        log.warning("oanda_message_skipped", reason=reason, **context)

    # --- account ------------------------------------------------------------------------

    async def account(self) -> AccountSnapshot:
        """Return the balance, open positions and pending orders."""
        summary = await self._read(self.client.account_summary())
        positions = await self._read(self.client.open_positions())
        pending = await self._read(self.client.pending_orders())
        account = summary.account
        held: list[VenuePosition] = []
        for position in positions.positions:
            net = position.long.units + position.short.units
            if net == 0:
                continue
            side = position.long if net > 0 else position.short
            held.append(VenuePosition(self.symbol_of(position.instrument), net, side.average_price))
        open_orders: list[VenueOrderState] = []
        for order in pending.orders:
            state = self._state_or_skip(order)
            if state is not None:
                open_orders.append(state)
        return AccountSnapshot(
            balances=(
                VenueBalance(
                    currency=account.currency,
                    total=account.balance,
                    available=account.margin_available
                    if account.margin_available is not None
                    else account.balance,
                ),
            ),
            positions=tuple(held),
            open_orders=tuple(open_orders),
            ts=0,
        )

    def _state_or_skip(self, order: Order, **kwargs: Any) -> VenueOrderState | None:
        try:
            return translate.order_state(order, self.symbol_of, **kwargs)
        except ValueError as exc:
            self._skip(str(exc), order_id=order.id)
            return None

    # --- orders -------------------------------------------------------------------------

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        """Create the order under its client order ID (``clientExtensions.id``).

        A market order is not sent while the latest price read of its instrument says
        it is not tradeable (DEFINITIVE, code ``MARKET_HALTED``): OANDA would cancel it.
        """
        name = self.instrument_name(order.instrument_id)
        refusal = self.tradeability.refusal(name)
        if refusal is not None and order.order_type is OrderType.MARKET:
            raise self._definitive(f"{order.client_order_id}: {refusal}", MARKET_HALTED)
        try:
            request = translate.order_request(order, name, tag=self.config.tag)
        except translate.UnsupportedOrder as exc:
            raise self._definitive(str(exc)) from exc
        result = await self._write(self.client.create_order(request))
        created = result.order_create_transaction
        if created is None:
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME,
                self.venue_id,
                f"201 without orderCreateTransaction for {order.client_order_id}",
                code="MALFORMED_RESPONSE",
            )
        state = VenueOrderState(
            client_order_id=order.client_order_id,
            venue_order_id=VenueOrderId(created.id),
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            status=OrderStatus.ACCEPTED,
            quantity=order.quantity,
            filled_quantity=ZERO,
            price=order.price,
            trigger_price=order.trigger_price,
            ts=_time_or_zero(created.time),
        )
        return self._settle(state, result.order_fill_transaction, result.order_cancel_transaction)

    def _settle(
        self,
        state: VenueOrderState,
        fill: Transaction | None,
        cancel: Transaction | None,
    ) -> VenueOrderState:
        changes: dict[str, Any] = {}
        if fill is not None:
            changes.update(
                status=OrderStatus.FILLED,
                filled_quantity=abs(fill.units or state.quantity),
                average_price=translate.fill_price(fill),
            )
        if cancel is not None:
            # An IOC filled in part: the rest was cancelled. Report the partial fill
            # with the cancel (a FILLED status would leave the order open).
            status, reason = self._cancel_outcome(
                state, cancel.reason, changes.get("filled_quantity", ZERO)
            )
            changes.update(status=status, reason=reason)
        result = _replace(state, **changes)
        self._remember(result)
        return result

    def _cancel_outcome(
        self, state: VenueOrderState, reason: str | None, filled: Decimal
    ) -> tuple[OrderStatus, str | None]:
        name = self.instrument_name(state.instrument_id)
        return translate.cancel_outcome(reason, state.order_type, filled, name)

    async def cancel_order(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId
    ) -> VenueOrderState:
        """Cancel a pending order; DEFINITIVE when OANDA has no such pending order.

        The order's state comes from the cancel transaction and what the adapter knows of
        the order (a pending OANDA order has no fills); only an order it does not know
        is read back.
        """
        specifier = order_specifier(client_order_id=client_order_id)
        result = await self._write(self.client.cancel_order(specifier))
        cancel = result.order_cancel_transaction
        known = None
        if cancel is not None and cancel.order_id is not None:
            known = self._orders.get(VenueOrderId(cancel.order_id))
        if cancel is not None and known is not None and known.client_order_id == client_order_id:
            cancelled = _replace(
                known,
                status=translate.cancel_status(cancel.reason),
                reason=cancel.reason,
                ts=_time_or_zero(cancel.time) or known.ts,
            )
            self._remember(cancelled)
            return cancelled
        try:
            state = await self.query_order(instrument_id, client_order_id=client_order_id)
        except VenueError:
            state = None
        if state is None:
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME,
                self.venue_id,
                f"{client_order_id}: cancel answered, but its state could not be read back",
                code="NO_READBACK",
            )
        return state

    async def modify_order(
        self,
        client_order_id: ClientOrderId,
        instrument_id: InstrumentId,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> VenueOrderState:
        """Replace a pending order (OANDA cancels it and creates one with the same client ID)."""
        specifier = order_specifier(client_order_id=client_order_id)
        current = await self._read(self.client.get_order(specifier))
        if current.order.state != "PENDING":
            raise self._definitive(
                f"{client_order_id} is {current.order.state}, not PENDING", "ORDER_NOT_PENDING"
            )
        try:
            request = translate.replacement_request(
                current.order, quantity=quantity, price=price, trigger_price=trigger_price
            )
        except translate.UnsupportedOrder as exc:
            raise self._definitive(str(exc)) from exc
        result = await self._write(self.client.replace_order(specifier, request))
        created = result.order_create_transaction
        if created is None:
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME,
                self.venue_id,
                f"replace of {client_order_id} answered without orderCreateTransaction",
                code="MALFORMED_RESPONSE",
            )
        state = translate.created_state(created, self.symbol_of)
        state = _replace(state, client_order_id=client_order_id)
        return self._settle(state, result.order_fill_transaction, None)

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None:
        """Return the order (``@<client ID>`` or OANDA ID), or None on 404."""
        specifier = order_specifier(client_order_id=client_order_id, order_id=venue_order_id)
        return await self._fetch_state(specifier)

    async def _fetch_state(self, specifier: str) -> VenueOrderState | None:
        try:
            found = await self.client.get_order(specifier)
        except OandaClientError as exc:
            error = translate.venue_error(exc, self.venue_id, write=False, missing_ok=True)
            if error is None:
                return None
            raise error from exc
        order = found.order
        fill = cancel = None
        # An IOC filled in part has both: the fill, then the cancel of the rest.
        related = [r for r in (order.filling_transaction_id, order.cancelling_transaction_id) if r]
        if related:
            first, last = min(related, key=_number), max(related, key=_number)
            txs = await self._read(self.client.transactions_range(first, last))
            for tx in txs.valid:
                if tx.type == "ORDER_FILL" and tx.id == order.filling_transaction_id:
                    fill = tx
                elif tx.type == "ORDER_CANCEL" and tx.id == order.cancelling_transaction_id:
                    cancel = tx
        try:
            state = translate.order_state(order, self.symbol_of, fill=fill, cancel=cancel)
        except ValueError as exc:
            raise VenueError(
                VenueErrorKind.TRANSIENT, self.venue_id, str(exc), code="MALFORMED_RESPONSE"
            ) from exc
        if state is None:
            return None
        self._remember(state)
        return state

    # --- fills --------------------------------------------------------------------------

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        """Return ORDER_FILL transactions at or after ``ts_ns`` (time query, then idrange)."""
        pages = await self._read(
            self.client.transaction_pages(
                from_time=format_time(max(ts_ns, 0)), types=("ORDER_FILL",), page_size=_PAGE_SIZE
            )
        )
        fills: list[VenueFill] = []
        for url in pages.pages:
            try:
                first, last = page_range(url)
            except ValueError as exc:
                self._skip(str(exc))
                continue
            page = await self._read(
                self.client.transactions_range(first, last, types=("ORDER_FILL",))
            )
            for tx in page.transactions:
                if isinstance(tx, MalformedLine):
                    self._skip(f"fill poll: {tx.error}", transaction_id=tx.transaction_id)
                    continue
                fill = self._fill_or_skip(tx)
                if fill is None or fill.ts < ts_ns:
                    continue
                if instrument_id is None or fill.instrument_id == instrument_id:
                    fills.append(fill)
        return fills

    def _fill_or_skip(self, tx: Transaction) -> VenueFill | None:
        if tx.type != "ORDER_FILL":
            return None
        try:
            fill = translate.venue_fill(tx, self.symbol_of, self.home_currency)
        except ValueError as exc:
            self._skip(str(exc), transaction_id=tx.id)
            return None
        known = self._orders.get(fill.venue_order_id)
        if known is not None and known.side is not fill.side:
            self._skip(
                f"fill {tx.id} is a {fill.side.value} (units {tx.units}) but order "
                f"{fill.venue_order_id} is a {known.side.value}",
                transaction_id=tx.id,
            )
            return None
        return fill

    # --- market data --------------------------------------------------------------------

    async def quote(self, instrument_id: InstrumentId) -> QuoteTick:
        """Return the current best bid and ask from ``pricing``."""
        name = self.instrument_name(instrument_id)
        pricing = await self._read(self.client.pricing([name]))
        for price in pricing.prices:
            if price.instrument == name:
                self.tradeability.note(price)
                tick = self._quote_tick(price)
                if tick is not None:
                    return tick
        raise VenueError(VenueErrorKind.TRANSIENT, self.venue_id, f"no price for {name}")

    def _quote_tick(self, price: ClientPrice) -> QuoteTick | None:
        if not price.bids or not price.asks:
            return None
        best_bid = max(price.bids, key=lambda b: b.price)
        best_ask = min(price.asks, key=lambda a: a.price)
        return QuoteTick(
            self.symbol_of(price.instrument),
            best_bid.price,
            best_ask.price,
            Decimal(best_bid.liquidity or 0),
            Decimal(best_ask.liquidity or 0),
            parse_time_ns(price.time),
            indicative=not is_tradeable(price),
        )

    async def bars(
        self, instrument_id: InstrumentId, interval_s: int, start_ns: int, end_ns: int
    ) -> list[TradeBar]:
        """Return complete mid-price candles in ``[start_ns, end_ns)``; volume = tick count."""
        granularity = translate.GRANULARITIES.get(interval_s)
        if granularity is None:
            raise self._definitive(
                f"OANDA has no {interval_s}s candles; choose one of "
                f"{sorted(translate.GRANULARITIES)}"
            )
        name = self.instrument_name(instrument_id)
        interval_ns = interval_s * 1_000_000_000
        bars: list[TradeBar] = []
        chunk_start = start_ns
        while chunk_start < end_ns:
            chunk_end = min(end_ns, chunk_start + interval_ns * _MAX_CANDLES)
            result = await self._read(
                self.client.candles(
                    name,
                    granularity,
                    from_time=format_time(chunk_start),
                    to_time=format_time(chunk_end),
                )
            )
            for candle in result.candles:
                ts = parse_time_ns(candle.time)
                if not candle.complete or candle.mid is None or not start_ns <= ts < end_ns:
                    continue
                mid = candle.mid
                bars.append(
                    TradeBar(
                        instrument_id,
                        mid.o,
                        mid.h,
                        mid.l,
                        mid.c,
                        Decimal(candle.volume),
                        ts,
                        interval_ns,
                    )
                )
            chunk_start = chunk_end
        return bars

    # --- streams ------------------------------------------------------------------------

    def _spawn(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = asyncio.create_task(self._forever(name, body), name=f"oanda-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forever(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        delay = self.config.reconnect_initial_s
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await body()
                log.info("oanda_stream_ended", stream=name)
            except asyncio.CancelledError:
                raise
            except (OandaClientError, VenueError) as exc:
                log.warning("oanda_stream_failed", stream=name, error=str(exc))
            except Exception:  # a bug in a handler must not end the stream for good
                log.exception("oanda_stream_crashed", stream=name)
            if asyncio.get_running_loop().time() - started > 2 * delay:
                delay = self.config.reconnect_initial_s
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max_s)

    async def subscribe_quotes(
        self, instruments: list[InstrumentId], handler: QuoteHandler
    ) -> None:
        """Stream prices into ``handler`` until disconnect, reconnecting with backoff.

        A price that says its instrument is not tradeable is published all the same (an
        indicative mark) and noted in ``tradeability``. What the stream said is dropped
        when it ends: the snapshot after the reconnect says it again.
        """
        names = [self.instrument_name(i) for i in instruments]

        async def run() -> None:
            try:
                async for message in self.client.stream_pricing(names):
                    if isinstance(message, MalformedLine):
                        self._skip(f"pricing stream: {message.error}", line=message.raw[:200])
                    elif isinstance(message, ClientPrice):
                        self.tradeability.note(message)
                        try:
                            tick = self._quote_tick(message)
                        except ValueError as exc:
                            self._skip(f"pricing stream: {exc}")
                            continue
                        if tick is not None:
                            await handler(tick)
            finally:
                self.tradeability.forget(names)

        self._spawn("pricing", run)

    async def subscribe_order_updates(self, handler: OrderUpdateHandler) -> None:
        """Stream order updates and fills; after each (re)connect, poll the gap."""

        async def run() -> None:
            async for message in self.client.stream_transactions():
                if isinstance(message, StreamOpened):
                    # The stream is live: poll what happened while it was not.
                    await self._catch_up(handler)
                elif self._gap_before(message):
                    await self._catch_up(handler)  # delivers ``message`` too
                    if self._after_delivered(message):
                        self._skip(f"transaction {_id_of(message)} is not in the account history")
                else:
                    await self._on_stream_message(message, handler)

        self._spawn("transactions", run)

    async def _catch_up(self, handler: OrderUpdateHandler) -> None:
        since = str(self._delivered_id)
        result = await self._read(self.client.transactions_since(since))
        for tx in result.transactions:
            await self._deliver(tx, handler)

    def _after_delivered(self, message: object) -> bool:
        number = _id_of(message)
        return number is not None and number > self._delivered_id

    def _gap_before(self, message: object) -> bool:
        if isinstance(message, TransactionHeartbeat):
            last = message.last_transaction_id
            return last is not None and last.isdigit() and int(last) > self._delivered_id
        number = _id_of(message)
        return number is not None and number > self._delivered_id + 1

    async def _on_stream_message(self, message: object, handler: OrderUpdateHandler) -> None:
        if isinstance(message, Transaction | MalformedLine):
            await self._deliver(message, handler)

    async def _deliver(self, tx: Transaction | MalformedLine, handler: OrderUpdateHandler) -> None:
        number = _id_of(tx)
        if number is None:
            if isinstance(tx, MalformedLine):
                self._skip(f"transaction stream: {tx.error}", line=tx.raw[:200])
            else:
                self._skip(f"transaction ID {tx.id!r} is not a number")
            return
        if number <= self._delivered_id:
            return  # seen already (stream and catch-up overlap)
        if isinstance(tx, MalformedLine):
            self._skip(f"transaction {number}: {tx.error}", line=tx.raw[:200])
        else:
            update = await self._update_from(tx)
            if update is not None:
                await handler(update)
        # Marked after the handler ran: a handler failure redelivers (fills are idempotent).
        self._delivered_id = number
        self.last_transaction_id = str(number)

    async def _update_from(self, tx: Transaction) -> VenueOrderState | VenueFill | None:
        if tx.type == "ORDER_FILL":
            fill = self._fill_or_skip(tx)
            known = self._orders.get(fill.venue_order_id) if fill is not None else None
            if fill is not None and known is not None:
                # A partial IOC fill may follow its cancel here (place_order saw both).
                closed = known.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
                self._remember(
                    _replace(
                        known,
                        status=known.status if closed else OrderStatus.FILLED,
                        filled_quantity=fill.quantity,
                        average_price=fill.price,
                    )
                )
            return fill
        if tx.type in translate.ORDER_CREATE_TYPES or tx.type in translate.ORDER_REJECT_TYPES:
            if tx.type in translate.ORDER_REJECT_TYPES and (
                tx.intended_replaces_order_id or tx.reason == "REPLACEMENT"
            ):
                # A refused replace: the order it was to replace still works (the
                # replace call reported the refusal); it carries our client ID all the same.
                return None
            try:
                state = translate.created_state(tx, self.symbol_of)
            except ValueError as exc:
                self._skip(str(exc), transaction_id=tx.id)
                return None
            if state.venue_order_id:
                self._remember(state)
            return state
        if tx.type == "ORDER_CANCEL" and tx.order_id is not None:
            if tx.replaced_by_order_id:
                return None  # a replace: the replacing order's create follows
            known = self._orders.get(VenueOrderId(tx.order_id))
            if known is None:
                return await self._fetch_state(order_specifier(order_id=tx.order_id))
            status, reason = self._cancel_outcome(known, tx.reason, known.filled_quantity)
            cancelled = _replace(known, status=status, reason=reason)
            self._remember(cancelled)
            return cancelled
        return None


def _id_of(message: object) -> int | None:
    """Return the transaction ID of a stream or listed item, or None if it has none."""
    if isinstance(message, Transaction):
        text: str | None = message.id
    elif isinstance(message, MalformedLine):
        text = message.transaction_id
    else:
        return None
    return int(text) if text is not None and text.isdigit() else None


def _number(transaction_id: str) -> int:
    """Return a transaction ID's number for ordering (a non-number sorts first)."""
    return int(transaction_id) if transaction_id.isdigit() else 0


def _time_or_zero(text: str) -> int:
    """Return an OANDA DateTime in ns, or 0 (unknown: the receive time is used) if malformed."""
    try:
        return parse_time_ns(text)
    except ValueError:
        return 0


def _replace(state: VenueOrderState, **changes: Any) -> VenueOrderState:
    return dataclasses.replace(state, **changes)


__all__ = ["OANDA_CAPABILITIES", "OANDA_RATE_LIMIT", "ON_FILL_DETAILS", "OandaAdapter"]
