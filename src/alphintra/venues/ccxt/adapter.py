"""The crypto venue adapter: any ccxt exchange behind the one ``VenueAdapter`` contract.

Construction::

    adapter = CcxtAdapter(CcxtConfig(exchange_id="binance", api_key=..., secret=...))
    await adapter.connect()          # loads markets, checks the keys
    state = await adapter.place_order(order_initialized)

The layers are the usual ones: ``config`` (frozen settings), ``client`` (a typed facade
over ccxt that turns every failure into a ``VenueError``), ``translation`` (domain
values to ccxt requests and back, strictly checked), ``profiles`` (capabilities and
quirks as data), ``streams`` (polling with backoff, and the order tracker whose REST
catch-up closes stream gaps) and ``ws_stream`` (the user-data WebSocket via ccxt.pro).

Outcome rules beyond ``errors.py``: an answer to a write that cannot be read is
UNKNOWN_OUTCOME (the order may exist; query it by client order ID); an unreadable
answer to a read is TRANSIENT. Orders are always sent under the engine's client order
ID (mapped to the venue's rules by ``client_ids``), and looked up by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueOrderId
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.venues.adapter import (
    AccountSnapshot,
    OrderUpdateHandler,
    QuoteHandler,
    RateLimit,
    VenueError,
    VenueErrorKind,
    VenueFill,
    VenueOrderState,
    VenuePosition,
)
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.ccxt.client import CcxtClient, Json, uses_websocket
from alphintra.venues.ccxt.client_ids import BoundedMap, ClientIdCodec
from alphintra.venues.ccxt.config import CcxtConfig, MarketType
from alphintra.venues.ccxt.profiles import (
    PROFILES,
    ExchangeProfile,
    QueryByClientId,
    QuoteSource,
    TradePaging,
    profile_for,
)
from alphintra.venues.ccxt.streams import PollingStreams
from alphintra.venues.ccxt.translation import (
    OrderRequest,
    SymbolMap,
    TranslationError,
    Unsupported,
    balances,
    bar,
    build_order_request,
    fill,
    has_order_state,
    order_state,
    plain,
    positions,
    quote_from_book,
    quote_from_ticker,
    timeframe,
)
from alphintra.venues.ccxt.ws_stream import UserDataStream

_MAX_BAR_PAGES = 1_000
_MAX_TRADE_PAGES = 1_000
"""Pages of the account's trades one fill read may take (Kraken: 50 trades a page)."""
_FILL_LOOKBACK_MS = 1_000
_BOOK_DEPTH = 5


def _profile(config: CcxtConfig) -> ExchangeProfile:
    known = PROFILES.get(config.exchange_id)
    if known is not None:
        return known
    exchange_class = getattr(ccxt_async, config.exchange_id, None)
    has = exchange_class().has if exchange_class is not None else {}
    return profile_for(config.exchange_id, has, config.market_type)


