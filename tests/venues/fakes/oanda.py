"""A local fake of the OANDA v20 REST and streaming API, in OANDA's real JSON shapes.

It serves one account on 127.0.0.1 (a free port) with uvicorn, as a raw ASGI app so that
faults can be injected at the HTTP level. Both the REST and the streaming endpoints are
on the same server. What it implements, per the v20 spec (basePath /v3):

* ``Authorization: Bearer <token>`` on every request; anything else is 401
  ``{"errorMessage": "Insufficient authorization to perform request."}``. Another
  account ID is 403.
* Orders MARKET, LIMIT, STOP and MARKET_IF_TOUCHED with signed decimal-string units.
  Market orders (FOK or IOC only) fill at once at the ask (buy) or bid (sell); a
  pending order that is marketable when created fills at once at the market; a resting
  LIMIT fills at its limit price when ``set_quote`` crosses it; STOP and MIT fill at the
  market when touched. An unfilled FOK/IOC pending order is cancelled with reason
  ``TIME_IN_FORCE_EXPIRED`` (as is a GTD order past its ``gtdTime``). Orders fill in
  full, unless ``book.ioc_liquidity`` is set (opt-in): an IOC order then fills at most
  that many units and the rest is cancelled (``INSUFFICIENT_LIQUIDITY``). Positions
  are netted per instrument (hedging disabled); ``positionFill`` is recorded but
  REDUCE_ONLY is not enforced.
* An instrument closed with ``set_tradeable(name, False)`` (a weekend, a halt) keeps
  streaming and polling its indicative prices with ``tradeable: false`` (``status:
  non-tradeable``); a market order on it is answered 201 with the order's create and an
  ``ORDER_CANCEL`` with reason ``MARKET_HALTED``, as OANDA does; nothing on it fills
  until it reopens.
* Client order IDs (``clientExtensions.id``) are unique in the account: reusing one
  held by any order, pending or not, is rejected with 400 and an ``*_ORDER_REJECT``
  transaction, ``rejectReason: CLIENT_ORDER_ID_ALREADY_EXISTS``. The one exception is a
  replace, whose replacing order may keep the replaced order's client ID;
  ``@<client ID>`` then names the replacing order.
* Cancel or replace of an order that is not pending is 404 with an
  ``ORDER_CANCEL_REJECT`` transaction (``ORDER_DOESNT_EXIST``); GET of an unknown order
  is 404 ``NO_SUCH_ORDER``.
* Every accepted, rejected, filled or cancelled order is a numbered transaction,
  readable by time (``transactions`` → idrange page URLs), ``idrange`` and ``sinceid``,
  and pushed to the transaction stream. Both streams send newline-delimited JSON with a
  HEARTBEAT every ``heartbeat_s`` seconds (OANDA: 5 s).

Faults, seeded (``Faults``, replaced with ``configure``) or one-shot (``inject``):
``"429"`` (Retry-After), ``"5xx"`` (503, not applied), ``"5xx_applied"`` (applied, then
500), ``"timeout"`` (hang, not applied), ``"drop"`` (applied, then the connection is cut
mid-response); streams end every ``stream_disconnect_every_s`` seconds, or at once with
``disconnect_streams``; ``stream_fill_drop`` of the ORDER_FILL lines on the transaction
stream are never sent (the transaction itself exists).

With ``rate_limit`` the fake also enforces OANDA's documented REST budget (100 requests
per second per connection): a REST request arriving when ``rate_limit`` others arrived
in the trailing second is answered 429 with Retry-After. Every request keeps its arrival
time (``Recorded.ts``, monotonic seconds) so that a test can check the budget itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from .oanda_book import Json, OandaBook, OandaError, now_ns, rfc3339

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

FAULTS = ("429", "5xx", "5xx_applied", "timeout", "drop")


@dataclass
class Faults:
    """Seeded random faults on REST requests (streams are never refused)."""

    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    """Probability per request of each fault in ``FAULTS``."""
    writes_only: bool = False
    retry_after_s: int = 1
    hang_s: float = 30.0
    stream_disconnect_every_s: float | None = None
    stream_fill_drop: float = 0.0
    """Probability that an ORDER_FILL line is left out of a transaction stream."""


@dataclass
class Recorded:
    """One request and the response the fake gave (for conformance checks)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0
    response: Any = None
    stream_lines: list[Json] = field(default_factory=list)
    ts: float = 0.0
    """Arrival time, ``time.monotonic()`` seconds."""


