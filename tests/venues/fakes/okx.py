"""A local fake of the OKX v5 REST API (spot, cash trading), in OKX's wire format.

It serves on 127.0.0.1 (a port bound at construction) the endpoints ccxt's ``okx``
calls for spot trading: ``public/instruments`` and ``public/time``, ``market/ticker``
and ``market/books``, and the signed ``asset/currencies``, ``account/balance``,
``trade/order`` (POST place, GET query by ``ordId`` or ``clOrdId``),
``trade/batch-orders`` (what ccxt uses to place one order),
``trade/cancel-order``, ``trade/orders-pending``, ``trade/orders-history`` and
``trade/fills-history``.

Signed requests are checked as OKX checks them: ``OK-ACCESS-KEY`` must name the key
(else 50111), ``OK-ACCESS-PASSPHRASE`` must match (50105), ``OK-ACCESS-TIMESTAMP`` is
an ISO-8601 time within 30 seconds of the server's clock (50102), and
``OK-ACCESS-SIGN`` must be base64(HMAC-SHA256(secret, timestamp + method +
request path with its query string + body)) (50113); all answered HTTP 401.

Every answer is ``{"code": "0", "msg": "", "data": [...]}``; a failure has a non-zero
code (HTTP 200, as OKX does), and a refused order carries its own ``sCode`` and
``sMsg`` in ``data``: 51016 duplicated clOrdId (an open order holds it), 51008
insufficient balance, 51000 parameter errors (a ``clOrdId`` outside
``^[a-zA-Z0-9]{1,32}$``, sizes off the lot or tick grid), 51400/51401/51402 cancel of an
unknown, cancelled or filled order, 51603 order does not exist. Matching is the shared
``SpotBook`` (see ``crypto_spot.py``); OKX reports fees as negative numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .crypto_spot import BookReject, SpotBook, SpotMarket, SpotOrder, SpotTrade, now_ms

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLIENT_ID = re.compile(r"^[a-zA-Z0-9]{1,32}$")
MARKETS = [
    SpotMarket(
        "BTC-USDT",
        "BTC",
        "USDT",
        Decimal("0.1"),
        Decimal("0.00000001"),
        Decimal("0.00001"),
        Decimal(1),
    ),
]
BALANCES = {"BTC": Decimal(100), "USDT": Decimal(10_000_000)}
_STATES = {
    "NEW": "live",
    "PARTIALLY_FILLED": "partially_filled",
    "FILLED": "filled",
    "CANCELED": "canceled",
    "EXPIRED": "canceled",
    "REJECTED": "canceled",
}
_REJECTS = {
    "BAD_QUANTITY": ("51000", "Parameter sz error"),
    "MIN_QTY": ("51020", "Your order should meet or exceed the minimum order amount."),
    "BAD_PRICE": ("51000", "Parameter px error"),
    "MIN_NOTIONAL": ("51020", "Your order should meet or exceed the minimum order amount."),
    "INSUFFICIENT_FUNDS": ("51008", "Order failed. Insufficient USDT balance in account."),
    "DUPLICATE_CLIENT_ID": ("51016", "Duplicated clOrdId"),
    "WOULD_TAKE": ("51024", "Order failed. Post-only order would take liquidity."),
    "NO_QUOTE": ("51001", "Instrument ID does not exist."),
    "UNKNOWN_SYMBOL": ("51001", "Instrument ID does not exist."),
}


class OkxError(Exception):
    """An answer in OKX's error envelope."""

    def __init__(self, code: str, msg: str, *, status: int = 200, data: list[Json] | None = None):
        super().__init__(f"{code} {msg}")
        self.status = status
        self.body: Json = {"code": code, "msg": msg, "data": data or []}


