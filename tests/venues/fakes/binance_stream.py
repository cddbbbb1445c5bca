"""Binance's spot user-data stream for the fake, over the WebSocket API (``/ws-api/v3``).

Spot user data now flows through the WebSocket API: the client sends
``{"id": ..., "method": "userDataStream.subscribe.signature", "params": {"apiKey",
"timestamp", "signature"}}`` (the HMAC-SHA256 of the sorted parameters, as for REST),
gets ``{"id": ..., "status": 200, "result": {"subscriptionId": N}}``, and from then on
every order change arrives as ``{"subscriptionId": N, "event": {"e":
"executionReport", ...}}`` with Binance's one-letter fields. A bad key or signature
is answered ``{"id": ..., "status": 401|400, "error": {"code": -2015|-1022, "msg":
...}}`` and nothing is pushed. ``ping`` and ``userDataStream.unsubscribe`` are
answered too; any other method gets error -1020 (unsupported operation).

The older listenKey stream is served too: ``POST /api/v3/userDataStream`` (API key
header, no signature) issues a key, ``PUT`` keeps it alive, ``DELETE`` closes it and its
streams (an unknown key: -1125), and ``/ws/<listenKey>`` pushes the same execution
reports without the envelope.

Faults (``StreamFaults``, seeded): a share of the TRADE execution reports is never
sent (``drop_trade_rate``), and every connection is cut without a close frame after
a random time in ``disconnect_after_s``, like a network drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from .binance_wire import fmt, generated_id, wire_type
from .crypto_spot import SpotOrder, SpotTrade

Json = dict[str, Any]
RECV_WINDOW_MAX = 60_000


@dataclass
class StreamFaults:
    """Seeded faults on the user-data stream."""

    seed: int = 0
    drop_trade_rate: float = 0.0
    """Share of TRADE execution reports that are never pushed."""
    disconnect_after_s: tuple[float, float] | None = None
    """Each connection is dropped after a uniform random time in this range."""


def execution_report(execution: str, order: SpotOrder, trade: SpotTrade | None, now: int) -> Json:
    """Return the ``executionReport`` event for one change of ``order``."""
    cancelled = execution == "CANCELED"
    quote_last = trade.price * trade.qty if trade is not None else None
    return {
        "e": "executionReport",
        "E": now,
        "s": order.symbol,
        "c": generated_id() if cancelled else order.client_id,
        "S": order.side,
        "o": wire_type(order),
        "f": order.tif,
        "q": fmt(order.quantity),
        "p": fmt(order.price),
        "P": fmt(order.stop_price),
        "F": fmt(order.iceberg_qty),
        "g": -1,
        "C": order.client_id if cancelled else "",
        "x": execution,
        "X": order.status,
        "r": "NONE",
        "i": int(order.oid),
        "l": fmt(trade.qty if trade else None),
        "z": fmt(order.filled),
        "L": fmt(trade.price if trade else None),
        "n": fmt(trade.fee if trade else None),
        "N": trade.fee_asset if trade else None,
        "T": trade.time_ms if trade else order.updated_ms,
        "t": int(trade.tid) if trade else -1,
        "I": order.seq * 10 + len(order.trade_ids),
        "w": order.is_open and (order.kind in ("LIMIT",) or order.triggered),
        "m": trade.maker if trade else False,
        "M": False,
        "O": order.created_ms,
        "Z": fmt(order.quote_filled),
        "Y": fmt(quote_last),
        "Q": fmt(None),
        "W": order.created_ms,
        "V": "EXPIRE_MAKER",
    }


@dataclass
class _Subscriber:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    subscription_id: int
    """-1 for a listenKey stream, whose events are sent bare."""
    queue: asyncio.Queue[str]
    listen_key: str | None = None


class BinanceUserStream:
    """The WebSocket API endpoint and the subscribers it pushes execution reports to."""

    def __init__(
        self,
        *,
        api_key: str,
        secret: str,
        server_ms: Callable[[], int],
        faults: StreamFaults | None = None,
    ) -> None:
        self._api_key = api_key
        self._secret = secret
        self._server_ms = server_ms
        self.configure(faults or StreamFaults())
        self._subscribers: list[_Subscriber] = []
        self._next_subscription = 0
        self.connections = 0
        """WebSocket connections accepted so far."""
        self.disconnects = 0
        """Connections the fake cut (the disconnect fault)."""
        self.pushed: list[Json] = []
        """Every execution report pushed to at least one subscriber."""
        self.dropped: list[Json] = []
        """Every TRADE execution report the drop fault swallowed."""
        self.errors: list[str] = []
        self.listen_keys: set[str] = set()
        """listenKeys issued by POST /api/v3/userDataStream and not closed."""

    def configure(self, faults: StreamFaults) -> None:
        """Replace the fault settings (and reseed)."""
        self.faults = faults
        self._random = random.Random(faults.seed)

    @property
    def subscribers(self) -> int:
        """Return the number of live subscriptions."""
        return len(self._subscribers)

    def on_book_event(self, execution: str, order: SpotOrder, trade: SpotTrade | None) -> None:
        """Turn a book change into an execution report for every subscriber."""
        event = execution_report(execution, order, trade, self._server_ms())
        if not self._subscribers:
            return
        if execution == "TRADE" and self._random.random() < self.faults.drop_trade_rate:
            self.dropped.append(event)
            return
        self.pushed.append(event)
        for sub in self._subscribers:
            frame = (
                event
                if sub.subscription_id < 0
                else {
                    "subscriptionId": sub.subscription_id,
                    "event": event,
                }
            )
            sub.queue.put_nowait(json.dumps(frame))

    async def disconnect_all(self) -> None:
        """Cut every connection now (a network drop: no close frame)."""
        for sub in list(self._subscribers):
            self._cut(sub.ws, sub.transport)

    def shutdown(self) -> None:
        """Cut every connection and push nothing more (the fake is stopping)."""
        self.configure(StreamFaults())
        for sub in list(self._subscribers):
            self._subscribers.remove(sub)
            if sub.transport is not None:
                sub.transport.abort()

    def _cut(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self._subscribers = [s for s in self._subscribers if s.ws is not ws]
        if transport is not None and not transport.is_closing():
            self.disconnects += 1
            transport.abort()

    # listenKey streams (the older user-data stream: REST keys, one stream per key) ------

    def new_listen_key(self, api_key: str | None) -> Json:
        """POST /api/v3/userDataStream: return a listenKey for the API key."""
        if api_key != self._api_key:
            return {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
        key = secrets.token_hex(32)
        self.listen_keys.add(key)
        return {"listenKey": key}

    def keep_listen_key(self, key: str | None, *, close: bool = False) -> Json:
        """PUT (keep alive) or DELETE (close) /api/v3/userDataStream."""
        if not key or key not in self.listen_keys:
            return {"code": -1125, "msg": "This listenKey does not exist."}
        if close:
            self.listen_keys.discard(key)
            for sub in [s for s in self._subscribers if s.listen_key == key]:
                self._cut(sub.ws, sub.transport)
        return {}

    async def handle_listen_key(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/ws/<listenKey>``: bare execution reports, nothing to send."""
        key = request.match_info.get("key", "")
        if key not in self.listen_keys:
            return web.Response(status=400, text="invalid listenKey")
        return await self.handle(request, listen_key=key)

    async def handle(
        self, request: web.Request, *, listen_key: str | None = None
    ) -> web.StreamResponse:
        """Serve one WebSocket API connection (or, with ``listen_key``, a key's stream)."""
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        self.connections += 1
        outbox: asyncio.Queue[str] = asyncio.Queue()
        if listen_key is not None:
            self._subscribers.append(_Subscriber(ws, request.transport, -1, outbox, listen_key))
        writer = asyncio.get_running_loop().create_task(self._write(ws, outbox))
        killer = None
        if self.faults.disconnect_after_s is not None:
            low, high = self.faults.disconnect_after_s
            killer = asyncio.get_running_loop().call_later(
                self._random.uniform(low, high), self._cut, ws, request.transport
            )
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                answer = self._answer(ws, request.transport, outbox, message.data)
                if answer is not None:
                    outbox.put_nowait(json.dumps(answer))
        except Exception as exc:  # a bug in the fake: keep it for the test
            self.errors.append(repr(exc))
        finally:
            if killer is not None:
                killer.cancel()
            self._subscribers = [s for s in self._subscribers if s.ws is not ws]
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        return ws

    async def _write(self, ws: web.WebSocketResponse, outbox: asyncio.Queue[str]) -> None:
        while True:
            text = await outbox.get()
            if ws.closed:
                return
            await ws.send_str(text)

    def _answer(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        outbox: asyncio.Queue[str],
        raw: str,
    ) -> Json | None:
        try:
            request = json.loads(raw)
        except ValueError:
            return {"id": None, "status": 400, "error": {"code": -1000, "msg": "Malformed JSON."}}
        if not isinstance(request, dict):
            return {"id": None, "status": 400, "error": {"code": -1000, "msg": "Not an object."}}
        rid = request.get("id")
        method = request.get("method")
        raw_params = request.get("params")
        params: Json = raw_params if isinstance(raw_params, dict) else {}
        if method == "ping":
            return {"id": rid, "status": 200, "result": {}}
        if method == "userDataStream.unsubscribe":
            self._subscribers = [s for s in self._subscribers if s.ws is not ws]
            return {"id": rid, "status": 200, "result": {}}
        if method != "userDataStream.subscribe.signature":
            return _error(rid, 400, -1020, "This operation is not supported.")
        refused = self._verify(params)
        if refused is not None:
            return {"id": rid, **refused}
        subscription_id = self._next_subscription
        self._next_subscription += 1
        self._subscribers.append(_Subscriber(ws, transport, subscription_id, outbox))
        return {
            "id": rid,
            "status": 200,
            "result": {"subscriptionId": subscription_id},
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                    "count": 2,
                }
            ],
        }

    def _verify(self, params: Json) -> Json | None:
        if params.get("apiKey") != self._api_key:
            return _error(None, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        signature = params.get("signature")
        if not isinstance(signature, str):
            return _error(None, 400, -1102, "Mandatory parameter 'signature' was not sent.")
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = hmac.new(self._secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _error(None, 400, -1022, "Signature for this request is not valid.")
        timestamp = params.get("timestamp")
        window = params.get("recvWindow", 5000)
        if not isinstance(timestamp, int) or not isinstance(window, int):
            return _error(None, 400, -1102, "Mandatory parameter 'timestamp' was not sent.")
        now = self._server_ms()
        if timestamp > now + 1000 or now - timestamp > min(window, RECV_WINDOW_MAX):
            return _error(
                None, 400, -1021, "Timestamp for this request is outside of the recvWindow."
            )
        return None


def _error(rid: Any, status: int, code: int, msg: str) -> Json:
    body: Json = {"status": status, "error": {"code": code, "msg": msg}}
    if rid is not None:
        body["id"] = rid
    return body
