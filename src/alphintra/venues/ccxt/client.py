"""A small typed facade over one ``ccxt.async_support`` exchange.

ccxt is untyped; everything that crosses this module's boundary is checked to be the
shape the adapter expects (a dict, or a list of dicts), and every failure leaves as a
``VenueError`` of the right kind. The facade also:

* records the HTTP status, headers and body of the answer behind each call (through
  ccxt's ``on_rest_response`` hook, in a context variable, so concurrent calls in
  other tasks do not mix), for ``Retry-After`` and 5xx handling;
* refuses an answer that is not valid JSON although the venue said 2xx;
* runs each ccxt call in a local ``decimal`` context, because ccxt's number formatting
  changes the current context's rounding and traps;
* serialises requests for venues that reject out-of-order nonces (Kraken);
* sends nothing while a venue's ``Retry-After`` (HTTP 429 or 418) runs: every call in
  that window fails at once, TRANSIENT with code ``RATE_LIMITED`` and the time left
  (Binance bans an IP, for longer each time, that keeps sending after a 429).
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import ccxt.pro as ccxt_pro  # type: ignore[import-untyped]
import structlog

from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.ccxt.config import CcxtConfig, CcxtConfigError, OrderStream
from alphintra.venues.ccxt.errors import HttpExchange, is_not_found, translate
from alphintra.venues.ccxt.profiles import ExchangeProfile

Json = dict[str, Any]
_T = TypeVar("_T")
log = structlog.get_logger("alphintra.venues.ccxt")
_LAST_HTTP: ContextVar[HttpExchange | None] = ContextVar("alphintra_ccxt_last_http", default=None)


class NotFound(Exception):
    """The venue says the order does not exist (raised only where the caller asked)."""


def _looks_like_json(body: str) -> bool:
    if not body:
        return True  # an empty 2xx body is handled by the caller's shape checks
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Return True when ``exc`` or an exception it was raised from or during is a ``kind``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def uses_websocket(config: CcxtConfig, profile: ExchangeProfile) -> bool:
    """Return True when order updates come from the exchange's user-data WebSocket."""
    if config.order_stream is OrderStream.POLLING:
        return False
    if config.order_stream is OrderStream.AUTO:
        return config.market_type in profile.websocket_orders
    pro_class = getattr(ccxt_pro, config.exchange_id, None)
    has = pro_class().has if pro_class is not None else {}
    if not (has.get("watchOrders") and has.get("watchMyTrades")):
        raise CcxtConfigError(
            f"order_stream: ccxt.pro has no watchOrders and watchMyTrades for "
            f"{config.exchange_id}; use 'polling'"
        )
    return True


def build_exchange(config: CcxtConfig, profile: ExchangeProfile) -> Any:
    """Create the ccxt exchange object for ``config`` (no network I/O).

    With a WebSocket order stream it is the ccxt.pro class, whose REST calls and
    private stream then share one session, one set of credentials and one throttle.
    """
    exchange_class = getattr(ccxt_async, config.exchange_id, None)
    if exchange_class is None or config.exchange_id not in ccxt_async.exchanges:
        raise CcxtConfigError(f"exchange_id {config.exchange_id!r} is not a ccxt exchange")
    websocket = uses_websocket(config, profile)
    if websocket:
        exchange_class = getattr(ccxt_pro, config.exchange_id)
    options: dict[str, Any] = {}
    options.update(profile.options.get(config.market_type, {}))
    options.update(config.options)
    params: dict[str, Any] = {
        "enableRateLimit": config.enable_rate_limit,
        "timeout": int(config.timeout_s * 1000),
        "options": options,
    }
    if config.api_key:
        params["apiKey"] = config.api_key
        params["secret"] = config.secret
    if config.passphrase:
        params["password"] = config.passphrase
    if config.rate_limit_ms is not None:
        params["rateLimit"] = config.rate_limit_ms
    if config.rate_limit_window_s is not None:
        params["rateLimiterAlgorithm"] = "rollingWindow"
        params["rollingWindowSize"] = config.rate_limit_window_s * 1000
    exchange = exchange_class(params)
    if config.sandbox:
        if not exchange.urls.get("test"):
            raise CcxtConfigError(
                f"sandbox: {config.exchange_id} has no testnet in ccxt; unset sandbox"
            )
        exchange.set_sandbox_mode(True)
    urls: dict[str, str] = {}
    if config.base_url is not None:
        layout = profile.url_layout.get(config.market_type)
        if not layout:
            raise CcxtConfigError(
                f"base_url: no URL layout is known for {config.exchange_id} "
                f"{config.market_type.value}; set api_urls (ccxt urls['api'] keys) instead"
            )
        base = config.base_url.rstrip("/")
        urls.update({key: base + path for key, path in layout.items()})
    urls.update(config.api_urls)
    if urls and all(url.startswith("http://") for url in urls.values()):
        exchange.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS shutdown; no TLS here
    if urls:
        api = exchange.urls.get("api")
        if not isinstance(api, dict):
            raise CcxtConfigError(
                f"api_urls: {config.exchange_id} has a single API URL; set it with key 'rest'"
            )
        api.update(urls)
    if websocket and config.base_url is not None:
        _point_websockets(exchange, config, profile)
    return exchange