def fmt(value: Decimal | None) -> str:
    """Return a number as OKX prints it: plain, without trailing zeros."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


class FakeOkx:
    """The fake venue: a ``SpotBook`` behind OKX's v5 REST API."""

    def __init__(
        self,
        *,
        api_key: str = "fake-okx-key",
        secret: str = "fake-okx-secret",
        passphrase: str = "fake-okx-passphrase",
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.passphrase = passphrase
        self.book = SpotBook(
            MARKETS,
            dict(BALANCES),
            order_id=lambda seq: str(600_000_000_000 + seq),
            trade_id=lambda seq: str(90_000 + seq),
        )
        self.requests: list[tuple[str, str]] = []
        self.errors: list[str] = []
        """Exceptions raised by the fake itself (a bug in the fake, not a venue answer)."""
        self._runner: web.AppRunner | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        """Serve on the socket bound at construction; return the base URL."""
        app = web.Application(middlewares=[self._middleware])
        v5 = "/api/v5"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/public/instruments", self._instruments),
            ("GET", "/public/time", self._time),
            ("GET", "/market/ticker", self._ticker),
            ("GET", "/market/books", self._books),
            ("GET", "/asset/currencies", self._currencies),
            ("GET", "/account/balance", self._balance),
            ("POST", "/trade/order", self._place),
            ("POST", "/trade/batch-orders", self._batch),
            ("GET", "/trade/order", self._query),
            ("POST", "/trade/cancel-order", self._cancel),
            ("GET", "/trade/orders-pending", self._pending),
            ("GET", "/trade/orders-history", self._history),
            ("GET", "/trade/fills-history", self._fills),
            ("GET", "/trade/fills", self._fills),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, v5 + path, handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._socket.close()

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Move the market: resting orders it crosses fill at their limit price."""
        self.book.set_quote(symbol, bid, ask)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        """Return the latest order per client order ID: status, filled, quantity."""
        return self.book.record()

    # Plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        try:
            body = await handler(request)
        except OkxError as exc:
            return _answer(exc.body, exc.status)
        except web.HTTPException:
            raise
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.errors.append(f"{request.method} {request.path}: {exc!r}")
            return _answer({"code": "50000", "msg": f"fake failed: {exc!r}", "data": []}, 500)
        return body

    async def _signed(self, request: web.Request) -> tuple[dict[str, str], Any]:
        """Check OKX's signature; return the query parameters and the JSON body."""
        body = await request.text() if request.method == "POST" else ""
        headers = request.headers
        if headers.get("OK-ACCESS-KEY") != self.api_key:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", status=401)
        if headers.get("OK-ACCESS-PASSPHRASE") != self.passphrase:
            raise OkxError("50105", "Invalid OK-ACCESS-PASSPHRASE.", status=401)
        stamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        try:
            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            raise OkxError("50107", "Invalid OK-ACCESS-TIMESTAMP.", status=401) from None
        if abs(sent.timestamp() * 1000 - now_ms()) > 30_000:
            raise OkxError("50102", "Timestamp request expired.", status=401)
        path = request.rel_url.raw_path
        query = request.rel_url.raw_query_string
        prehash = stamp + request.method + path + (f"?{query}" if query else "") + body
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), prehash.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, headers.get("OK-ACCESS-SIGN", "")):
            raise OkxError("50113", "Invalid Sign.", status=401)
        parsed: Any = {}
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                raise OkxError("50002", "Invalid JSON.") from None
            if not isinstance(parsed, dict | list):
                raise OkxError("50002", "Invalid JSON.")
        return dict(parse_qsl(query, keep_blank_values=True)), parsed

    def _market(self, inst_id: Any) -> SpotMarket:
        if not inst_id:
            raise OkxError("51000", "Parameter instId error")
        market = self.book.markets.get(str(inst_id))
        if market is None:
            raise OkxError("51001", "Instrument ID does not exist.")
        return market

    # Public -----------------------------------------------------------------------------

    async def _instruments(self, request: web.Request) -> web.Response:
        if request.query.get("instType") != "SPOT":
            return _ok([])
        return _ok([_instrument(m) for m in self.book.markets.values()])

    async def _time(self, request: web.Request) -> web.Response:
        return _ok([{"ts": str(now_ms())}])

    async def _ticker(self, request: web.Request) -> web.Response:
        market = self._market(request.query.get("instId"))
        quote = self.book.quotes.get(market.symbol)
        bid, ask = (quote.bid, quote.ask) if quote else (None, None)
        last = (bid + ask) / 2 if bid is not None and ask is not None else None
        return _ok(
            [
                {
                    "instType": "SPOT",
                    "instId": market.symbol,
                    "last": fmt(last),
                    "lastSz": "0",
                    "askPx": fmt(ask),
                    "askSz": fmt(quote.ask_size if quote else None),
                    "bidPx": fmt(bid),
                    "bidSz": fmt(quote.bid_size if quote else None),
                    "open24h": fmt(last),
                    "high24h": fmt(last),
                    "low24h": fmt(last),
                    "volCcy24h": "0",
                    "vol24h": "0",
                    "sodUtc0": fmt(last),
                    "sodUtc8": fmt(last),
                    "ts": str(now_ms()),
                }
            ]
        )

    async def _books(self, request: web.Request) -> web.Response:
        market = self._market(request.query.get("instId"))
        quote = self.book.quotes.get(market.symbol)
        asks = [[fmt(quote.ask), fmt(quote.ask_size), "0", "1"]] if quote else []
        bids = [[fmt(quote.bid), fmt(quote.bid_size), "0", "1"]] if quote else []
        return _ok([{"asks": asks, "bids": bids, "ts": str(now_ms())}])

    # Signed -----------------------------------------------------------------------------

    async def _currencies(self, request: web.Request) -> web.Response:
        await self._signed(request)
        return _ok([])

    async def _balance(self, request: web.Request) -> web.Response:
        await self._signed(request)
        details = []
        for ccy in sorted(set(self.book.free) | set(self.book.locked)):
            free = self.book.free.get(ccy, Decimal(0))
            frozen = self.book.locked.get(ccy, Decimal(0))
            details.append(
                {
                    "ccy": ccy,
                    "eq": fmt(free + frozen),
                    "cashBal": fmt(free + frozen),
                    "availBal": fmt(free),
                    "availEq": fmt(free),
                    "frozenBal": fmt(frozen),
                    "ordFrozen": fmt(frozen),
                    "uTime": str(now_ms()),
                }
            )
        return _ok([{"totalEq": "0", "details": details, "uTime": str(now_ms())}])

    async def _place(self, request: web.Request) -> web.Response:
        _, body = await self._signed(request)
        if not isinstance(body, dict):
            raise OkxError("50002", "Invalid JSON.")
        return self._placed([self._place_one(body)])

    async def _batch(self, request: web.Request) -> web.Response:
        _, body = await self._signed(request)
        if not isinstance(body, list) or not 1 <= len(body) <= 20:
            raise OkxError("51000", "Parameter batch orders error")
        items = [
            self._place_one(o) if isinstance(o, dict) else _refused("", "51000", "Parameter error")
            for o in body
        ]
        return self._placed(items)

    @staticmethod
    def _placed(items: list[Json]) -> web.Response:
        failed = sum(1 for i in items if i["sCode"] != "0")
        if failed == 0:
            return _ok(items)
        code, msg = ("1", "All operations failed") if failed == len(items) else ("2", "Batch")
        return _answer({"code": code, "msg": msg, "data": items})

    def _place_one(self, body: Json) -> Json:
        """Place one order; return its result item (``sCode`` "0" or the refusal)."""
        client_id = str(body.get("clOrdId") or "")
        try:
            market = self._market(body.get("instId"))
            if client_id and not CLIENT_ID.fullmatch(client_id):
                raise OkxError("51000", "Parameter clOrdId error")
            side, kind = body.get("side"), body.get("ordType")
            if side not in ("buy", "sell"):
                raise OkxError("51000", "Parameter side error")
            if kind not in ("market", "limit", "post_only", "ioc", "fok"):
                raise OkxError("51000", "Parameter ordType error")
            if body.get("tdMode") != "cash":
                raise OkxError("51000", "Parameter tdMode error")
            if kind == "market" and side == "buy" and body.get("tgtCcy") not in (None, "base_ccy"):
                raise OkxError("51000", "Parameter tgtCcy error: the fake sizes in the base ccy")
            size = _decimal(body.get("sz"), "sz")
            price = _decimal(body.get("px"), "px") if kind != "market" else None
        except OkxError as exc:
            return _refused(client_id, exc.body["code"], exc.body["msg"])
        try:
            order = self.book.submit(
                symbol=market.symbol,
                side=side.upper(),
                kind="MARKET" if kind == "market" else "LIMIT",
                quantity=size,
                price=price,
                tif={"ioc": "IOC", "fok": "FOK"}.get(kind, "GTC"),
                post_only=kind == "post_only",
                client_id=client_id or None,
            )
        except BookReject as exc:
            code, msg = _REJECTS.get(exc.reason, ("51000", exc.reason))
            return _refused(client_id, code, msg)
        return {
            "clOrdId": client_id,
            "ordId": order.oid,
            "tag": "",
            "ts": str(order.created_ms),
            "sCode": "0",
            "sMsg": "Order placed",
        }

    def _find(self, params: Json) -> SpotOrder:
        market = self._market(params.get("instId"))
        found: SpotOrder | None = None
        if params.get("ordId"):
            found = self.book.orders.get(str(params["ordId"]))
        elif params.get("clOrdId"):
            cid = str(params["clOrdId"])
            found = self.book.open_by_client(cid) or self.book.latest_by_client(cid)
        else:
            raise OkxError("51000", "Parameter ordId or clOrdId error")
        if found is None or found.symbol != market.symbol:
            raise OkxError("51603", "Order does not exist")
        return found

    async def _query(self, request: web.Request) -> web.Response:
        params, _ = await self._signed(request)
        return _ok([self._order(self._find(params))])

    async def _cancel(self, request: web.Request) -> web.Response:
        _, body = await self._signed(request)
        try:
            order = self._find(body)
        except OkxError:
            item = {
                "clOrdId": body.get("clOrdId", ""),
                "ordId": body.get("ordId", ""),
                "sCode": "51400",
                "sMsg": "Order cancellation failed as the order has been filled, canceled "
                "or does not exist.",
            }
            raise OkxError("1", "All operations failed", data=[item]) from None
        if not order.is_open:
            code, msg = (
                ("51402", "Order cancellation failed as the order has been completed.")
                if order.status == "FILLED"
                else ("51401", "Order cancellation failed as the order has been canceled.")
            )
            item = {
                "clOrdId": order.client_id or "",
                "ordId": order.oid,
                "sCode": code,
                "sMsg": msg,
            }
            raise OkxError("1", "All operations failed", data=[item])
        self.book.cancel(order)
        return _ok(
            [{"clOrdId": order.client_id or "", "ordId": order.oid, "sCode": "0", "sMsg": ""}]
        )

    async def _pending(self, request: web.Request) -> web.Response:
        params, _ = await self._signed(request)
        symbol = self._market(params["instId"]).symbol if params.get("instId") else None
        orders = sorted(self.book.open_orders(symbol), key=lambda o: -o.seq)
        return _ok([self._order(o) for o in orders][: _limit(params)])

    async def _history(self, request: web.Request) -> web.Response:
        params, _ = await self._signed(request)
        symbol = self._market(params["instId"]).symbol if params.get("instId") else None
        orders = [
            o
            for o in sorted(self.book.orders.values(), key=lambda o: -o.seq)
            if not o.is_open and (symbol is None or o.symbol == symbol)
        ]
        return _ok([self._order(o) for o in orders][: _limit(params)])

    async def _fills(self, request: web.Request) -> web.Response:
        params, _ = await self._signed(request)
        symbol = self._market(params["instId"]).symbol if params.get("instId") else None
        begin = int(params.get("begin") or 0)
        end = int(params.get("end") or 2**62)
        trades = [  # newest first; begin and end are exclusive, as OKX documents them
            t
            for t in reversed(self.book.trades)
            if (symbol is None or t.symbol == symbol) and begin < t.time_ms < end
        ]
        return _ok([self._fill(t) for t in trades][: _limit(params)])

    # Renderings -------------------------------------------------------------------------

    def _order(self, order: SpotOrder) -> Json:
        last: SpotTrade | None = None
        if order.trade_ids:
            last = next(t for t in reversed(self.book.trades) if t.tid == order.trade_ids[-1])
        kind = "market" if order.kind == "MARKET" else "limit"
        if order.post_only:
            kind = "post_only"
        elif order.tif in ("IOC", "FOK") and kind == "limit":
            kind = order.tif.lower()
        return {
            "instType": "SPOT",
            "instId": order.symbol,
            "ccy": "",
            "ordId": order.oid,
            "clOrdId": order.client_id or "",
            "tag": "",
            "px": fmt(order.price),
            "sz": fmt(order.quantity),
            "pnl": "0",
            "ordType": kind,
            "side": order.side.lower(),
            "posSide": "net",
            "tdMode": "cash",
            "accFillSz": fmt(order.filled),
            "fillPx": fmt(last.price) if last else "",
            "tradeId": last.tid if last else "",
            "fillSz": fmt(last.qty) if last else "",
            "fillTime": str(last.time_ms) if last else "",
            "avgPx": fmt(order.average) if order.filled else "",
            "state": _STATES[order.status],
            "lever": "",
            "tpTriggerPx": "",
            "tpOrdPx": "",
            "slTriggerPx": "",
            "slOrdPx": "",
            "feeCcy": self.book.markets[order.symbol].quote,
            "fee": fmt(-order.fee),
            "rebateCcy": "",
            "rebate": "0",
            "tgtCcy": "",
            "category": "normal",
            "reduceOnly": "false",
            "cancelSource": "1" if order.status == "CANCELED" else "",
            "uTime": str(order.updated_ms),
            "cTime": str(order.created_ms),
        }

    def _fill(self, trade: SpotTrade) -> Json:
        order = self.book.orders[trade.oid]
        return {
            "instType": "SPOT",
            "instId": trade.symbol,
            "tradeId": trade.tid,
            "ordId": trade.oid,
            "clOrdId": order.client_id or "",
            "billId": str(trade.seq),
            "tag": "",
            "fillPx": fmt(trade.price),
            "fillSz": fmt(trade.qty),
            "side": trade.side.lower(),
            "posSide": "net",
            "execType": "M" if trade.maker else "T",
            "feeCcy": trade.fee_asset,
            "fee": fmt(-trade.fee),
            "ts": str(trade.time_ms),
            "fillTime": str(trade.time_ms),
        }


