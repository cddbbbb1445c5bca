"""A local fake of Alpaca that speaks its real wire protocols, for the official SDK.

One aiohttp server on 127.0.0.1 (a free port) serves:

* the Trading API v2 (REST, JSON): account, positions, orders (create, list, get by
  ID and by client order ID, replace, cancel one or all) and FILL account activities;
* the Market Data API v2 (REST, JSON): latest quotes and bars of stocks;
* the trade_updates WebSocket (``/stream``): ``authenticate`` (or ``auth``), ``listen``,
  then trade update messages in binary frames of JSON, as the paper endpoint sends;
* the stock market data WebSocket (``/v2/iex``, ``/v2/sip``): msgpack (or JSON) frames,
  ``connected``, ``auth``, ``subscribe``, then ``q`` quote messages.

Every REST request must carry ``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY`` (else
401). Faults can be injected one by one (``inject``) or drawn at random from a seeded
``FaultPlan``: 5xx before applying, a response delayed past the client's timeout, a
request applied whose response is dropped or replaced by a 5xx, 429 with Retry-After,
and corrupt answers (malformed JSON, an unknown status, a negative ``filled_qty``). The
plan also drops trade_updates fill messages and disconnects the trade_updates stream
periodically. Requests over the configured rate limits (per minute, as Alpaca documents
it, and optionally per second) are answered 429 with Retry-After; the arrival time of
every REST request is recorded so that a test can check the budget was never exceeded.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import contextlib
import json
import random
import re
import socket
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information
from aiohttp import WSMsgType, web

from venues.fakes.alpaca_account import (
    ApiRejection,
    FakeAccount,
    FakeOrder,
    invalid,
    rfc3339,
)
from venues.fakes.alpaca_faults import Fault, FaultPlan, Injected, corrupt

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_NANOS = 1_000_000_000


@dataclass
class _TradeConnection:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    authorized: bool = False
    listening: bool = False


@dataclass
class _DataConnection:
    ws: web.WebSocketResponse
    binary: bool
    authorized: bool = False
    quotes: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class FakeBar:
    """A one-minute trade bar the fake serves (and aggregates to longer timeframes)."""

    ts_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


_TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W)$")
_UNIT_S = {
    "Min": 60,
    "T": 60,
    "Hour": 3600,
    "H": 3600,
    "Day": 86400,
    "D": 86400,
    "Week": 604800,
    "W": 604800,
}


def _parse_time(value: str, name: str) -> int:
    """Parse RFC 3339, a naive ISO time (UTC, as the SDK sends) or a date into ns."""
    raw = value.strip().replace("z", "Z")
    fraction = 0
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d{1,9})(.*)$", raw)
    if match:
        raw = match.group(1) + match.group(3)
        fraction = int(match.group(2).ljust(9, "0"))
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"invalid {name}: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * _NANOS + fraction


def _number(value: Decimal) -> float:
    return float(value)


class FakeAlpaca:
    """The fake venue: start it, point the SDK at ``base_url`` and the stream URLs."""

    def __init__(
        self,
        *,
        api_key: str = "PKFAKEKEY0000000001",
        secret_key: str = "fake-secret-key",
        symbols: Iterable[str] = ("SPY", "QQQ", "AAPL"),
        cash: Decimal = Decimal(100_000),
        faults: FaultPlan | None = None,
        timeout_delay_s: float = 1.0,
        retry_after_s: int = 2,
        rate_limit_per_minute: int | None = None,
        rate_limit_per_second: int | None = None,
        bars_page_limit: int = 10_000,
    ) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.account = FakeAccount(frozenset(symbols), cash=cash)
        self.account.sink = self._publish_trade_update
        self.faults = faults or FaultPlan()
        self._random = random.Random(self.faults.seed)
        self._stream_random = random.Random(self.faults.seed + 1)
        self.timeout_delay_s = timeout_delay_s
        self.retry_after_s = retry_after_s
        self.rate_limit_per_minute = rate_limit_per_minute
        self.rate_limit_per_second = rate_limit_per_second
        self._windows: dict[float, deque[float]] = {60.0: deque(), 1.0: deque()}
        self.request_times: list[float] = []
        """The arrival time (``time.monotonic()``) of every REST request."""
        self.rate_limited = 0
        """How many requests were refused for exceeding a rate limit (not planned faults)."""
        self.dropped_fill_updates = 0
        self.planned_faults: Counter[Fault] = Counter()
        """How many times each fault of the ``FaultPlan`` was drawn."""
        self.stream_disconnects = 0
        self._disconnector: asyncio.Task[None] | None = None
        self._injected: list[Injected] = []
        self._stream_corruptions: list[str] = []
        self.requests: list[tuple[str, str]] = []
        """Every REST request received, as (method, path)."""
        self.foreign_open_orders: list[dict[str, Any]] = []
        """Open orders placed outside the fake's order model (as Alpaca order objects, a
        notional order for example), listed by GET /v2/orders with the open ones."""
        self.bars: dict[str, list[FakeBar]] = {}
        self.bars_page_limit = bars_page_limit
        self.streams_available = True
        """When False, WebSocket handshakes are refused with 503 (an outage)."""
        self._trade_connections: list[_TradeConnection] = []
        self._data_connections: list[_DataConnection] = []
        self._runner: web.AppRunner | None = None
        # Bound now, so that the URLs are known before start() (the adapter's config
        # is frozen); the server accepts on it once started.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    # Lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on the socket bound at construction (127.0.0.1, a free port)."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/v2/account", self._get_account)
        app.router.add_get("/v2/positions", self._get_positions)
        app.router.add_post("/v2/orders", self._post_order)
        app.router.add_get("/v2/orders", self._list_orders)
        app.router.add_delete("/v2/orders", self._cancel_all)
        app.router.add_get("/v2/orders:by_client_order_id", self._get_by_client_id)
        app.router.add_get("/v2/orders/{order_id}", self._get_order)
        app.router.add_patch("/v2/orders/{order_id}", self._replace_order)
        app.router.add_delete("/v2/orders/{order_id}", self._cancel_order)
        app.router.add_get("/v2/account/activities/FILL", self._fill_activities)
        app.router.add_get("/v2/account/activities", self._activities)
        app.router.add_get("/v2/stocks/quotes/latest", self._latest_quotes)
        app.router.add_get("/v2/stocks/{symbol}/quotes/latest", self._latest_quote)
        app.router.add_get("/v2/stocks/bars", self._bars)
        app.router.add_get("/v2/stocks/{symbol}/bars", self._symbol_bars)
        app.router.add_get("/stream", self._trade_stream)
        app.router.add_get("/v2/{feed:iex|sip|delayed_sip|test}", self._data_stream)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()
        self._disconnector = asyncio.get_running_loop().create_task(self._disconnect_periodically())

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._disconnector is not None:
            self._disconnector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._disconnector
            self._disconnector = None
        await self.drop_streams()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._socket.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    @property
    def data_stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/iex"

    # Test controls --------------------------------------------------------------------

    def configure(self, plan: FaultPlan) -> None:
        """Switch to ``plan``, reseeding the random draws from its seed."""
        self.faults = plan
        self._random = random.Random(plan.seed)
        self._stream_random = random.Random(plan.seed + 1)

    def max_requests_in_window(self, window_s: float = 1.0) -> int:
        """Return the most REST requests that arrived within any ``window_s`` seconds."""
        times = self.request_times
        most = 0
        first = 0
        for last, arrival in enumerate(times):
            while arrival - times[first] >= window_s:
                first += 1
            most = max(most, last - first + 1)
        return most

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
        status: int = 500,
    ) -> None:
        """Apply ``fault`` to the next ``count`` REST requests matching method and path."""
        self._injected.append(Injected(fault, method, path, count, status))

    def corrupt_next_trade_update(self, kind: Fault) -> None:
        """Corrupt the next trade_updates message (MALFORMED_JSON, UNKNOWN_STATUS, ...)."""
        self._stream_corruptions.append(kind)

    async def set_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal | None = None,
        ask_size: Decimal | None = None,
    ) -> None:
        """Set the quote, match orders, and publish it on the market data stream."""
        self.account.set_quote(symbol, bid, ask, bid_size, ask_size)
        message = self._quote_json(symbol)
        for conn in list(self._data_connections):
            if conn.authorized and (symbol in conn.quotes or "*" in conn.quotes):
                message_out = (
                    {
                        **message,
                        "t": msgpack.Timestamp.from_unix_nano(self.account.quotes[symbol].ts),
                    }
                    if conn.binary
                    else message
                )
                await self._send_data(conn, [message_out])
        await asyncio.sleep(0)

    def add_bars(self, symbol: str, bars: Iterable[FakeBar]) -> None:
        """Add one-minute bars for ``symbol`` (kept sorted by time)."""
        self.bars.setdefault(symbol, []).extend(bars)
        self.bars[symbol].sort(key=lambda bar: bar.ts_ns)

    def record(self) -> dict[str, dict[str, Any]]:
        """Return the venue's record of every order, by client order ID."""
        return {
            order.client_order_id: {
                "status": order.status,
                "filled": order.filled_qty,
                "quantity": order.qty,
                "id": order.id,
            }
            for order in self.account.orders.values()
        }

    async def drop_streams(self) -> None:
        """Close every WebSocket connection (clients see a dropped connection)."""
        await self.drop_trade_streams()
        for data in list(self._data_connections):
            await data.ws.close()

    async def drop_trade_streams(self) -> None:
        """Close every trade_updates connection (clients see a dropped connection)."""
        for trade in list(self._trade_connections):
            trade.queue.put_nowait(None)
            await trade.ws.close()

    async def _disconnect_periodically(self) -> None:
        while True:
            every = self.faults.disconnect_streams_every_s
            await asyncio.sleep(every if every > 0 else 0.05)
            if every > 0 and self.faults.disconnect_streams_every_s > 0:
                if self._trade_connections:
                    self.stream_disconnects += 1
                await self.drop_trade_streams()

    def quote_subscribers(self, symbol: str) -> int:
        """Return how many market data connections receive quotes of ``symbol``."""
        return sum(1 for c in self._data_connections if c.authorized and symbol in c.quotes)

    def listening_connections(self) -> int:
        """Return how many trade_updates connections are authorized and listening."""
        return sum(1 for c in self._trade_connections if c.authorized and c.listening)

    # Middleware: auth, rate limit, faults --------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.path in ("/stream",)
            or request.path.startswith("/v2/iex")
            or (request.path in ("/v2/sip", "/v2/test", "/v2/delayed_sip"))
        ):
            return await handler(request)
        self.requests.append((request.method, request.path))
        self.request_times.append(time.monotonic())
        if (
            request.headers.get("APCA-API-KEY-ID") != self.api_key
            or request.headers.get("APCA-API-SECRET-KEY") != self.secret_key
        ):
            return web.json_response(
                {"code": 40110000, "message": "request is not authorized"}, status=401
            )
        fault, status = self._next_fault(request)
        if fault is None and self._rate_limited():
            fault = Fault.RATE_LIMIT
        if fault is Fault.RATE_LIMIT:
            return web.json_response(
                {"code": 42910000, "message": "rate limit exceeded"},
                status=429,
                headers={
                    "Retry-After": str(self.retry_after_s),
                    "X-RateLimit-Limit": str(self.rate_limit_per_minute or 200),
                    "X-RateLimit-Remaining": "0",
                },
            )
        if fault is Fault.ERROR:
            return web.json_response(
                {"code": 50010000, "message": "internal server error"}, status=status
            )
        response = await self._handle(request, handler)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.timeout_delay_s)
        elif fault is Fault.DROP:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp abandons the request: no response
        elif fault is Fault.APPLY_THEN_ERROR:
            return web.json_response(
                {"code": 50010000, "message": "internal server error"}, status=status
            )
        elif fault in (Fault.MALFORMED_JSON, Fault.UNKNOWN_STATUS, Fault.NEGATIVE_FILLED):
            return corrupt(response, fault)
        return response

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiRejection as exc:
            return web.json_response(exc.body, status=exc.status)

    def _next_fault(self, request: web.Request) -> tuple[Fault | None, int]:
        for injected in self._injected:
            if (injected.method is None or injected.method == request.method) and (
                injected.path is None or request.path.startswith(injected.path)
            ):
                injected.remaining -= 1
                if injected.remaining <= 0:
                    self._injected.remove(injected)
                return injected.fault, injected.status
        plan = self.faults
        draw = self._random.random()
        for fault, probability in (
            (Fault.ERROR, plan.error),
            (Fault.TIMEOUT, plan.timeout),
            (Fault.DROP, plan.drop),
            (Fault.APPLY_THEN_ERROR, plan.apply_then_error),
            (Fault.RATE_LIMIT, plan.rate_limit),
        ):
            if draw < probability:
                self.planned_faults[fault] += 1
                return fault, self._random.choice((500, 502, 503, 504))
            draw -= probability
        return None, 500

    def _rate_limited(self) -> bool:
        now = time.monotonic()
        limits = [
            (window_s, limit)
            for window_s, limit in (
                (60.0, self.rate_limit_per_minute),
                (1.0, self.rate_limit_per_second),
            )
            if limit is not None
        ]
        for window_s, limit in limits:
            window = self._windows[window_s]
            while window and now - window[0] >= window_s:
                window.popleft()
            if len(window) >= limit:
                self.rate_limited += 1
                return True
        for window_s, _ in limits:
            self._windows[window_s].append(now)
        return False

    # Trading REST ---------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise invalid("request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise invalid("request body must be a JSON object")
        return body

    async def _get_account(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.account_json())

    async def _get_positions(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.positions_json())

    async def _post_order(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        order = self.account.submit(body)
        snapshot = order.to_json()  # Alpaca answers with the order as it was acknowledged
        self.account.work(order)
        return web.json_response(snapshot)

    async def _get_order(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.get(request.match_info["order_id"]).to_json())

    async def _get_by_client_id(self, request: web.Request) -> web.Response:
        client_order_id = request.query.get("client_order_id", "")
        return web.json_response(self.account.by_client_id(client_order_id).to_json())

    async def _list_orders(self, request: web.Request) -> web.Response:
        query = request.query
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise invalid(f"invalid status: {status}")
        limit = min(int(query.get("limit", "50")), 500)
        after = _parse_time(query["after"], "after") if "after" in query else None
        until = _parse_time(query["until"], "until") if "until" in query else None
        symbols = set(query["symbols"].split(",")) if query.get("symbols") else None
        orders: list[FakeOrder] = []
        for order in self.account.orders.values():
            if (status == "open" and not order.is_open) or (status == "closed" and order.is_open):
                continue
            if after is not None and order.created_ns <= after:
                continue
            if until is not None and order.created_ns >= until:
                continue
            if symbols is not None and order.symbol not in symbols:
                continue
            orders.append(order)
        orders.sort(key=lambda o: o.created_ns, reverse=query.get("direction", "desc") == "desc")
        listed = [order.to_json() for order in orders[:limit]]
        if status != "closed" and after is None:
            listed = [*self.foreign_open_orders, *listed][:limit]
        return web.json_response(listed)

    async def _replace_order(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        order = self.account.replace(request.match_info["order_id"], body)
        snapshot = order.to_json()
        self.account.work(order)
        return web.json_response(snapshot)

    async def _cancel_order(self, request: web.Request) -> web.Response:
        self.account.cancel(request.match_info["order_id"])
        return web.Response(status=204)

    async def _cancel_all(self, request: web.Request) -> web.Response:
        results = []
        for order in list(self.account.orders.values()):
            if order.is_open:
                self.account.cancel(order.id)
                results.append({"id": order.id, "status": 200, "body": order.to_json()})
        return web.json_response(results, status=207)

    async def _fill_activities(self, request: web.Request) -> web.Response:
        return self._activity_page(request)

    async def _activities(self, request: web.Request) -> web.Response:
        types = request.query.get("activity_types", "FILL").split(",")
        if "FILL" not in types:
            return web.json_response([])
        return self._activity_page(request)

    def _activity_page(self, request: web.Request) -> web.Response:
        query = request.query
        after = _parse_time(query["after"], "after") if "after" in query else None
        until = _parse_time(query["until"], "until") if "until" in query else None
        direction = query.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise invalid(f"invalid direction: {direction}")
        page_size = int(query.get("page_size", "100"))
        if not 1 <= page_size <= 100:
            raise invalid("page_size must be between 1 and 100")
        times = self.account.activity_ns
        first = 0 if after is None else bisect.bisect_right(times, after)
        end = len(times) if until is None else bisect.bisect_left(times, until)
        items = self.account.activities[first:end]
        if direction == "desc":
            items.reverse()
        token = query.get("page_token")
        if token:
            ids = [item["id"] for item in items]
            items = items[ids.index(token) + 1 :] if token in ids else []
        return web.json_response(items[:page_size])

    # Market data REST -----------------------------------------------------------------

    def _quote_json(self, symbol: str) -> dict[str, Any]:
        quote = self.account.quotes[symbol]
        return {
            "T": "q",
            "S": symbol,
            "bx": "V",
            "bp": _number(quote.bid),
            "bs": _number(quote.bid_size) if quote.bid_size is not None else 100,
            "ax": "V",
            "ap": _number(quote.ask),
            "as": _number(quote.ask_size) if quote.ask_size is not None else 100,
            "c": ["R"],
            "z": "B",
            "t": rfc3339(quote.ts),
        }

    def _rest_quote(self, symbol: str) -> dict[str, Any]:
        quote = self._quote_json(symbol)
        return {k: v for k, v in quote.items() if k not in ("T", "S")}

    async def _latest_quotes(self, request: web.Request) -> web.Response:
        symbols = [s for s in request.query.get("symbols", "").split(",") if s]
        if not symbols:
            raise ApiRejection(400, 40010001, "symbols is required")
        quotes = {s: self._rest_quote(s) for s in symbols if s in self.account.quotes}
        return web.json_response({"quotes": quotes})

    async def _latest_quote(self, request: web.Request) -> web.Response:
        symbol = request.match_info["symbol"]
        if symbol not in self.account.quotes:
            raise ApiRejection(404, 40410000, f"no quote found for {symbol}")
        return web.json_response({"symbol": symbol, "quote": self._rest_quote(symbol)})

    def _bar_rows(self, symbol: str, query: Any) -> tuple[list[dict[str, Any]], str | None]:
        match = _TIMEFRAME.match(query.get("timeframe", ""))
        if match is None:
            raise invalid(f"invalid timeframe: {query.get('timeframe')!r}")
        interval_ns = int(match.group(1)) * _UNIT_S[match.group(2)] * _NANOS
        start = _parse_time(query["start"], "start") if "start" in query else 0
        end = _parse_time(query["end"], "end") if "end" in query else 2**63
        buckets: dict[int, list[FakeBar]] = {}
        for bar in self.bars.get(symbol, []):
            if start <= bar.ts_ns <= end:
                buckets.setdefault(bar.ts_ns - bar.ts_ns % interval_ns, []).append(bar)
        rows = [
            {
                "t": rfc3339(ts).replace(".000000Z", "Z"),
                "o": _number(group[0].open),
                "h": _number(max(b.high for b in group)),
                "l": _number(min(b.low for b in group)),
                "c": _number(group[-1].close),
                "v": _number(sum((b.volume for b in group), Decimal(0))),
                "n": len(group),
                "vw": _number(group[-1].close),
            }
            for ts, group in sorted(buckets.items())
        ]
        offset = int(base64.b64decode(query["page_token"])) if query.get("page_token") else 0
        limit = min(int(query.get("limit") or 1000), self.bars_page_limit)
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return page, base64.b64encode(str(offset + limit).encode()).decode() if more else None

    async def _bars(self, request: web.Request) -> web.Response:
        symbols = [s for s in request.query.get("symbols", "").split(",") if s]
        if len(symbols) != 1:
            raise invalid("this fake serves bars of exactly one symbol per request")
        rows, token = self._bar_rows(symbols[0], request.query)
        return web.json_response(
            {"bars": {symbols[0]: rows} if rows else {}, "next_page_token": token}
        )

    async def _symbol_bars(self, request: web.Request) -> web.Response:
        symbol = request.match_info["symbol"]
        rows, token = self._bar_rows(symbol, request.query)
        return web.json_response({"bars": rows, "symbol": symbol, "next_page_token": token})

    # trade_updates WebSocket ----------------------------------------------------------

    def _publish_trade_update(self, data: dict[str, Any]) -> None:
        if (
            data["event"] in ("fill", "partial_fill")
            and self._stream_random.random() < self.faults.drop_fill_updates
        ):
            self.dropped_fill_updates += 1
            return
        message = {"stream": "trade_updates", "data": data}
        frame = json.dumps(message).encode()
        if self._stream_corruptions:
            kind = self._stream_corruptions.pop(0)
            if kind is Fault.MALFORMED_JSON:
                frame = b'{"stream": "trade_updates", "data": {'
            else:
                field_name, value = (
                    ("status", "teleported")
                    if kind is Fault.UNKNOWN_STATUS
                    else ("filled_qty", "-1")
                )
                broken = json.loads(frame)
                broken["data"]["order"][field_name] = value
                frame = json.dumps(broken).encode()
        for conn in self._trade_connections:
            if conn.authorized and conn.listening:
                conn.queue.put_nowait(frame)

    async def _trade_stream(self, request: web.Request) -> web.StreamResponse:
        if not self.streams_available:
            return web.Response(status=503, text="stream unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _TradeConnection(ws)
        self._trade_connections.append(conn)
        writer = asyncio.get_running_loop().create_task(self._write_trade_updates(conn))
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    command = json.loads(message.data)
                except ValueError:
                    await self._send_trade(
                        conn, {"stream": "error", "data": {"error_message": "invalid syntax"}}
                    )
                    continue
                await self._trade_command(conn, command)
        finally:
            self._trade_connections.remove(conn)
            conn.queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _trade_command(self, conn: _TradeConnection, command: Any) -> None:
        action = command.get("action") if isinstance(command, dict) else None
        if action in ("authenticate", "auth"):
            data = command.get("data") or {}
            key = data.get("key_id") if action == "authenticate" else command.get("key")
            secret = data.get("secret_key") if action == "authenticate" else command.get("secret")
            conn.authorized = key == self.api_key and secret == self.secret_key
            status = "authorized" if conn.authorized else "unauthorized"
            await self._send_trade(
                conn,
                {"stream": "authorization", "data": {"action": "authenticate", "status": status}},
            )
            if not conn.authorized:
                await conn.ws.close()
        elif action == "listen" and conn.authorized:
            streams = (command.get("data") or {}).get("streams") or []
            conn.listening = "trade_updates" in streams
            await self._send_trade(
                conn,
                {
                    "stream": "listening",
                    "data": {"streams": ["trade_updates"] if conn.listening else []},
                },
            )
        else:
            await self._send_trade(
                conn, {"stream": "error", "data": {"error_message": "unrecognized request"}}
            )

    @staticmethod
    async def _send_trade(conn: _TradeConnection, message: dict[str, Any]) -> None:
        await conn.ws.send_bytes(json.dumps(message).encode())

    @staticmethod
    async def _write_trade_updates(conn: _TradeConnection) -> None:
        while True:
            frame = await conn.queue.get()
            if frame is None or conn.ws.closed:
                return
            await conn.ws.send_bytes(frame)

    # Market data WebSocket ------------------------------------------------------------

    async def _data_stream(self, request: web.Request) -> web.StreamResponse:
        if not self.streams_available:
            return web.Response(status=503, text="stream unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        binary = request.headers.get("Content-Type") == "application/msgpack"
        conn = _DataConnection(ws, binary)
        self._data_connections.append(conn)
        try:
            await self._send_data(conn, [{"T": "success", "msg": "connected"}])
            async for message in ws:
                if message.type is WSMsgType.BINARY:
                    command = msgpack.unpackb(message.data)
                elif message.type is WSMsgType.TEXT:
                    command = json.loads(message.data)
                else:
                    continue
                await self._data_command(conn, command)
        finally:
            self._data_connections.remove(conn)
        return ws

    async def _data_command(self, conn: _DataConnection, command: Any) -> None:
        action = command.get("action") if isinstance(command, dict) else None
        if action == "auth":
            if command.get("key") == self.api_key and command.get("secret") == self.secret_key:
                conn.authorized = True
                await self._send_data(conn, [{"T": "success", "msg": "authenticated"}])
            else:
                await self._send_data(conn, [{"T": "error", "code": 402, "msg": "auth failed"}])
                await conn.ws.close()
        elif not conn.authorized:
            await self._send_data(conn, [{"T": "error", "code": 401, "msg": "not authenticated"}])
        elif action in ("subscribe", "unsubscribe"):
            symbols = set(command.get("quotes") or [])
            if action == "subscribe":
                conn.quotes |= symbols
            else:
                conn.quotes -= symbols
            await self._send_data(
                conn,
                [
                    {
                        "T": "subscription",
                        "trades": [],
                        "quotes": sorted(conn.quotes),
                        "bars": [],
                        "updatedBars": [],
                        "dailyBars": [],
                        "statuses": [],
                        "lulds": [],
                        "corrections": [],
                        "cancelErrors": [],
                    }
                ],
            )
        else:
            await self._send_data(conn, [{"T": "error", "code": 400, "msg": "invalid syntax"}])

    @staticmethod
    async def _send_data(conn: _DataConnection, messages: list[dict[str, Any]]) -> None:
        if conn.ws.closed:
            return
        if conn.binary:
            await conn.ws.send_bytes(msgpack.packb(messages))
        else:
            await conn.ws.send_str(json.dumps(messages))


__all__ = ["FakeAlpaca", "FakeBar", "Fault", "FaultPlan"]
