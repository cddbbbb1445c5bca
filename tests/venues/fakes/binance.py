"""A local fake of the Binance spot REST API (api/v3), in Binance's real wire format.

It serves on 127.0.0.1 (a free port bound at construction, so the URL is known before
``start``) the endpoints ccxt calls, as /work/shared/specs/binance_spot_api.yaml
documents them: ``ping``, ``time``, ``exchangeInfo`` (PRICE_FILTER, LOT_SIZE, NOTIONAL
filters), ``depth``, ``ticker/bookTicker``, ``ticker/24hr``, ``klines``, and the
signed ``account``, ``order`` (POST, GET, DELETE), ``openOrders`` and ``myTrades``.

Signed requests are checked as the venue checks them: ``X-MBX-APIKEY`` must name the
key (else 401 -2014/-2015); the HMAC-SHA256 ``signature`` must match the query string
concatenated with the form body, without the signature (else 400 -1022); ``timestamp``
must be within ``recvWindow`` (default 5000, at most 60000) of the server's clock and
not more than 1000 ms ahead of it (else 400 -1021).

Errors are Binance's shapes, ``{"code": -2010, "msg": "..."}``: -1100 illegal
characters (a ``newClientOrderId`` outside ``^[.A-Z:/a-z0-9_-]{1,36}$``), -1102
missing parameter, -1106 parameter not required, -1115/-1116/-1117 bad enum, -1121 bad
symbol, -1013 filter failures, -2010 rejections (insufficient balance, "Duplicate order
sent." for a client ID held by an OPEN order; a closed order's ID may be reused), -2011
cancel of an unknown or closed order, -2013 order does not exist. Rate-limit faults are
HTTP 429 (or 418, banned) with ``Retry-After``. Matching and faults: see
``crypto_spot.py``; the JSON renderings are in ``binance_wire.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .binance_stream import BinanceUserStream, StreamFaults
from .binance_wire import (
    BALANCES,
    CLIENT_ID,
    MARKETS,
    ORDER_TYPES,
    RECV_WINDOW_MAX,
    REJECTS,
    BinanceError,
    Recorded,
    decimal_param,
    fill_entry,
    fmt,
    generated_id,
    int_param,
    missing,
    my_trade,
    not_required,
    order_details,
    order_fields,
    symbol_info,
    wire_type,
    without_signature,
)
from .crypto_spot import (
    BookReject,
    FaultInjector,
    Faults,
    SpotBook,
    SpotMarket,
    SpotOrder,
    now_ms,
)

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeBinance:
    """The fake venue: a ``SpotBook`` behind Binance's REST API."""

    def __init__(
        self,
        *,
        api_key: str = "fake-binance-key",
        secret: str = "fake-binance-secret",
        faults: Faults | None = None,
        markets: list[SpotMarket] | None = None,
        balances: dict[str, Decimal] | None = None,
        time_offset_ms: int = 0,
        stream_faults: StreamFaults | None = None,
        weight_limit_per_s: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.time_offset_ms = time_offset_ms
        """Added to the server clock (a venue clock ahead of ours is positive)."""
        self.book = SpotBook(
            markets or MARKETS,
            dict(balances or BALANCES),
            order_id=lambda seq: str(1000 + seq),
            trade_id=lambda seq: str(5000 + seq),
            reject_immediate_trigger=True,
        )
        self.faults = FaultInjector(faults)
        self.klines: dict[tuple[str, str], list[list[Any]]] = {}
        self.symbol_status: dict[str, str] = {}
        """exchangeInfo status by symbol where not TRADING (BREAK, HALT: out of trading)."""
        self.requests: list[tuple[str, str]] = []
        self.recorded: list[Recorded] = []
        self.sent: list[tuple[str, str, dict[str, str]]] = []
        """(method, path, parameters) of every request that reached an endpoint."""
        self.errors: list[str] = []
        """Exceptions raised by the fake itself (a bug in the fake, not a venue answer)."""
        self.weight_limit_per_s = weight_limit_per_s
        """REQUEST_WEIGHT allowed in any one-second window (None: unlimited); more is
        answered 429 -1003 with Retry-After, as the venue does."""
        self.hits: list[tuple[float, int]] = []
        """(monotonic time, request weight) of every REST request, refused ones included."""
        self.weight_refusals = 0
        self._window: deque[tuple[float, int]] = deque()
        self._window_weight = 0
        self.stream = BinanceUserStream(
            api_key=api_key, secret=secret, server_ms=self.server_ms, faults=stream_faults
        )
        self.book.listeners.append(self.stream.on_book_event)
        self._update_id = 1
        self._weight = 0
        self._runner: web.AppRunner | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    # Lifecycle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        """Serve on the socket bound at construction; return the base URL."""
        app = web.Application(middlewares=[self._middleware])
        v3 = "/api/v3"
        app.router.add_get(f"{v3}/ping", self._ping)
        app.router.add_get(f"{v3}/time", self._time)
        app.router.add_get(f"{v3}/exchangeInfo", self._exchange_info)
        app.router.add_get(f"{v3}/depth", self._depth)
        app.router.add_get(f"{v3}/ticker/bookTicker", self._book_ticker)
        app.router.add_get(f"{v3}/ticker/24hr", self._ticker_24hr)
        app.router.add_get(f"{v3}/klines", self._klines)
        app.router.add_get(f"{v3}/account", self._account)
        app.router.add_post(f"{v3}/order", self._new_order)
        app.router.add_get(f"{v3}/order", self._get_order)
        app.router.add_delete(f"{v3}/order", self._cancel_order)
        app.router.add_get(f"{v3}/openOrders", self._open_orders)
        app.router.add_get(f"{v3}/myTrades", self._my_trades)
        app.router.add_get("/ws-api/v3", self.stream.handle)
        app.router.add_get("/ws/{key}", self.stream.handle_listen_key)
        for method in ("POST", "PUT", "DELETE"):
            app.router.add_route(method, f"{v3}/userDataStream", self._user_data_stream)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        self.stream.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._socket.close()

    # Test controls ----------------------------------------------------------------------

    def set_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal = Decimal(10),
        ask_size: Decimal = Decimal(10),
    ) -> None:
        """Move the market: resting orders it crosses fill at their limit price."""
        self._update_id += 1
        self.book.set_quote(symbol, bid, ask, bid_size, ask_size)

    def add_pending_order(
        self, symbol: str, side: str, quantity: Decimal, price: Decimal, client_id: str
    ) -> SpotOrder:
        """Rest the pending LIMIT order of an OTO order list placed outside the adapter
        (in the Binance app): status PENDING_NEW until the list's working order fills,
        listed by openOrders and cancellable, never matched (spec: PENDING_NEW)."""
        placed = self.book.submit(
            symbol=symbol,
            side=side,
            kind="LIMIT",
            quantity=quantity,
            price=price,
            client_id=client_id,
        )
        assert placed.status == "NEW", "the pending order must not cross the market"
        placed.status = "PENDING_NEW"
        return placed

    def set_klines(self, symbol: str, interval: str, rows: list[list[Any]]) -> None:
        """Serve ``rows`` (Binance's 12-field kline arrays) for ``symbol`` and ``interval``."""
        self.klines[(symbol, interval)] = sorted(rows, key=lambda r: int(r[0]))

    def venue_record(self) -> dict[str, dict[str, Any]]:
        """Return the latest order per client order ID: status, filled, quantity."""
        return self.book.record()

    def server_ms(self) -> int:
        """Return the server clock in milliseconds."""
        return now_ms() + self.time_offset_ms

    # HTTP plumbing ----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        method, path = request.method, request.path
        if path.startswith(("/ws-api/", "/ws/")):
            return await handler(request)
        self.requests.append((method, path))
        weight = request_weight(method, path, request.rel_url.query)
        self._weight += weight
        if self._over_limit(weight):
            self.weight_refusals += 1
            return self._json(
                request,
                {
                    "code": -1003,
                    "msg": "Too much request weight used; current limit is "
                    f"{self.weight_limit_per_s} request weight per 1 SECOND. Please use "
                    "WebSocket Streams for live updates to avoid polling the API.",
                },
                429,
                {"Retry-After": "1"},
            )
        write = path.endswith("/order") and method in ("POST", "DELETE")
        fault = self.faults.draw(method, path, write=write)
        retry = {"Retry-After": str(self.faults.faults.retry_after_s)}
        if fault == "429":
            return self._json(
                request,
                {
                    "code": -1003,
                    "msg": "Too many requests; current limit of IP(127.0.0.1) is 6000 requests "
                    "per minute. Please use WebSocket Streams for live updates to avoid "
                    "polling the API.",
                },
                429,
                retry,
            )
        if fault == "418":
            until = self.server_ms() + 1000 * self.faults.faults.retry_after_s
            return self._json(
                request,
                {
                    "code": -1003,
                    "msg": f"Way too many requests; IP(127.0.0.1) banned until {until}. Please "
                    "use WebSocket Streams for live updates to avoid bans.",
                },
                418,
                retry,
            )
        if fault == "5xx":
            return self._server_error(request, len(self.faults.applied))
        if fault == "timeout":
            await self.faults.hang()
            return web.Response(status=504, text="<html>504 Gateway Time-out</html>")
        try:
            response = await handler(request)
        except BinanceError as exc:
            response = self._json(request, exc.body, exc.status)
        except web.HTTPException:
            raise
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.errors.append(f"{method} {path}: {exc!r}")
            response = self._json(request, {"code": -1000, "msg": f"fake failed: {exc!r}"}, 500)
        if fault == "5xx_applied":
            return self._json(
                request,
                {
                    "code": -1001,
                    "msg": "Internal error; unable to process your request. Please try again.",
                },
                500,
            )
        if fault == "drop":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp abandons the request: no answer at all
        if isinstance(response, web.Response) and response.text is not None:
            rewritten = self.faults.rewrite(method, path, response.text)
            if rewritten != response.text:
                response = web.Response(
                    text=rewritten, status=response.status, content_type="application/json"
                )
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._weight)
        return response

    def busiest_window(self, seconds: float = 1.0, *, weighted: bool = True) -> int:
        """Return the most request weight (or requests) seen in any window of ``seconds``."""
        best = total = start = 0
        hits = self.hits
        for end in range(len(hits)):
            total += hits[end][1] if weighted else 1
            while hits[end][0] - hits[start][0] >= seconds:
                total -= hits[start][1] if weighted else 1
                start += 1
            best = max(best, total)
        return best

    def _over_limit(self, weight: int) -> bool:
        now = time.monotonic()
        self.hits.append((now, weight))
        self._window.append((now, weight))
        self._window_weight += weight
        while self._window and self._window[0][0] <= now - 1.0:
            self._window_weight -= self._window.popleft()[1]
        limit = self.weight_limit_per_s
        return limit is not None and self._window_weight > limit

    def _server_error(self, request: web.Request, n: int) -> web.Response:
        variant = n % 3
        if variant == 0:
            return self._json(
                request,
                {
                    "code": -1001,
                    "msg": "Internal error; unable to process your request. Please try again.",
                },
                500,
            )
        if variant == 1:
            return web.Response(
                status=502,
                text="<html><body>502 Bad Gateway</body></html>",
                content_type="text/html",
            )
        return self._json(
            request,
            {
                "code": -1008,
                "msg": "Spot server is currently overloaded with other requests. "
                "Please try again in a few minutes.",
            },
            503,
        )

    def _json(
        self,
        request: web.Request,
        body: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self.recorded.append(Recorded(request.method, request.path, status, body))
        return web.Response(
            text=json.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    async def _params(self, request: web.Request, *, signed: bool) -> dict[str, str]:
        query = request.rel_url.raw_query_string
        body = await request.text() if request.method in ("POST", "PUT", "DELETE") else ""
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        self.sent.append((request.method, request.path, dict(params)))
        if signed:
            self._verify(request, query, body, params)
        return params

    def _verify(self, request: web.Request, query: str, body: str, params: dict[str, str]) -> None:
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise BinanceError(401, -2014, "API-key format invalid.")
        if key != self.api_key:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        signature = params.get("signature")
        if not signature:
            raise missing("signature")
        payload = without_signature(query) + without_signature(body)
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        timestamp = int_param(params, "timestamp")
        window = int(params.get("recvWindow") or 5000)
        if window > RECV_WINDOW_MAX or window <= 0:
            raise BinanceError(400, -1131, "recvWindow must be less than 60000")
        server = self.server_ms()
        if timestamp > server + 1000:
            raise BinanceError(
                400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if server - timestamp > window:
            raise BinanceError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )

    async def _user_data_stream(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=False)
        if request.method == "POST":
            body = self.stream.new_listen_key(request.headers.get("X-MBX-APIKEY"))
        else:
            body = self.stream.keep_listen_key(
                params.get("listenKey"), close=request.method == "DELETE"
            )
        status = 200 if "code" not in body else 401 if body["code"] == -2015 else 400
        return self._json(request, body, status)

    def _market(self, params: dict[str, str]) -> SpotMarket:
        symbol = params.get("symbol")
        if not symbol:
            raise missing("symbol")
        market = self.book.markets.get(symbol)
        if market is None:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return market

    # Public endpoints -------------------------------------------------------------------

    async def _ping(self, request: web.Request) -> web.Response:
        return self._json(request, {})

    async def _time(self, request: web.Request) -> web.Response:
        return self._json(request, {"serverTime": self.server_ms()})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        symbols = [
            symbol_info(m) | {"status": self.symbol_status.get(m.symbol, "TRADING")}
            for m in self.book.markets.values()
        ]
        return self._json(
            request,
            {
                "timezone": "UTC",
                "serverTime": self.server_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "SECOND",
                        "intervalNum": 10,
                        "limit": 100,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "DAY",
                        "intervalNum": 1,
                        "limit": 200000,
                    },
                ],
                "exchangeFilters": [],
                "symbols": symbols,
            },
        )

    async def _depth(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=False)
        market = self._market(params)
        quote = self.book.quotes.get(market.symbol)
        bids = [[fmt(quote.bid), fmt(quote.bid_size)]] if quote else []
        asks = [[fmt(quote.ask), fmt(quote.ask_size)]] if quote else []
        return self._json(request, {"lastUpdateId": self._update_id, "bids": bids, "asks": asks})

    def _book_entry(self, market: SpotMarket) -> Json:
        quote = self.book.quotes.get(market.symbol)
        return {
            "symbol": market.symbol,
            "bidPrice": fmt(quote.bid if quote else None),
            "bidQty": fmt(quote.bid_size if quote else None),
            "askPrice": fmt(quote.ask if quote else None),
            "askQty": fmt(quote.ask_size if quote else None),
        }

    async def _book_ticker(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=False)
        if params.get("symbol"):
            return self._json(request, self._book_entry(self._market(params)))
        return self._json(request, [self._book_entry(m) for m in self.book.markets.values()])

    async def _ticker_24hr(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=False)
        market = self._market(params)
        entry = self._book_entry(market)
        quote = self.book.quotes.get(market.symbol)
        last = (quote.bid + quote.ask) / 2 if quote else Decimal(0)
        now = self.server_ms()
        entry.update(
            {
                "priceChange": fmt(Decimal(0)),
                "priceChangePercent": "0.000",
                "weightedAvgPrice": fmt(last),
                "prevClosePrice": fmt(last),
                "lastPrice": fmt(last),
                "lastQty": fmt(Decimal(0)),
                "openPrice": fmt(last),
                "highPrice": fmt(last),
                "lowPrice": fmt(last),
                "volume": fmt(Decimal(0)),
                "quoteVolume": fmt(Decimal(0)),
                "openTime": now - 86_400_000,
                "closeTime": now,
                "firstId": -1,
                "lastId": -1,
                "count": 0,
            }
        )
        return self._json(request, entry)

    async def _klines(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=False)
        market = self._market(params)
        interval = params.get("interval")
        if not interval:
            raise missing("interval")
        start = int(params.get("startTime") or 0)
        end = int(params.get("endTime") or 2**62)
        limit = min(int(params.get("limit") or 500), 1000)
        rows = [
            r for r in self.klines.get((market.symbol, interval), []) if start <= int(r[0]) <= end
        ]
        return self._json(request, rows[:limit])

    # Signed endpoints -------------------------------------------------------------------

    async def _account(self, request: web.Request) -> web.Response:
        await self._params(request, signed=True)
        assets = sorted(set(self.book.free) | set(self.book.locked))
        return self._json(
            request,
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": "0.00100000",
                    "taker": "0.00100000",
                    "buyer": "0.00000000",
                    "seller": "0.00000000",
                },
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": self.server_ms(),
                "accountType": "SPOT",
                "balances": [
                    {
                        "asset": a,
                        "free": fmt(self.book.free.get(a)),
                        "locked": fmt(self.book.locked.get(a)),
                    }
                    for a in assets
                ],
                "permissions": ["SPOT"],
                "uid": 354937868,
            },
        )

    async def _new_order(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=True)
        market = self._market(params)
        side = params.get("side") or ""
        if not side:
            raise missing("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1117, "Invalid side.")
        kind = params.get("type") or ""
        if not kind:
            raise missing("type")
        if kind not in ORDER_TYPES:
            raise BinanceError(400, -1116, "Invalid orderType.")
        quantity = decimal_param(params, "quantity", required=True)
        assert quantity is not None
        price = decimal_param(params, "price")
        stop = decimal_param(params, "stopPrice")
        tif = params.get("timeInForce")
        needs_price = kind in ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        needs_tif = kind in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        needs_stop = kind in ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
        for name, value, needed in (
            ("price", price, needs_price),
            ("timeInForce", tif, needs_tif),
            ("stopPrice", stop, needs_stop),
        ):
            if needed and value is None:
                raise missing(name)
            if value is not None and not needed:
                raise not_required(name)
        if tif is not None and tif not in ("GTC", "IOC", "FOK"):
            raise BinanceError(400, -1115, "Invalid timeInForce.")
        client_id = params.get("newClientOrderId") or generated_id()
        if not CLIENT_ID.fullmatch(client_id):
            raise BinanceError(
                400,
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        book_kind = "LIMIT" if kind == "LIMIT_MAKER" else kind
        try:
            order = self.book.submit(
                symbol=market.symbol,
                side=side,
                kind=book_kind,
                quantity=quantity,
                price=price,
                stop_price=stop,
                tif=tif or "GTC",
                post_only=kind == "LIMIT_MAKER",
                client_id=client_id,
                iceberg_qty=decimal_param(params, "icebergQty"),
            )
        except BookReject as exc:
            status, code, msg = REJECTS[exc.reason]
            raise BinanceError(status, code, msg) from exc
        default = "FULL" if kind in ("MARKET", "LIMIT") else "ACK"
        shape = params.get("newOrderRespType") or default
        ack: Json = {
            "symbol": order.symbol,
            "orderId": int(order.oid),
            "orderListId": -1,
            "clientOrderId": order.client_id,
            "transactTime": order.created_ms,
        }
        if shape == "ACK":
            return self._json(request, ack)
        result = {
            **ack,
            **order_fields(order, kind),
            "workingTime": order.created_ms,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        if shape == "FULL":
            result["fills"] = [fill_entry(t) for t in self.book.trades if t.oid == order.oid]
        return self._json(request, result)

    def _find(self, params: dict[str, str], *, open_only: bool) -> SpotOrder:
        market = self._market(params)
        order_id = params.get("orderId")
        client_id = params.get("origClientOrderId")
        found: SpotOrder | None = None
        if order_id:
            found = self.book.orders.get(order_id)
        elif client_id:
            found = (self.book.open_by_client(client_id) if open_only else None) or (
                self.book.latest_by_client(client_id)
            )
        else:
            raise BinanceError(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        if found is None or found.symbol != market.symbol:
            if open_only:
                raise BinanceError(400, -2011, "Unknown order sent.")
            raise BinanceError(400, -2013, "Order does not exist.")
        return found

    async def _get_order(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=True)
        order = self._find(params, open_only=False)
        return self._json(request, order_details(order))

    async def _cancel_order(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=True)
        order = self._find(params, open_only=True)
        try:
            self.book.cancel(order)
        except BookReject as exc:
            raise BinanceError(400, -2011, "Unknown order sent.") from exc
        return self._json(
            request,
            {
                "symbol": order.symbol,
                "origClientOrderId": order.client_id,
                "orderId": int(order.oid),
                "orderListId": -1,
                "clientOrderId": params.get("newClientOrderId") or generated_id(),
                "transactTime": order.updated_ms,
                **order_fields(order, wire_type(order)),
                "selfTradePreventionMode": "EXPIRE_MAKER",
            },
        )

    async def _open_orders(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=True)
        symbol = self._market(params).symbol if params.get("symbol") else None
        return self._json(request, [order_details(o) for o in self.book.open_orders(symbol)])

    async def _my_trades(self, request: web.Request) -> web.Response:
        params = await self._params(request, signed=True)
        market = self._market(params)
        limit = min(int(params.get("limit") or 500), 1000)
        trades = [t for t in self.book.trades if t.symbol == market.symbol]
        if params.get("orderId"):
            trades = [t for t in trades if t.oid == params["orderId"]]
        if params.get("fromId"):
            trades = [t for t in trades if int(t.tid) >= int(params["fromId"])]
        start = int(params.get("startTime") or 0)
        end = int(params.get("endTime") or 2**62)
        trades = [t for t in trades if start <= t.time_ms <= end]
        return self._json(request, [my_trade(t, self.book.orders[t.oid]) for t in trades[:limit]])


_WEIGHTS = {
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/ticker/bookTicker"): 2,
    ("GET", "/api/v3/ticker/24hr"): 2,
    ("GET", "/api/v3/account"): 20,
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/openOrders"): 6,
    ("GET", "/api/v3/myTrades"): 20,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}


def request_weight(method: str, path: str, query: Any) -> int:
    """Return Binance's REQUEST_WEIGHT of a request (spot API documentation)."""
    if path == "/api/v3/depth":
        limit = int(query.get("limit") or 100) if str(query.get("limit") or "1").isdigit() else 100
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if path == "/api/v3/openOrders" and not query.get("symbol"):
        return 80
    if path == "/api/v3/myTrades" and query.get("orderId"):
        return 5
    return _WEIGHTS.get((method, path), 1)