def _instrument(market: SpotMarket) -> Json:
    return {
        "instType": "SPOT",
        "instId": market.symbol,
        "uly": "",
        "instFamily": "",
        "baseCcy": market.base,
        "quoteCcy": market.quote,
        "settleCcy": "",
        "ctVal": "",
        "ctMult": "",
        "ctValCcy": "",
        "optType": "",
        "stk": "",
        "listTime": "1606468572000",
        "expTime": "",
        "lever": "",
        "tickSz": fmt(market.tick),
        "lotSz": fmt(market.step),
        "minSz": fmt(market.min_qty),
        "ctType": "",
        "alias": "",
        "state": "live",
        "maxLmtSz": "9999999999",
        "maxMktSz": "1000000",
        "ruleType": "normal",
    }


def _refused(client_id: str, code: str, msg: str) -> Json:
    return {"clOrdId": client_id, "ordId": "", "tag": "", "sCode": code, "sMsg": msg}


def _decimal(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise OkxError("51000", f"Parameter {name} error") from None
    if not value.is_finite() or value <= 0:
        raise OkxError("51000", f"Parameter {name} error")
    return value


def _limit(params: dict[str, str]) -> int:
    raw = params.get("limit") or "100"
    return min(int(raw), 100) if raw.isdigit() else 100


def _ok(data: list[Json]) -> web.Response:
    return _answer({"code": "0", "msg": "", "data": data})


def _answer(body: Json, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")
