"""The Alpaca adapter: US stocks and ETFs through the official ``alpaca-py`` SDK.

Orders, account and positions go through ``TradingClient``; quotes and bars through
``StockHistoricalDataClient``; order updates through the trade_updates WebSocket
(``TradingStream``) and quotes through the market data WebSocket (``StockDataStream``).
Every SDK client is pointed at the configured URLs with its ``url_override`` argument.

Alpaca replaces an order (PATCH) by creating a new order with a new ID. The adapter
gives each replacement a derived client order ID (``<id>~r<n>``, because Alpaca never
accepts a client order ID twice) and reports the whole chain under the engine's
original client order ID: fills and quantities add up across the chain, and the status
is that of the newest link.

Given a rate limiter, every REST request of the adapter waits on it, including the
polls it makes by itself after a stream reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import structlog
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import ReplaceOrderRequest

from alphintra.domain.enums import OrderType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, VenueOrderId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.domain.values import ZERO, Currency
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
from alphintra.venues.alpaca.capabilities import ALPACA_CAPABILITIES, ALPACA_RATE_LIMIT
from alphintra.venues.alpaca.client import ORDERS_PAGE_LIMIT, AlpacaRestClient, RequestBudget
from alphintra.venues.alpaca.config import AlpacaConfig
from alphintra.venues.alpaca.parsing import (
    MalformedPayload,
    as_list,
    as_mapping,
    datetime_of,
    decimal_field,
    format_timestamp,
    optional_decimal,
    optional_text,
    text,
)
from alphintra.venues.alpaca.streams import QuoteStream, TradeUpdatesStream
from alphintra.venues.alpaca.translation import (
    AlpacaOrder,
    UnsupportedRequest,
    exact_float,
    order_request,
    order_state,
    quote_tick,
    read_activity,
    read_order,
    read_orders,
    read_trade_update,
    replacement_client_order_id,
    root_client_order_id,
    symbol_quotes,
    timeframe,
    trade_bar,
    venue_fill,
)
from alphintra.venues.capabilities import VenueCapabilities

log = structlog.get_logger("alphintra.venues.alpaca")

_MAX_FILL_PAGES = 1_000
_MAX_ORDER_PAGES = 100
_RESYNC_MARGIN_NS = 60 * 1_000_000_000
_RESYNC_OVERLAP_NS = 1_000_000_000
_CLOSED_STATUSES = frozenset({"filled", "canceled", "expired", "rejected"})
_RESYNC_ATTEMPTS = 4
_T = TypeVar("_T")


class AlpacaAdapter:
    """A ``VenueAdapter`` for one Alpaca account."""

    capabilities: VenueCapabilities = ALPACA_CAPABILITIES
    rate_limit: RateLimit | None = ALPACA_RATE_LIMIT

    def __init__(
        self,
        config: AlpacaConfig,
        instruments: Iterable[Instrument] = (),
        *,
        limiter: RequestBudget | None = None,
    ) -> None:
        self.config = config
        self.venue_id = config.venue_id
        self.client = AlpacaRestClient(config, limiter)
        self._symbols: dict[InstrumentId, str] = {i.id: i.venue_symbol for i in instruments}
        self._instruments: dict[str, InstrumentId] = {s: i for i, s in self._symbols.items()}
        self._roots: dict[str, ClientOrderId] = {}
        """Alpaca order ID -> the engine's client order ID (across replacements)."""
        self._working: dict[ClientOrderId, InstrumentId] = {}
        """Orders last seen open: polled after a stream reconnect."""
        self._order_handlers: list[OrderUpdateHandler] = []
        self._trade_stream: TradeUpdatesStream | None = None
        self._quote_stream: QuoteStream | None = None
        self._last_event_ts = 0
        """The venue time of the newest trade update received."""
        self._resync_from = 0
        """Fills from this venue time on are polled after the next reconnect."""
        self._resyncs: set[asyncio.Task[None]] = set()
        self.resyncs = 0
        """How many post-reconnect polls completed their fill poll."""
        self.stream_errors: list[str] = []
        """Stream messages that could not be read (kept for diagnosis; never raised)."""

    @property
    def _backoff(self) -> tuple[float, float]:
        return (self.config.stream_min_backoff_s, self.config.stream_max_backoff_s)

    # Symbols ------------------------------------------------------------------------

    def _symbol(self, instrument_id: InstrumentId) -> str:
        return self._symbols.get(instrument_id, str(instrument_id))

    def _instrument(self, symbol: str) -> InstrumentId:
        return self._instruments.get(symbol, InstrumentId(symbol))

    # Connection ---------------------------------------------------------------------

    async def connect(self) -> None:
        """Check the credentials with a read of the account (401/403 are DEFINITIVE)."""
        as_mapping(await self.client.account(), "account")

    async def disconnect(self) -> None:
        """Stop both streams and close the HTTP sessions."""
        trade_stream, self._trade_stream = self._trade_stream, None
        quote_stream, self._quote_stream = self._quote_stream, None
        resyncs = list(self._resyncs)
        for task in resyncs:
            task.cancel()
        await asyncio.gather(*resyncs, return_exceptions=True)
        if trade_stream is not None:
            await trade_stream.stop()
        if quote_stream is not None:
            await quote_stream.stop()
        self._order_handlers.clear()
        self.client.close()

    # Reading ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self, write: bool, what: str) -> Iterator[None]:
        """Turn an unreadable answer into a VenueError (UNKNOWN_OUTCOME after a write)."""
        try:
            yield
        except (MalformedPayload, UnsupportedRequest) as exc:
            kind = VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT
            raise VenueError(
                kind, self.venue_id, f"{what}: malformed response: {exc}", code="MALFORMED_RESPONSE"
            ) from exc

    def _definitive(self, message: str, code: str = "REFUSED") -> VenueError:
        return VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, message, code=code)

    def _remember(self, chain: list[AlpacaOrder], root: ClientOrderId) -> None:
        for link in chain:
            self._roots[link.id] = root
        if chain[-1].status in _CLOSED_STATUSES:
            self._working.pop(root, None)
        else:
            self._working[root] = self._instrument(chain[-1].symbol)

    async def _follow(self, first: AlpacaOrder) -> list[AlpacaOrder]:
        """Return ``first`` and every replacement after it, oldest first."""
        chain = [first]
        while chain[-1].status == "replaced" and chain[-1].replaced_by:
            if len(chain) > self.config.max_replace_chain:
                raise VenueError(
                    VenueErrorKind.TRANSIENT,
                    self.venue_id,
                    f"order {first.client_order_id} was replaced more than "
                    f"{self.config.max_replace_chain} times",
                )
            raw = await self.client.order_by_id(chain[-1].replaced_by)
            if raw is None:
                break  # the replacement is not visible yet; the replaced link still stands
            with self._reading(False, "get replacement order"):
                chain.append(read_order(raw))
        return chain

    async def _chain(self, client_order_id: ClientOrderId) -> list[AlpacaOrder] | None:
        raw = await self.client.order_by_client_id(str(client_order_id))
        if raw is None:
            return None
        with self._reading(False, f"get order {client_order_id}"):
            first = read_order(raw)
        chain = await self._follow(first)
        self._remember(chain, client_order_id)
        return chain

    async def _state(self, client_order_id: ClientOrderId) -> VenueOrderState | None:
        chain = await self._chain(client_order_id)
        if chain is None:
            return None
        with self._reading(False, f"get order {client_order_id}"):
            return order_state(chain, client_order_id, self._instrument(chain[-1].symbol))

    # Account ------------------------------------------------------------------------

    async def account(self) -> AccountSnapshot:
        """Return cash, positions and open orders."""
        raw_account, raw_positions, orders = await asyncio.gather(
            self.client.account(), self.client.positions(), self._open_orders()
        )
        with self._reading(False, "get account"):
            account = as_mapping(raw_account, "account")
            cash = decimal_field(account, "cash")
            available = optional_decimal(account, "non_marginable_buying_power")
            balance = VenueBalance(
                Currency(optional_text(account, "currency") or "USD"),
                total=cash,
                available=available if available is not None else cash,
            )
            positions = tuple(self._position(p) for p in as_list(raw_positions, "positions"))
        open_orders: list[VenueOrderState] = []
        for order in orders:
            root = root_client_order_id(order.client_order_id)
            if order.replaces is None and root == order.client_order_id:
                chain = [order]
                self._remember(chain, root)
                with self._reading(False, "list open orders"):
                    state = order_state(chain, root, self._instrument(order.symbol))
                open_orders.append(state)
            else:
                replaced = await self._state(root)
                if replaced is not None:
                    open_orders.append(replaced)
        return AccountSnapshot(
            balances=(balance,), positions=positions, open_orders=tuple(open_orders)
        )

    async def _open_orders(self) -> list[AlpacaOrder]:
        """Return every open order, oldest first, a page of at most 500 at a time."""
        orders: dict[str, AlpacaOrder] = {}
        after: datetime | None = None
        for _ in range(_MAX_ORDER_PAGES):
            raw = await self.client.orders(QueryOrderStatus.OPEN, after)
            with self._reading(False, "list open orders"):
                items = as_list(raw, "open orders")
                page = read_orders([item for item in items if not _unsized(item)])
            fresh = [order for order in page if order.id not in orders]
            orders.update((order.id, order) for order in page)
            if len(items) < ORDERS_PAGE_LIMIT or not fresh:
                return list(orders.values())
            # ``after`` is exclusive: start a microsecond before the page's last order,
            # so that orders created within that same microsecond are not skipped.
            after = datetime_of(page[-1].created_ns - 1_000)
        raise VenueError(
            VenueErrorKind.TRANSIENT,
            self.venue_id,
            f"more than {_MAX_ORDER_PAGES} pages of open orders",
        )

    def _position(self, raw: object) -> VenuePosition:
        position = as_mapping(raw, "position")
        quantity = abs(decimal_field(position, "qty"))
        side = optional_text(position, "side") or "long"
        if side not in ("long", "short"):
            raise MalformedPayload(f"unknown position side {side!r}")
        return VenuePosition(
            self._instrument(text(position, "symbol")),
            -quantity if side == "short" else quantity,
            optional_decimal(position, "avg_entry_price", non_negative=True),
        )

    # Orders -------------------------------------------------------------------------

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        """POST the order under its client order ID; a reused ID is refused (DEFINITIVE)."""
        try:
            request = order_request(
                order, self._symbol(order.instrument_id), extended_hours=self.config.extended_hours
            )
        except UnsupportedRequest as exc:
            raise self._definitive(f"order {order.client_order_id}: {exc}", "UNSUPPORTED") from exc
        raw = await self.client.submit(request)
        with self._reading(True, f"submit order {order.client_order_id}"):
            placed = read_order(raw)
            if placed.client_order_id != order.client_order_id:
                raise MalformedPayload(
                    f"Alpaca answered with client order ID {placed.client_order_id!r}"
                )
            state = order_state([placed], order.client_order_id, order.instrument_id)
        self._remember([placed], order.client_order_id)
        return state

    async def cancel_order(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId
    ) -> VenueOrderState:
        """DELETE the order's newest link; refused (DEFINITIVE) when it is not open."""
        chain = await self._chain(client_order_id)
        if chain is None:
            raise self._definitive(f"cancel {client_order_id}: Alpaca has no such order", "404")
        await self.client.cancel(chain[-1].id)
        try:
            state = await self._state(client_order_id)
        except VenueError as exc:
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME,
                self.venue_id,
                f"cancel {client_order_id} was sent; reading it back failed: {exc.message}",
                code=exc.code,
            ) from exc
        if state is None:
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME,
                self.venue_id,
                f"cancel {client_order_id} was sent; the order is no longer found",
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
        """Replace the order (PATCH); ``quantity`` is the new total including fills."""
        chain = await self._chain(client_order_id)
        if chain is None:
            raise self._definitive(f"modify {client_order_id}: Alpaca has no such order", "404")
        current = chain[-1]
        try:
            request = self._replace_request(chain, client_order_id, quantity, price, trigger_price)
        except UnsupportedRequest as exc:
            raise self._definitive(f"modify {client_order_id}: {exc}", "UNSUPPORTED") from exc
        raw = await self.client.replace(current.id, request)
        with self._reading(True, f"replace order {client_order_id}"):
            replacement = read_order(raw)
            chain = [*chain, replacement]
            state = order_state(chain, client_order_id, self._instrument(replacement.symbol))
        self._remember(chain, client_order_id)
        return state

    def _replace_request(
        self,
        chain: list[AlpacaOrder],
        client_order_id: ClientOrderId,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> ReplaceOrderRequest:
        current = chain[-1]
        filled = sum((link.filled_quantity for link in chain), ZERO)
        total = (
            quantity
            if quantity is not None
            else filled - current.filled_quantity + (current.quantity)
        )
        remaining = total - filled
        if remaining <= 0:
            raise UnsupportedRequest(f"new quantity {total} is not above the filled {filled}")
        if remaining != remaining.to_integral_value():
            raise UnsupportedRequest(
                f"Alpaca replaces whole share quantities only; remaining {remaining}"
            )
        kind = current.order_type
        if price is not None and kind not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise UnsupportedRequest(f"a {kind.value} order has no limit price to change")
        if trigger_price is not None and kind not in (OrderType.STOP, OrderType.STOP_LIMIT):
            raise UnsupportedRequest(f"a {kind.value} order has no stop price to change")
        return ReplaceOrderRequest(
            qty=int(remaining),
            limit_price=exact_float(price, "limit price") if price is not None else None,
            stop_price=exact_float(trigger_price, "stop price")
            if trigger_price is not None
            else None,
            client_order_id=replacement_client_order_id(client_order_id, len(chain)),
        )

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None:
        """Return the order (followed across replacements), or None when Alpaca has none."""
        if client_order_id is not None:
            return await self._state(client_order_id)
        if venue_order_id is None:
            raise ValueError("query_order needs a client_order_id or a venue_order_id")
        raw = await self.client.order_by_id(str(venue_order_id))
        if raw is None:
            return None
        with self._reading(False, f"get order id {venue_order_id}"):
            order = read_order(raw)
        return await self._state(root_client_order_id(order.client_order_id))

    # Fills --------------------------------------------------------------------------

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        """Return executions at or after ``ts_ns`` from the FILL account activities."""
        after = format_timestamp(ts_ns - 1) if ts_ns > 0 else None  # Alpaca's after is exclusive
        page_token: str | None = None
        fills: list[VenueFill] = []
        for _ in range(_MAX_FILL_PAGES):
            raw = await self.client.fill_activities(after, page_token)
            with self._reading(False, "get fill activities"):
                page = as_list(raw, "fill activities")
                executions = [read_activity(item) for item in page]
                ids = [text(as_mapping(item, "activity"), "id") for item in page]
            for execution in executions:
                if execution.ts < ts_ns:
                    continue
                iid = self._instrument(execution.symbol)
                if instrument_id is not None and iid != instrument_id:
                    continue
                root = await self._root_of(execution.order_id)
                fills.append(venue_fill(execution, root, iid))
            if len(page) < self.config.fills_page_size:
                return fills
            page_token = ids[-1]
        raise VenueError(
            VenueErrorKind.TRANSIENT, self.venue_id, f"more than {_MAX_FILL_PAGES} pages of fills"
        )

    async def _root_of(self, order_id: str) -> ClientOrderId | None:
        root = self._roots.get(order_id)
        if root is None:
            raw = await self.client.order_by_id(order_id)
            if raw is None:
                return None
            with self._reading(False, f"get order id {order_id}"):
                root = root_client_order_id(read_order(raw).client_order_id)
            self._roots[order_id] = root
        return root

    # Market data --------------------------------------------------------------------

    async def quote(self, instrument_id: InstrumentId) -> QuoteTick:
        """Return the latest quote of the configured feed."""
        symbol = self._symbol(instrument_id)
        raw = await self.client.latest_quote(symbol)
        with self._reading(False, f"latest quote {symbol}"):
            tick = quote_tick(symbol_quotes(raw, symbol), instrument_id)
        if _one_sided(tick):
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self.venue_id,
                f"latest quote {symbol}: one-sided (bid {tick.bid}, ask {tick.ask})",
                code="ONE_SIDED",
            )
        return tick

    async def bars(
        self, instrument_id: InstrumentId, interval_s: int, start_ns: int, end_ns: int
    ) -> list[TradeBar]:
        """Return trade bars in ``[start_ns, end_ns]`` (Alpaca timeframes only)."""
        try:
            frame = timeframe(interval_s)
        except UnsupportedRequest as exc:
            raise self._definitive(str(exc), "UNSUPPORTED") from exc
        symbol = self._symbol(instrument_id)
        raw = await self.client.bars(symbol, frame, datetime_of(start_ns), datetime_of(end_ns))
        with self._reading(False, f"bars {symbol}"):
            by_symbol = as_mapping(raw, "bars")
            rows = as_list(by_symbol.get(symbol, []), f"bars of {symbol}")
            return [trade_bar(row, instrument_id, interval_s * 1_000_000_000) for row in rows]

    # Streams ------------------------------------------------------------------------

    async def subscribe_quotes(
        self, instruments: list[InstrumentId], handler: QuoteHandler
    ) -> None:
        """Stream quotes from Alpaca's market data WebSocket until disconnect."""

        async def deliver(message: dict[str, Any]) -> None:
            try:
                raw_ts: Any = message.get("t")
                ts = raw_ts.to_unix_nano() if hasattr(raw_ts, "to_unix_nano") else None
                fields = {**message, "t": format_timestamp(ts)} if ts is not None else message
                tick = quote_tick(fields, self._instrument(str(message.get("S"))))
            except MalformedPayload as exc:
                self._stream_error(f"quote: {exc}")
                return
            if _one_sided(tick):
                return  # no price on a side: not a quote to mark or trade on
            await handler(tick)

        if self._quote_stream is None:
            self._quote_stream = QuoteStream(
                self.config.api_key,
                self.config.secret_key,
                self.config.resolved_data_stream_url,
                self.config.data_feed,
                self._backoff,
            )
        await self._quote_stream.add_quotes(deliver, [self._symbol(i) for i in instruments])
        self._quote_stream.start()

    async def subscribe_order_updates(self, handler: OrderUpdateHandler) -> None:
        """Stream order updates and fills from trade_updates until disconnect.

        Returns once Alpaca confirms the subscription (or after the connect timeout;
        the SDK keeps reconnecting in the background). After every reconnect the
        adapter polls the orders it saw open and the fills since the last event.
        """
        self._order_handlers.append(handler)
        if self._trade_stream is None:
            self._trade_stream = TradeUpdatesStream(
                self.config.api_key,
                self.config.secret_key,
                self.config.resolved_stream_url,
                self._on_trade_message,
                self._on_listening,
                self._backoff,
            )
            self._trade_stream.start()
        try:
            await asyncio.wait_for(
                self._trade_stream.listening.wait(), self.config.connect_timeout_s
            )
        except TimeoutError:
            log.warning("alpaca_trade_updates_not_listening", url=self.config.resolved_stream_url)

    def _stream_error(self, message: str) -> None:
        self.stream_errors.append(message)
        log.error("alpaca_stream_message_unreadable", error=message)

    async def _emit(self, update: VenueOrderState | VenueFill) -> None:
        for handler in list(self._order_handlers):
            try:
                await handler(update)
            except Exception as exc:  # one failing handler must not stop the stream
                log.exception("alpaca_order_handler_failed", error=str(exc))

    async def _on_trade_message(self, message: dict[str, Any]) -> None:
        try:
            update = read_trade_update(message.get("data"))
        except MalformedPayload as exc:
            self._stream_error(f"trade update: {exc}")
            return
        self._last_event_ts = max(self._last_event_ts, update.ts)
        order = update.order
        root = self._roots.get(order.id) or root_client_order_id(order.client_order_id)
        self._roots[order.id] = root
        iid = self._instrument(order.symbol)
        if update.execution is not None:
            await self._emit(venue_fill(update.execution, root, iid))
            if order.status not in _CLOSED_STATUSES:
                return
        if update.event == "replaced" and order.status == "replaced":
            return  # the replaced order; the replacement's own event carries it forward
        try:
            if order.replaces is None and root == order.client_order_id:
                chain = [order]
                self._remember(chain, root)
                state: VenueOrderState | None = order_state(chain, root, iid)
            else:
                state = await self._state(root)
        except (VenueError, MalformedPayload) as exc:
            self._stream_error(f"trade update for {root}: {exc}")
            return
        if state is not None:
            await self._emit(state)

    async def _on_listening(self, connection: int) -> None:
        if connection == 1 and self._last_event_ts == 0:
            # Nothing seen yet: a gap before the first event is polled from a minute
            # before the stream first listened (a margin for clock differences).
            self._last_event_ts = time.time_ns() - _RESYNC_MARGIN_NS
        mark = self._last_event_ts
        if connection == 1:
            self._resync_from = mark
            return
        task = asyncio.get_running_loop().create_task(
            self._resync(self._resync_from, mark), name="alpaca-resync"
        )
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def _resync(self, since: int, mark: int) -> None:
        """Poll what the stream may have missed, after a reconnect.

        Trade updates carry no sequence numbers, so a message lost while connected goes
        unnoticed: the fills are polled from the newest event seen when the previous
        connection began (``since``), not only over the gap. Orders last seen open
        that Alpaca no longer lists as open are queried one by one. When the fill poll
        fails, the next reconnect polls from ``since`` again.
        """
        try:
            fills = await self._patiently(
                lambda: self.fills_since(max(0, since - _RESYNC_OVERLAP_NS))
            )
        except VenueError as exc:
            log.warning("alpaca_resync_failed", error=str(exc))
            return
        for fill in fills:
            await self._emit(fill)
        self._resync_from = max(self._resync_from, mark)
        self.resyncs += 1
        try:
            open_orders = await self._patiently(self._open_orders)
        except VenueError as exc:
            log.warning("alpaca_resync_failed", error=str(exc))
            return
        listed: set[ClientOrderId] = set()
        for order in open_orders:
            root = root_client_order_id(order.client_order_id)
            listed.add(root)
            if root in self._working or order.replaces is not None:
                continue
            # Open, but never seen (its "new" message was lost, or its submission's
            # answer was): tracked from now on.
            self._remember([order], root)
            try:
                state = order_state([order], root, self._instrument(order.symbol))
            except MalformedPayload as exc:
                self._stream_error(f"open order {root}: {exc}")
                continue
            await self._emit(state)
        for root in [r for r in self._working if r not in listed]:
            try:
                closed = await self._patiently(partial(self._state, root))
            except VenueError as exc:
                log.warning("alpaca_resync_order_failed", order=root, error=str(exc))
                continue
            if closed is None:
                self._working.pop(root, None)
            else:
                await self._emit(closed)

    async def _patiently(self, read: Callable[[], Awaitable[_T]]) -> _T:
        """Run a read, again after a short pause when it fails TRANSIENT (a few times)."""
        for attempt in range(1, _RESYNC_ATTEMPTS + 1):
            try:
                return await read()
            except VenueError as exc:
                if exc.kind is not VenueErrorKind.TRANSIENT or attempt == _RESYNC_ATTEMPTS:
                    raise
                await asyncio.sleep(max(self._backoff[0] * attempt, exc.retry_after_s or 0.0))
        raise AssertionError("unreachable")  # pragma: no cover


def _one_sided(tick: QuoteTick) -> bool:
    """Return True when Alpaca sent 0 for a side: it has no price there (the mid of
    such a quote, the engine's mark, would be half the other side)."""
    return tick.bid <= 0 or tick.ask <= 0


def _unsized(item: object) -> bool:
    """Return True for an order placed by amount (``notional``) that has no quantity yet.

    Such an order (placed by hand: the adapter sends quantities) cannot be reported as
    a ``VenueOrderState``; it is left out of the open orders rather than failing them.
    """
    if not isinstance(item, dict) or item.get("qty") is not None:
        return False
    if item.get("notional") is None:
        return False
    log.warning("alpaca_notional_order_skipped", order_id=item.get("id"), symbol=item.get("symbol"))
    return True