class FakeOanda:
    """The fake venue: an ``OandaBook`` served over HTTP, with faults and streams."""

    def __init__(
        self,
        *,
        account_id: str = "101-004-1234567-001",
        token: str = "fake-oanda-token",
        currency: str = "USD",
        balance: Decimal = Decimal(100_000),
        heartbeat_s: float = 5.0,
        faults: Faults | None = None,
        commission_per_unit: Decimal = Decimal(0),
        rate_limit: int | None = None,
    ) -> None:
        self.book = OandaBook(
            account_id=account_id,
            currency=currency,
            balance=balance,
            commission_per_unit=commission_per_unit,
        )
        self.token = token
        self.heartbeat_s = heartbeat_s
        self.faults = faults or Faults()
        self._random = random.Random(self.faults.seed)
        self._stream_random = random.Random(self.faults.seed + 1)
        self.rate_limit = rate_limit
        self._recent: deque[float] = deque()
        self.rate_limited = 0
        """REST requests refused because the rate limit was exceeded."""
        self.dropped_fills = 0
        """ORDER_FILL lines left out of transaction streams (``stream_fill_drop``)."""
        self.requests: list[Recorded] = []
        self.refuse_streams = False
        self._closing = asyncio.Event()
        """While True, stream requests are answered 503 (a gap in the streams)."""
        self.errors: list[str] = []
        """Exceptions the fake itself raised while answering (a test should see none)."""
        self.pending_faults: deque[tuple[str, frozenset[str]]] = deque()
        self._price_streams: set[asyncio.Queue[Json | None]] = set()
        self._tx_streams: set[asyncio.Queue[Json | None]] = set()
        self.book.transaction_listeners.append(self._publish_transaction)
        self.book.price_listeners.append(self.push_price_line)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.base_url = ""

    def _publish_transaction(self, tx: Json) -> None:
        drop = self.faults.stream_fill_drop
        if tx.get("type") == "ORDER_FILL" and drop and self._stream_random.random() < drop:
            self.dropped_fills += 1
            return
        for queue in self._tx_streams:
            queue.put_nowait(tx)

    # --- lifecycle -----------------------------------------------------------------

    async def start(self) -> str:
        """Serve on a free port of 127.0.0.1; return the base URL."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self, log_level="critical", lifespan="off", http="h11", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
            await asyncio.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """End the streams and hung requests, then stop the server at once."""
        self._closing.set()
        self.disconnect_streams()
        server, task = self._server, self._task
        if server is None or task is None:
            return
        for listener in server.servers:
            listener.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        while server.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.002)
        for running in list(server.server_state.tasks):
            running.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # --- test controls -------------------------------------------------------------

    def inject(
        self, fault: str, count: int = 1, methods: tuple[str, ...] = ("POST", "PUT")
    ) -> None:
        """Make the next ``count`` REST requests with one of ``methods`` fail with ``fault``."""
        assert fault in FAULTS, fault
        self.pending_faults.extend([(fault, frozenset(methods))] * count)

    def configure(self, faults: Faults) -> None:
        """Replace the fault plan and reseed its random choices."""
        self.faults = faults
        self._random = random.Random(faults.seed)
        self._stream_random = random.Random(faults.seed + 1)

    def disconnect_streams(self) -> None:
        """End every open stream now (clients see the stream close)."""
        for queue in (*self._price_streams, *self._tx_streams):
            queue.put_nowait(None)

    def push_price_line(self, line: Json) -> None:
        """Send one raw object on every pricing stream (for malformed-message tests)."""
        for queue in self._price_streams:
            queue.put_nowait(line)

    def push_transaction_line(self, line: Json) -> None:
        """Send one raw object on every transaction stream, recorded nowhere."""
        for queue in self._tx_streams:
            queue.put_nowait(line)

    def add_transaction(self, tx: Json) -> Json:
        """Record a transaction as given (IDs and time added) and stream it."""
        return self.book.record(tx)

    def set_quote(self, instrument: str, bid: Decimal, ask: Decimal) -> None:
        """Set the price of an instrument, stream it, and fill the orders it crosses."""
        self.book.set_quote(instrument, bid, ask)

    def set_tradeable(self, instrument: str, tradeable: bool) -> None:
        """Open or close an instrument for trading and stream a price that says so."""
        self.book.set_tradeable(instrument, tradeable)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        """Return every order by client ID: ``status``, ``filled``, ``quantity``..."""
        return self.book.venue_record()

    # --- HTTP ----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = parse_qs(scope["query_string"].decode())
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode(errors="replace")
        rec = Recorded(scope["method"], scope["path"], query, headers, parsed, ts=time.monotonic())
        self.requests.append(rec)
        if headers.get("authorization") != f"Bearer {self.token}":
            msg = {"errorMessage": "Insufficient authorization to perform request."}
            await self._respond(send, rec, 401, msg)
            return
        if scope["path"].endswith("/stream"):
            if self.refuse_streams:
                await self._respond(send, rec, 503, {"errorMessage": "Service unavailable"})
                return
            await self._stream(scope, receive, send, rec)
            return
        fault = "429" if self._over_limit(rec.ts) else self._fault(scope["method"])
        if fault == "429":
            extra = {"Retry-After": str(self.faults.retry_after_s)}
            msg = {"errorMessage": "Requests are being rate limited"}
            await self._respond(send, rec, 429, msg, extra)
            return
        if fault in ("5xx", "timeout"):
            if fault == "timeout":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.faults.hang_s)
            await self._respond(send, rec, 503, {"errorMessage": "Service unavailable"})
            return
        self.book.expire(now_ns())
        try:
            status, response = self._route(scope["method"], scope["path"], query, parsed, headers)
        except OandaError as exc:
            status, response = exc.status, exc.body
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.errors.append(f"{scope['method']} {scope['path']}: {exc!r}")
            status, response = 500, {"errorMessage": f"fake failed: {exc!r}"}
        if fault == "5xx_applied":
            await self._respond(send, rec, 500, {"errorMessage": "Internal server error"})
        elif fault == "drop":
            rec.status, rec.response = -1, response
            payload = json.dumps(response).encode()
            start = {"type": "http.response.start", "status": status}
            start["headers"] = [(b"content-length", str(len(payload)).encode())]
            await send(start)
            await send({"type": "http.response.body", "body": payload[:3], "more_body": True})
            raise ConnectionAbortedError("fault injection: connection dropped after apply")
        else:
            await self._respond(send, rec, status, response)

    def _over_limit(self, now: float) -> bool:
        if self.rate_limit is None:
            return False
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        self._recent.append(now)
        if len(self._recent) > self.rate_limit:
            self.rate_limited += 1
            return True
        return False

    def _fault(self, method: str) -> str | None:
        for index, (fault, methods) in enumerate(self.pending_faults):
            if method in methods:
                del self.pending_faults[index]
                return fault
        if self.faults.writes_only and method == "GET":
            return None
        for fault in FAULTS:
            rate = self.faults.rates.get(fault, 0.0)
            if rate and self._random.random() < rate:
                return fault
        return None

    async def _respond(
        self,
        send: Send,
        rec: Recorded,
        status: int,
        body: Json,
        extra: dict[str, str] | None = None,
    ) -> None:
        rec.status, rec.response = status, body
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"requestid", b"1" + rec.path[-6:].encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        headers: dict[str, str],
    ) -> tuple[int, Json]:
        candles = re.fullmatch(r"/v3/instruments/([^/]+)/candles", path)
        if candles and method == "GET":
            return 200, self.book.candles(candles.group(1), query)
        match = re.fullmatch(r"/v3/accounts/([^/]+)/(.+)", path)
        if match is None:
            raise OandaError(404, {"errorMessage": f"No such endpoint {path}"})
        if match.group(1) != self.book.account_id:
            raise OandaError(403, {"errorMessage": "The provided request was forbidden."})
        rest = match.group(2)
        last = {"lastTransactionID": self.book.last_id}
        one = {k: v[0] for k, v in query.items()}
        if (method, rest) == ("GET", "summary"):
            return 200, {"account": self.book.summary(), **last}
        if method == "GET" and rest in ("positions", "openPositions"):
            items = [self.book.position_json(i) for i in sorted(self.book.positions)]
            if rest == "openPositions":
                items = [
                    p
                    for i, p in zip(sorted(self.book.positions), items, strict=True)
                    if self.book.positions[i]["units"] != 0
                ]
            return 200, {"positions": items, **last}
        if method == "GET" and rest in ("orders", "pendingOrders"):
            state = "PENDING" if rest == "pendingOrders" else one.get("state", "PENDING")
            found = [o for o in self.book.orders.values() if state in ("ALL", o["state"])]
            if "instrument" in one:
                found = [o for o in found if o["instrument"] == one["instrument"]]
            if "ids" in one:
                found = [o for o in found if o["id"] in one["ids"].split(",")]
            found.sort(key=lambda o: -int(o["id"]))
            return 200, {"orders": found[: int(one.get("count", 50))], **last}
        if (method, rest) == ("POST", "orders"):
            return 201, self.book.create(
                (body or {}).get("order") if isinstance(body, dict) else None
            )
        order_path = re.fullmatch(r"orders/([^/]+?)(/cancel)?", rest)
        if order_path:
            specifier, cancel = order_path.group(1), order_path.group(2)
            order = self.book.find(specifier)
            if method == "GET" and not cancel:
                if order is None:
                    msg = "The order ID specified does not exist"
                    raise OandaError(404, {"errorCode": "NO_SUCH_ORDER", "errorMessage": msg})
                return 200, {"order": order, **last}
            if method == "PUT" and (order is None or order["state"] != "PENDING"):
                raise self.book.cancel_reject(specifier, order)
            if method == "PUT" and cancel and order is not None:
                tx = self.book.cancel(order, "CLIENT_REQUEST")
                return 200, {
                    "orderCancelTransaction": tx,
                    "relatedTransactionIDs": [tx["id"]],
                    **last,
                }
            if method == "PUT" and order is not None:
                request = body.get("order") if isinstance(body, dict) else None
                return 201, self.book.create(request, replacing=order)
        if method == "GET" and rest.startswith("transactions"):
            return 200, self.book.transactions_query(rest, one, headers)
        if (method, rest) == ("GET", "pricing"):
            names = one.get("instruments", "").split(",")
            if not all(n in self.book.quotes for n in names):
                raise OandaError(400, {"errorMessage": "Invalid value specified for 'instruments'"})
            return 200, {
                "prices": [self.book.price_json(n) for n in names],
                "time": rfc3339(now_ns()),
            }
        raise OandaError(404, {"errorMessage": f"No such endpoint {method} {path}"})

    # --- streams -------------------------------------------------------------------

    async def _stream(self, scope: Scope, receive: Receive, send: Send, rec: Recorded) -> None:
        match = re.fullmatch(r"/v3/accounts/([^/]+)/(pricing|transactions)/stream", scope["path"])
        if match is None or match.group(1) != self.book.account_id:
            await self._respond(send, rec, 404, {"errorMessage": "No such stream"})
            return
        pricing = match.group(2) == "pricing"
        names: list[str] = []
        if pricing:
            names = rec.query.get("instruments", [""])[0].split(",")
            if not all(n in self.book.quotes for n in names):
                msg = {"errorMessage": "Invalid value specified for 'instruments'"}
                await self._respond(send, rec, 400, msg)
                return
        queue: asyncio.Queue[Json | None] = asyncio.Queue()
        streams = self._price_streams if pricing else self._tx_streams
        streams.add(queue)
        rec.status = 200
        start = {"type": "http.response.start", "status": 200}
        start["headers"] = [(b"content-type", b"application/octet-stream")]
        await send(start)

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            queue.put_nowait(None)

        watcher = asyncio.create_task(watch_disconnect())
        if pricing and rec.query.get("snapshot", ["true"])[0] == "true":
            for name in names:
                queue.put_nowait(self.book.price_json(name))
        deadline = None
        if self.faults.stream_disconnect_every_s is not None:
            deadline = asyncio.get_running_loop().time() + self.faults.stream_disconnect_every_s
        try:
            while True:
                timeout = self.heartbeat_s
                if deadline is not None:
                    timeout = min(timeout, deadline - asyncio.get_running_loop().time())
                    if timeout <= 0:
                        break
                try:
                    item = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    item = {"type": "HEARTBEAT", "time": rfc3339(now_ns())}
                    if not pricing:
                        item["lastTransactionID"] = self.book.last_id
                if item is None:
                    break
                if pricing and item.get("instrument", names[0]) not in names:
                    continue
                rec.stream_lines.append(item)
                line = json.dumps(item).encode() + b"\n"
                await send({"type": "http.response.body", "body": line, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except OSError:
            pass
        finally:
            streams.discard(queue)
            watcher.cancel()