class CcxtAdapter:
    """A ``VenueAdapter`` over ``ccxt.async_support`` for one exchange and market type."""

    def __init__(
        self,
        config: CcxtConfig,
        *,
        exchange: Any = None,
        profile: ExchangeProfile | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.profile = profile or _profile(config)
        self.venue_id = config.venue
        self.capabilities: VenueCapabilities = self.profile.capabilities_for(config.market_type)
        self.rate_limit: RateLimit | None = self.profile.rate_limit
        self._client = CcxtClient(config, self.profile, exchange)
        self._codec = ClientIdCodec(self.profile.client_id)
        self._clock = clock_ns
        self._symbols: SymbolMap | None = None
        self._load_lock = asyncio.Lock()
        self._instruments: set[InstrumentId] = set(config.instruments)
        self._sent: BoundedMap[ClientOrderId, OrderInitialized] = BoundedMap()
        self._streams = PollingStreams(
            str(self.venue_id), config.poll_interval_s, config.max_backoff_s, clock_ns
        )
        self.websocket_orders = uses_websocket(config, self.profile)
        """True when order updates come from the user-data WebSocket, not polling."""
        self.user_stream = UserDataStream(
            str(self.venue_id), self._streams.tracker, config.max_backoff_s
        )

    # Connection ---------------------------------------------------------------------

    @property
    def client(self) -> CcxtClient:
        """Return the ccxt facade (for diagnostics and tests)."""
        return self._client

    def wire_client_id(self, client_order_id: ClientOrderId) -> str:
        """Return the client order ID as the venue sees it."""
        return self._codec.wire(client_order_id)

    def client_order_id_for(self, wire: str) -> ClientOrderId | None:
        """Return our client order ID for a venue-side one, as far as this process knows."""
        return self._codec.ours(wire)

    async def connect(self) -> None:
        """Load the exchange's markets and, with credentials, check them by reading balances."""
        self._client.open()
        await self._ready(reload=True)
        if self.config.verify_credentials_on_connect and self.config.has_credentials:
            await self._client.fetch_balance()

    async def disconnect(self) -> None:
        """Stop the streams and close the HTTP session."""
        await self.user_stream.stop()
        await self._streams.stop()
        await self._client.close()

    async def _ready(self, reload: bool = False) -> SymbolMap:
        async with self._load_lock:
            if self._symbols is None or reload:
                await self._client.load_markets()
                self._symbols = SymbolMap(
                    self._client.markets(), self.config.market_type, self.config.symbol_overrides
                )
            return self._symbols

    def _error(self, kind: VenueErrorKind, operation: str, message: str, code: str) -> VenueError:
        return VenueError(kind, str(self.venue_id), f"{operation}: {message}", code=code)

    def _unreadable(self, operation: str, exc: Exception, *, write: bool) -> VenueError:
        kind = VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT
        hint = "; query the order by its client order ID" if write else ""
        return self._error(
            kind,
            operation,
            f"the venue's answer could not be read ({exc}){hint}",
            "MALFORMED_RESPONSE",
        )

    async def _symbol(
        self, instrument_id: InstrumentId, operation: str, *, reading: bool = False
    ) -> str:
        """Return the ccxt symbol; ``reading`` (reads, cancels) accepts a market out of
        trading, where our orders may still rest."""
        symbols = await self._ready()
        try:
            return symbols.to_ccxt(instrument_id, inactive_ok=reading)
        except Unsupported as exc:
            raise self._error(
                VenueErrorKind.DEFINITIVE, operation, str(exc), "UNSUPPORTED"
            ) from exc

    def _state(
        self,
        raw: Json,
        operation: str,
        *,
        write: bool,
        client_order_id: ClientOrderId | None = None,
        instrument_id: InstrumentId | None = None,
    ) -> VenueOrderState:
        assert self._symbols is not None
        try:
            return order_state(
                raw,
                symbols=self._symbols,
                codec=self._codec,
                client_order_id=client_order_id,
                instrument_id=instrument_id,
            )
        except TranslationError as exc:
            raise self._unreadable(operation, exc, write=write) from exc

    # Orders -------------------------------------------------------------------------

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        """Send ``order`` under its client order ID; raise ``VenueError``."""
        cid = order.client_order_id
        operation = f"place_order {cid}"
        symbol = await self._symbol(order.instrument_id, operation)
        try:
            request = build_order_request(
                order, symbol, self._codec.wire(cid), self.capabilities, self.profile
            )
            self._check_precision(request)
        except Unsupported as exc:
            raise self._error(
                VenueErrorKind.DEFINITIVE, operation, str(exc), "UNSUPPORTED"
            ) from exc
        self._instruments.add(order.instrument_id)
        self._sent[cid] = order
        if not (self.websocket_orders and self.user_stream.live.is_set()):
            # Polled or placed while the user stream is down: the next catch-up reads it.
            self._streams.track(cid, order.instrument_id)
        raw = await self._client.create_order(
            request.symbol,
            request.type_,
            request.side,
            request.amount,
            request.price,
            request.params,
        )
        if has_order_state(raw):
            return self._state(
                raw, operation, write=True, client_order_id=cid, instrument_id=order.instrument_id
            )
        venue_order_id = raw.get("id")
        if not venue_order_id:
            raise self._unreadable(operation, TranslationError("no order id"), write=True)
        vid = VenueOrderId(str(venue_order_id))
        self._codec.link(vid, cid)
        try:  # the venue acknowledged without the order's state (Kraken): read it back
            state = await self.query_order(order.instrument_id, venue_order_id=vid)
        except VenueError:
            state = None
        if state is not None:
            return state
        return VenueOrderState(
            client_order_id=cid,
            venue_order_id=vid,
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            status=OrderStatus.ACCEPTED,
            quantity=Decimal(order.quantity),
            filled_quantity=Decimal(0),
            price=order.price,
            trigger_price=order.trigger_price,
            ts=self._clock(),
        )

    def _check_precision(self, request: OrderRequest) -> None:
        self._check_numbers(
            request.symbol,
            request.amount or None,
            [
                request.price,
                request.params.get("stopLossPrice"),
                request.params.get("takeProfitPrice"),
            ],
        )

    def _check_numbers(self, symbol: str, amount: str | None, prices: list[Any]) -> None:
        """Refuse a quantity off the lot step or a price off the tick grid (never round)."""
        if amount is not None:
            allowed = self._client.amount_to_precision(symbol, amount)
            if Decimal(allowed) != Decimal(amount):
                raise Unsupported(
                    f"quantity {amount} is not a multiple of the venue's lot step "
                    f"(the venue would take {allowed})"
                )
        for price in prices:
            if isinstance(price, str):
                rounded = self._client.price_to_precision(symbol, price)
                if Decimal(rounded) != Decimal(price):
                    raise Unsupported(
                        f"price {price} is not on the venue's tick grid (nearest {rounded})"
                    )

    async def cancel_order(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId
    ) -> VenueOrderState:
        """Cancel an order by client order ID; raise ``VenueError``."""
        operation = f"cancel_order {client_order_id}"
        symbol = await self._symbol(instrument_id, operation, reading=True)
        raw = await self._client.cancel_order(
            None, symbol, {"clientOrderId": self._codec.wire(client_order_id)}
        )
        if raw is None:
            raise self._error(
                VenueErrorKind.DEFINITIVE,
                operation,
                "the venue has no open order with this client order ID",
                "ORDER_NOT_FOUND",
            )
        if has_order_state(raw):
            return self._state(
                raw,
                operation,
                write=True,
                client_order_id=client_order_id,
                instrument_id=instrument_id,
            )
        return await self._read_back(operation, instrument_id, client_order_id)

    async def _read_back(
        self, operation: str, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrderState:
        """Return the state after an accepted write whose answer did not carry it."""
        try:
            state = await self.query_order(instrument_id, client_order_id=client_order_id)
        except VenueError as exc:
            raise self._error(
                VenueErrorKind.UNKNOWN_OUTCOME,
                operation,
                f"the venue accepted the request but the order could not be read back ({exc})",
                "READ_BACK_FAILED",
            ) from exc
        if state is None:
            raise self._error(
                VenueErrorKind.UNKNOWN_OUTCOME,
                operation,
                "the venue accepted the request but does not show the order",
                "READ_BACK_FAILED",
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
        """Amend an order in place (same IDs); DEFINITIVE where the venue cannot."""
        operation = f"modify_order {client_order_id}"
        if not self.capabilities.supports_modify:
            raise self._error(
                VenueErrorKind.DEFINITIVE,
                operation,
                f"{self.profile.exchange_id} {self.config.market_type.value} cannot amend an "
                "order under the same client order ID; cancel and re-submit",
                "UNSUPPORTED",
            )
        if quantity is None and price is None and trigger_price is None:
            raise self._error(
                VenueErrorKind.DEFINITIVE, operation, "nothing to change", "UNSUPPORTED"
            )
        symbol = await self._symbol(instrument_id, operation)
        side, order_type = await self._side_and_type(client_order_id, instrument_id, operation)
        params: Json = {"clientOrderId": self._codec.wire(client_order_id)}
        trigger = plain(trigger_price) if trigger_price is not None else None
        if trigger is not None:
            key = "takeProfitPrice" if order_type is OrderType.TAKE_PROFIT else "stopLossPrice"
            params[key] = trigger
        amount = plain(quantity) if quantity is not None else None
        limit = plain(price) if price is not None else None
        try:
            self._check_numbers(symbol, amount, [limit, trigger])
        except Unsupported as exc:
            raise self._error(
                VenueErrorKind.DEFINITIVE, operation, str(exc), "UNSUPPORTED"
            ) from exc
        await self._client.edit_order(
            None,
            symbol,
            "market" if order_type in (OrderType.MARKET, OrderType.STOP) else "limit",
            "buy" if side is OrderSide.BUY else "sell",
            amount,
            limit,
            params,
        )
        return await self._read_back(operation, instrument_id, client_order_id)

    async def _side_and_type(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId, operation: str
    ) -> tuple[OrderSide, OrderType]:
        sent = self._sent.get(client_order_id)
        if sent is not None:
            return sent.side, sent.order_type
        state = await self.query_order(instrument_id, client_order_id=client_order_id)
        if state is None:
            raise self._error(
                VenueErrorKind.DEFINITIVE,
                operation,
                "the venue has no such order",
                "ORDER_NOT_FOUND",
            )
        return state.side, state.order_type

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None:
        """Return the order, or None when the venue confirms it does not exist."""
        operation = f"query_order {client_order_id or venue_order_id}"
        symbol = await self._symbol(instrument_id, operation, reading=True)
        if venue_order_id is not None:
            raw = await self._client.fetch_order(str(venue_order_id), symbol, {})
        elif client_order_id is not None:
            wire = self._codec.wire(client_order_id)
            if self.profile.query_by_client_id is QueryByClientId.FETCH_ORDER_PARAM:
                raw = await self._client.fetch_order(None, symbol, {"clientOrderId": wire})
            else:
                raw = await self._find_by_client_id(symbol, wire)
        else:
            raise self._error(
                VenueErrorKind.DEFINITIVE, operation, "give a client or venue order ID", "USAGE"
            )
        if raw is None:
            return None
        return self._state(
            raw,
            operation,
            write=False,
            client_order_id=client_order_id,
            instrument_id=instrument_id,
        )

    async def _find_by_client_id(self, symbol: str, wire: str) -> Json | None:
        params: Json = {"clientOrderId": wire}
        for found in await self._client.fetch_open_orders(symbol, params):
            if found.get("clientOrderId") == wire:
                return found
        matches = [
            found
            for found in await self._client.fetch_closed_orders(symbol, params)
            if found.get("clientOrderId") == wire
        ]
        if not matches:
            return None
        return max(matches, key=lambda o: o.get("timestamp") or 0)

    async def open_orders(self, *, traded_only: bool = False) -> list[VenueOrderState]:
        """Return the open orders at the venue.

        With ``traded_only`` on a venue whose order queries are per symbol (Binance), only
        the instruments this adapter trades are read: one cheap request per instrument
        instead of the all-symbols query (weight 6 each against 80).
        """
        symbols = await self._ready()
        targets: list[str | None] = [None]
        if traded_only and self.profile.my_trades_requires_symbol:
            targets = [
                symbols.to_ccxt(i, inactive_ok=True)
                for i in sorted(self._instruments)
                if symbols.readable(i)
            ]
        states = []
        for symbol in targets:
            for raw in await self._client.fetch_open_orders(symbol, {}):
                states.append(self._state(raw, "open_orders", write=False))
        return states

    # Account, fills, market data ----------------------------------------------------

    async def account(self) -> AccountSnapshot:
        """Return balances, positions (swaps) and open orders."""
        symbols = await self._ready()
        balance = await self._client.fetch_balance()
        held: tuple[VenuePosition, ...] = ()
        if self.config.market_type is MarketType.SWAP:
            raw_positions = await self._client.fetch_positions()
            try:
                held = positions(raw_positions, symbols)
            except TranslationError as exc:
                raise self._unreadable("account", exc, write=False) from exc
        try:
            cash = balances(balance)
        except TranslationError as exc:
            raise self._unreadable("account", exc, write=False) from exc
        return AccountSnapshot(
            balances=cash,
            positions=held,
            open_orders=tuple(await self.open_orders()),
            ts=self._clock(),
        )

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        """Return executions at or after ``ts_ns``, oldest first."""
        symbols = await self._ready()
        since_ms = max(0, ts_ns // 1_000_000 - _FILL_LOOKBACK_MS)
        targets: list[str | None]
        wanted = InstrumentId(instrument_id.upper()) if instrument_id is not None else None
        if instrument_id is not None:
            targets = [await self._symbol(instrument_id, "fills_since", reading=True)]
            if not self.profile.my_trades_requires_symbol:
                # The venue's trade history is account-wide (Kraken): ccxt would filter
                # each page by symbol, and a short page ends the paging early.
                targets = [None]
        elif self.profile.my_trades_requires_symbol:
            targets = [
                symbols.to_ccxt(i, inactive_ok=True)
                for i in sorted(self._instruments)
                if symbols.readable(i)
            ]
        else:
            targets = [None]
        found: dict[TradeId, VenueFill] = {}
        for symbol in targets:
            for raw in await self._trades(symbol, since_ms):
                try:
                    item = fill(raw, symbols=symbols, codec=self._codec)
                except TranslationError as exc:
                    raise self._unreadable("fills_since", exc, write=False) from exc
                if item.ts >= ts_ns and wanted in (None, item.instrument_id):
                    found[item.trade_id] = item
        return sorted(found.values(), key=lambda f: (f.ts, f.trade_id))

    async def _trades(self, symbol: str | None, since_ms: int) -> list[Json]:
        size = self.profile.trade_page_size
        collected: dict[str, Json] = {}
        since, offset = since_ms, 0
        paging = self.profile.trade_paging
        from_id: int | None = None
        until: int | None = None
        for _ in range(_MAX_TRADE_PAGES):
            if paging is TradePaging.OFFSET:
                page = await self._client.fetch_my_trades(symbol, since_ms, None, {"ofs": offset})
                offset += len(page)
            elif paging is TradePaging.UNTIL:
                extra: Json = {"until": until} if until is not None else {}
                page = await self._client.fetch_my_trades(symbol, since_ms, None, extra)
            elif from_id is not None:
                page = await self._client.fetch_my_trades(symbol, None, size, {"fromId": from_id})
            else:
                page = await self._client.fetch_my_trades(symbol, since, size, {})
            for raw in page:
                collected[str(raw.get("id"))] = raw
            if len(page) < size:
                break
            if paging is TradePaging.FROM_ID:
                ids = [str(r.get("id")) for r in page]
                if not all(i.isdigit() for i in ids):
                    break
                from_id = max(int(i) for i in ids) + 1
            elif paging is TradePaging.SINCE:
                last = max((r.get("timestamp") or 0 for r in page), default=0)
                if not isinstance(last, int | float) or last <= since:
                    break
                since = int(last)
            elif paging is TradePaging.UNTIL:
                first = min((r.get("timestamp") or 0 for r in page), default=0)
                if not isinstance(first, int | float) or first <= since_ms:
                    break
                if until is not None and first + 1 >= until:  # one millisecond holds a page
                    break
                until = int(first) + 1  # records earlier than it: that millisecond again
        else:
            # Never a silent cut: newest-first paging (Kraken, OKX) would leave out the
            # oldest trades, which no later poll (it starts after the newest) reads.
            raise self._error(
                VenueErrorKind.TRANSIENT,
                "fills_since",
                f"more than {_MAX_TRADE_PAGES} pages ({_MAX_TRADE_PAGES * size} trades) "
                f"since {since_ms} ms; not all were read",
                "TOO_MANY_TRADES",
            )
        return list(collected.values())

    async def quote(self, instrument_id: InstrumentId) -> QuoteTick:
        """Return the current best bid and ask."""
        symbol = await self._symbol(instrument_id, "quote")
        try:
            if self.profile.quote_source is QuoteSource.ORDER_BOOK:
                book = await self._client.fetch_order_book(symbol, _BOOK_DEPTH)
                return quote_from_book(book, instrument_id)
            ticker = await self._client.fetch_ticker(symbol)
            return quote_from_ticker(ticker, instrument_id)
        except TranslationError as exc:
            raise self._unreadable("quote", exc, write=False) from exc

    async def bars(
        self, instrument_id: InstrumentId, interval_s: int, start_ns: int, end_ns: int
    ) -> list[TradeBar]:
        """Return trade bars starting in ``[start_ns, end_ns)``."""
        symbol = await self._symbol(instrument_id, "bars")
        try:
            frame = timeframe(interval_s, self._client.timeframes)
        except Unsupported as exc:
            raise self._error(VenueErrorKind.DEFINITIVE, "bars", str(exc), "UNSUPPORTED") from exc
        interval_ns = interval_s * 1_000_000_000
        since_ms = start_ns // 1_000_000
        result: dict[int, TradeBar] = {}
        for _ in range(_MAX_BAR_PAGES):
            rows = await self._client.fetch_ohlcv(
                symbol, frame, since_ms, self.profile.bars_page_size
            )
            try:
                page = [bar(row, instrument_id, interval_ns) for row in rows]
            except TranslationError as exc:
                raise self._unreadable("bars", exc, write=False) from exc
            for item in page:
                if start_ns <= item.ts < end_ns:
                    result[item.ts] = item
            if not page or len(page) < self.profile.bars_page_size:
                break
            last = max(item.ts for item in page)
            if last + interval_ns >= end_ns or last // 1_000_000 < since_ms:
                break
            since_ms = (last + interval_ns) // 1_000_000
        else:  # never a silent prefix of the range asked for
            raise self._error(
                VenueErrorKind.DEFINITIVE,
                "bars",
                f"the range needs more than {_MAX_BAR_PAGES} requests of "
                f"{self.profile.bars_page_size} bars; ask for a shorter range",
                "RANGE_TOO_LONG",
            )
        return [result[ts] for ts in sorted(result)]

    # Streams ------------------------------------------------------------------------

    async def subscribe_quotes(
        self, instruments: list[InstrumentId], handler: QuoteHandler
    ) -> None:
        """Poll quotes into ``handler`` until disconnect (see ``streams.py``)."""
        await self._ready()
        self._streams.start_quotes(instruments, self.quote, handler)

    async def subscribe_order_updates(self, handler: OrderUpdateHandler) -> None:
        """Deliver order states and fills to ``handler`` until disconnect: from the
        user-data WebSocket (``ws_stream.py``) where configured, else by polling.

        With the WebSocket it returns once the subscription is confirmed and caught up
        (or after ``timeout_s``; the stream keeps trying in the background)."""
        await self._ready()
        if self.websocket_orders:
            self.user_stream.start(_Watches(self), self, handler)
            with contextlib.suppress(TimeoutError):  # it keeps trying in the background
                await asyncio.wait_for(self.user_stream.live.wait(), self.config.timeout_s)
        else:
            self._streams.start_orders(self, handler)

    def _ws_state(self, raw: Json) -> VenueOrderState:
        assert self._symbols is not None
        return order_state(raw, symbols=self._symbols, codec=self._codec)

    def _ws_fill(self, raw: Json) -> VenueFill:
        assert self._symbols is not None
        return fill(raw, symbols=self._symbols, codec=self._codec)


class _Watches:
    """The adapter's ccxt.pro watches, as the user-data stream reads them."""

    def __init__(self, adapter: CcxtAdapter) -> None:
        self._adapter = adapter

    async def watch_orders(self) -> list[Json]:
        return cast(list[Json], await self._adapter.client.watch_orders())

    async def watch_trades(self) -> list[Json]:
        return cast(list[Json], await self._adapter.client.watch_my_trades())

    async def subscribed(self) -> None:
        await self._adapter.client.stream_subscribed()

    async def reset(self) -> None:
        await self._adapter.client.reset_streams()

    def losses(self) -> int:
        return self._adapter.client.stream_losses

    def order_update(self, raw: Json) -> VenueOrderState:
        return self._adapter._ws_state(raw)

    def fill_update(self, raw: Json) -> VenueFill:
        return self._adapter._ws_fill(raw)