def _point_websockets(exchange: Any, config: CcxtConfig, profile: ExchangeProfile) -> None:
    layout = profile.ws_url_layout.get(config.market_type)
    if not layout:
        raise CcxtConfigError(
            f"base_url: no WebSocket URL layout is known for {config.exchange_id} "
            f"{config.market_type.value}; use order_stream 'polling'"
        )
    assert config.base_url is not None
    base = config.base_url.rstrip("/")
    base = "ws" + base[len("http") :] if base.startswith("http") else base
    for dotted, path in layout.items():
        *parents, leaf = dotted.split(".")
        node = exchange.urls["api"]
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[leaf] = base + path


class CcxtClient:
    """Typed async calls on one ccxt exchange; errors leave as ``VenueError``."""

    def __init__(self, config: CcxtConfig, profile: ExchangeProfile, exchange: Any = None):
        self._config = config
        self._profile = profile
        self._venue = str(config.venue)
        self._exchange: Any = exchange if exchange is not None else build_exchange(config, profile)
        self._lock = asyncio.Lock() if profile.serialize_requests else None
        self._quiet_until = 0.0
        """``time.monotonic()`` before which nothing is sent (the venue's Retry-After)."""
        original = self._exchange.on_rest_response

        def on_rest_response(
            code: int,
            reason: str,
            url: str,
            method: str,
            response_headers: Mapping[str, str],
            response_body: str,
            request_headers: Mapping[str, str],
            request_body: str,
        ) -> Any:
            body = response_body if isinstance(response_body, str) else ""
            _LAST_HTTP.set(
                HttpExchange(
                    status=int(code),
                    headers=dict(response_headers or {}),
                    body=body[:2000],
                    json_ok=_looks_like_json(body.strip()),
                )
            )
            return original(
                code,
                reason,
                url,
                method,
                response_headers,
                response_body,
                request_headers,
                request_body,
            )

        self._exchange.on_rest_response = on_rest_response
        self.unreadable_messages = 0
        """Stream messages ccxt failed to handle (each one resets the connection)."""
        if hasattr(self._exchange, "watch_orders") and hasattr(self._exchange, "handle_message"):
            self._guard_stream_messages()

    def _guard_stream_messages(self) -> None:
        """Reset a stream connection whose message ccxt cannot handle.

        ccxt handles each message in a callback of its receive loop; an exception there
        ends the loop without waking any watcher, so the stream would hang silently. A
        reset rejects the watchers instead, and the stream's catch-up recovers whatever
        the unreadable message carried.
        """
        original = self._exchange.handle_message

        def handle_message(client: Any, message: Any) -> Any:
            try:
                with decimal.localcontext():
                    return original(client, message)
            except Exception as exc:
                self.unreadable_messages += 1
                log.warning("unreadable stream message", venue=self._venue, error=repr(exc)[:200])
                client.on_error(ccxt_async.NetworkError(f"unreadable stream message: {exc!r}"))
                return None

        self._exchange.handle_message = handle_message
        self.stream_losses = 0
        """Stream connections closed or failed so far (ccxt reconnects on the next watch
        without telling a watcher that was not waiting at that moment)."""
        on_close, on_error = self._exchange.on_close, self._exchange.on_error

        def closed(client: Any, error: Any) -> Any:
            self.stream_losses += 1
            return on_close(client, error)

        def failed(client: Any, error: Any) -> Any:
            self.stream_losses += 1
            return on_error(client, error)

        self._exchange.on_close, self._exchange.on_error = closed, failed

    @property
    def exchange(self) -> Any:
        """Return the underlying ccxt exchange (untyped; for diagnostics and tests)."""
        return self._exchange

    @property
    def has(self) -> Mapping[str, Any]:
        """Return ccxt's capability flags for the exchange."""
        return cast(Mapping[str, Any], self._exchange.has)

    @property
    def timeframes(self) -> Mapping[str, Any]:
        """Return the bar intervals the exchange serves, by ccxt timeframe string."""
        frames = self._exchange.timeframes
        return cast(Mapping[str, Any], frames) if isinstance(frames, dict) else {}

    def markets(self) -> dict[str, Json]:
        """Return the loaded markets by unified symbol."""
        markets = self._exchange.markets
        if not isinstance(markets, dict):
            return {}
        return {str(k): v for k, v in markets.items() if isinstance(v, dict)}

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
        else:
            async with self._lock:
                yield

    async def _call(
        self,
        operation: str,
        write: bool,
        call: Callable[[], Awaitable[Any]],
        *,
        not_found: bool = False,
    ) -> Any:
        self._check_quiet(operation)
        token = _LAST_HTTP.set(None)
        try:
            async with self._turn():
                with decimal.localcontext():
                    try:
                        result = await call()
                    except (
                        ccxt_async.BaseError,
                        ValueError,
                        TypeError,
                        KeyError,
                        IndexError,
                        AttributeError,
                        ArithmeticError,
                    ) as exc:
                        http = _LAST_HTTP.get()
                        if not_found and is_not_found(exc, http, self._profile):
                            raise NotFound(str(exc)) from exc
                        if isinstance(exc, ccxt_async.InvalidNonce):
                            await self._resync_clock(operation)
                        error = translate(
                            exc,
                            venue=self._venue,
                            operation=operation,
                            write=write,
                            http=http,
                            profile=self._profile,
                        )
                        self._note_retry_after(error, exc, http)
                        raise error from exc
            http = _LAST_HTTP.get()
            if http is not None and 200 <= http.status < 300 and not http.json_ok:
                raise VenueError(
                    VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT,
                    self._venue,
                    f"{operation}: the venue answered HTTP {http.status} with a body that is "
                    f"not JSON: {http.body[:120]!r}",
                    code="MALFORMED_RESPONSE",
                )
            return result
        finally:
            _LAST_HTTP.reset(token)

    def _check_quiet(self, operation: str) -> None:
        """Refuse to send while the venue's Retry-After runs."""
        left = self._quiet_until - time.monotonic()
        if left > 0:
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self._venue,
                f"{operation}: not sent: the venue asked for no requests for {left:.1f} s more "
                "(HTTP 429/418 Retry-After)",
                code="RATE_LIMITED",
                retry_after_s=left,
            )

    def _note_retry_after(
        self, error: VenueError, exc: BaseException, http: HttpExchange | None
    ) -> None:
        """Start a quiet window when the venue said "slow down" with a Retry-After."""
        limited = isinstance(exc, ccxt_async.RateLimitExceeded) or (
            http is not None and http.status in (418, 429)
        )
        wait = error.retry_after_s
        if limited and error.kind is VenueErrorKind.TRANSIENT and wait:
            self._quiet_until = max(self._quiet_until, time.monotonic() + wait)
            log.warning(
                "venue asked to slow down; sending nothing meanwhile",
                venue=self._venue,
                retry_after_s=wait,
            )

    async def _resync_clock(self, operation: str) -> None:
        """Measure the venue's clock again after it refused a request's timestamp.

        ccxt signs with its clock less ``options['timeDifference']``, measured only when
        asked; without this every retry of the refused request carries the same skew.
        A failed measurement is logged: the refusal itself is what the caller sees.
        """
        if not self._profile.resync_clock_on_invalid_nonce:
            return
        try:
            offset = await self._exchange.load_time_difference()
        except Exception as exc:  # the caller gets the venue's refusal either way
            log.warning(
                "clock resync failed", venue=self._venue, operation=operation, error=repr(exc)
            )
            return
        log.warning(
            "venue refused our timestamp; clock offset re-measured",
            venue=self._venue,
            operation=operation,
            offset_ms=offset,
        )

    def _dict(self, operation: str, write: bool, value: Any) -> Json:
        if not isinstance(value, dict):
            raise VenueError(
                VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT,
                self._venue,
                f"{operation}: expected a JSON object from ccxt, got {type(value).__name__}",
                code="MALFORMED_RESPONSE",
            )
        return value

    def _dicts(self, operation: str, value: Any) -> list[Json]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self._venue,
                f"{operation}: expected a list of JSON objects from ccxt, got {value!r:.120}",
                code="MALFORMED_RESPONSE",
            )
        return cast(list[Json], value)

    # Reads ------------------------------------------------------------------------

    async def load_markets(self) -> None:
        """Load the exchange's markets (and currencies where ccxt needs them)."""
        await self._call("load_markets", False, lambda: self._exchange.load_markets(True))

    async def fetch_balance(self) -> Json:
        """Return ccxt's balance structure."""
        value = await self._call("fetch_balance", False, self._exchange.fetch_balance)
        return self._dict("fetch_balance", False, value)

    async def fetch_positions(self) -> list[Json]:
        """Return ccxt position structures (derivatives)."""
        value = await self._call("fetch_positions", False, self._exchange.fetch_positions)
        return self._dicts("fetch_positions", value)

    async def fetch_order(self, order_id: str | None, symbol: str, params: Json) -> Json | None:
        """Return ccxt's order structure, or None when the venue says it does not exist."""
        try:
            value = await self._call(
                "fetch_order",
                False,
                lambda: self._exchange.fetch_order(order_id, symbol, dict(params)),
                not_found=True,
            )
        except NotFound:
            return None
        return self._dict("fetch_order", False, value)

    async def fetch_open_orders(self, symbol: str | None, params: Json) -> list[Json]:
        """Return open orders (all symbols when ``symbol`` is None)."""
        value = await self._call(
            "fetch_open_orders",
            False,
            lambda: self._exchange.fetch_open_orders(symbol, None, None, dict(params)),
        )
        return self._dicts("fetch_open_orders", value)

    async def fetch_closed_orders(self, symbol: str | None, params: Json) -> list[Json]:
        """Return closed orders (all symbols when ``symbol`` is None)."""
        value = await self._call(
            "fetch_closed_orders",
            False,
            lambda: self._exchange.fetch_closed_orders(symbol, None, None, dict(params)),
        )
        return self._dicts("fetch_closed_orders", value)

    async def fetch_my_trades(
        self, symbol: str | None, since_ms: int | None, limit: int | None, params: Json
    ) -> list[Json]:
        """Return the account's trades."""
        value = await self._call(
            "fetch_my_trades",
            False,
            lambda: self._exchange.fetch_my_trades(symbol, since_ms, limit, dict(params)),
        )
        return self._dicts("fetch_my_trades", value)

    async def fetch_ticker(self, symbol: str) -> Json:
        """Return ccxt's ticker structure."""
        value = await self._call("fetch_ticker", False, lambda: self._exchange.fetch_ticker(symbol))
        return self._dict("fetch_ticker", False, value)

    async def fetch_order_book(self, symbol: str, limit: int | None) -> Json:
        """Return ccxt's order book structure."""
        value = await self._call(
            "fetch_order_book", False, lambda: self._exchange.fetch_order_book(symbol, limit)
        )
        return self._dict("fetch_order_book", False, value)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None, limit: int | None
    ) -> list[list[Any]]:
        """Return OHLCV rows ``[ms, open, high, low, close, volume]``."""
        value = await self._call(
            "fetch_ohlcv",
            False,
            lambda: self._exchange.fetch_ohlcv(symbol, timeframe, since_ms, limit),
        )
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self._venue,
                f"fetch_ohlcv: expected a list of rows, got {value!r:.120}",
                code="MALFORMED_RESPONSE",
            )
        return cast(list[list[Any]], value)

    # Writes -----------------------------------------------------------------------

    async def create_order(
        self, symbol: str, type_: str, side: str, amount: str, price: str | None, params: Json
    ) -> Json:
        """Send a new order; return ccxt's (possibly partial) order structure."""
        value = await self._call(
            "create_order",
            True,
            lambda: self._exchange.create_order(symbol, type_, side, amount, price, dict(params)),
        )
        return self._dict("create_order", True, value)

    async def cancel_order(self, order_id: str | None, symbol: str, params: Json) -> Json | None:
        """Cancel an order; return ccxt's order structure, or None if the venue has no such
        open order."""
        try:
            value = await self._call(
                "cancel_order",
                True,
                lambda: self._exchange.cancel_order(order_id, symbol, dict(params)),
                not_found=True,
            )
        except NotFound:
            return None
        return self._dict("cancel_order", True, value)

    async def edit_order(
        self,
        order_id: str | None,
        symbol: str,
        type_: str,
        side: str,
        amount: str | None,
        price: str | None,
        params: Json,
    ) -> Json:
        """Amend an order in place; return ccxt's (possibly partial) order structure."""
        value = await self._call(
            "edit_order",
            True,
            lambda: self._exchange.edit_order(
                order_id, symbol, type_, side, amount, price, dict(params)
            ),
        )
        return self._dict("edit_order", True, value)

    # Streams (ccxt.pro) -------------------------------------------------------------

    async def watch_orders(self) -> Any:
        """Wait for the next batch of order updates (ccxt's raw errors propagate)."""
        with decimal.localcontext():
            return await self._exchange.watch_orders()

    async def watch_my_trades(self) -> Any:
        """Wait for the next batch of the account's trades (ccxt's raw errors propagate)."""
        with decimal.localcontext():
            return await self._exchange.watch_my_trades()

    async def stream_subscribed(self) -> None:
        """Return once the private stream's subscription is confirmed (or, where the
        venue confirms nothing, once every stream connection is open)."""

        async def confirmed() -> None:
            if self._profile.ws_confirm_by_authenticate:
                with decimal.localcontext():
                    await self._exchange.authenticate()
                return
            for client in list((self._exchange.clients or {}).values()):
                await client.connected

        try:
            await asyncio.wait_for(confirmed(), self._config.timeout_s)
        except Exception as exc:
            # A refused timestamp can hide behind ccxt's own cleanup error (KeyError).
            if _caused_by(exc, ccxt_async.InvalidNonce):
                await self._resync_clock("stream subscribe")
            raise

    async def reset_streams(self) -> None:
        """Close every stream connection, so that the next watch starts from scratch.

        After a failure ccxt can hold a half-finished subscription (a pending future that
        nothing will settle); a fresh connection does not inherit it.
        """
        with contextlib.suppress(Exception):
            await self._exchange.close_ws_clients()

    # Local helpers ------------------------------------------------------------------

    def amount_to_precision(self, symbol: str, amount: str) -> str:
        """Return ``amount`` as the venue's lot precision formats it (truncating)."""
        return self._precision("amount", symbol, amount)

    def price_to_precision(self, symbol: str, price: str) -> str:
        """Return ``price`` as the venue's tick precision formats it (rounding)."""
        return self._precision("price", symbol, price)

    def _precision(self, what: str, symbol: str, value: str) -> str:
        method = (
            self._exchange.amount_to_precision
            if what == "amount"
            else self._exchange.price_to_precision
        )
        try:
            with decimal.localcontext():
                return str(method(symbol, value))
        except ccxt_async.BaseError as exc:
            raise translate(
                exc,
                venue=self._venue,
                operation=f"{what}_to_precision",
                write=False,
                http=None,
                profile=self._profile,
            ) from exc

    def open(self) -> None:
        """(Re)open the HTTP session; ccxt refuses requests after ``close`` until then."""
        self._exchange.open()

    async def close(self) -> None:
        """Close the HTTP session."""
        with contextlib.suppress(Exception):
            await self._exchange.close()
