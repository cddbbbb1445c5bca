"""A local fake of the Kraken spot REST API (/0/public, /0/private), in Kraken's format.

It serves on 127.0.0.1 (a free port bound at construction) the endpoints ccxt calls:
public ``Time``, ``Assets``, ``AssetPairs``, ``Ticker``, ``OHLC``, ``Depth``; private
``Balance``, ``BalanceEx``, ``AddOrder``, ``CancelOrder``, ``AmendOrder``,
``QueryOrders``, ``OpenOrders``, ``ClosedOrders`` and ``TradesHistory``.

Private requests are checked as Kraken checks them: ``API-Key`` must name the key
(``EAPI:Invalid key``); ``API-Sign`` must be the base64 HMAC-SHA512, keyed with the
base64-decoded secret, of the URI path followed by SHA-256(nonce + POST body)
(``EAPI:Invalid signature``); the nonce must be greater than every nonce the key used
before (``EAPI:Invalid nonce``). Kraken answers HTTP 200 with ``{"error": [...]}`` for
API errors, and ``{"error": [], "result": {...}}`` on success.

Client order IDs are ``cl_ord_id`` (a long or short UUID, or free text of at most 18
ASCII characters), unique among OPEN orders; a duplicate is refused with
``EOrder:Duplicate order`` (Kraken documents the uniqueness rule but not the exact
text). Order IDs are Kraken-style txids (``OABCDE-FGHIJ-KLMNOP``). Matching and faults:
see ``crypto_spot.py``; ``"429"`` is an HTTP 429 with Retry-After (as Kraken's edge
answers), ``"418"`` is Kraken's ``EGeneral:Temporary lockout``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import re
import socket
import string
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .crypto_spot import BookReject, FaultInjector, Faults, SpotBook, SpotMarket, SpotOrder, now_ms

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAIRS: dict[str, Json] = {
    "XXBTZUSD": {
        "altname": "XBTUSD",
        "wsname": "XBT/USD",
        "base": "XXBT",
        "quote": "ZUSD",
        "pair_decimals": 1,
        "cost_decimals": 5,
        "lot_decimals": 8,
        "ordermin": "0.0001",
        "costmin": "0.5",
        "tick_size": "0.1",
    },
    "XETHZUSD": {
        "altname": "ETHUSD",
        "wsname": "ETH/USD",
        "base": "XETH",
        "quote": "ZUSD",
        "pair_decimals": 2,
        "cost_decimals": 5,
        "lot_decimals": 8,
        "ordermin": "0.002",
        "costmin": "0.5",
        "tick_size": "0.01",
    },
    "XBTUSDT": {
        "altname": "XBTUSDT",
        "wsname": "XBT/USDT",
        "base": "XXBT",
        "quote": "USDT",
        "pair_decimals": 1,
        "cost_decimals": 5,
        "lot_decimals": 8,
        "ordermin": "0.0001",
        "costmin": "0.5",
        "tick_size": "0.1",
    },
}
ASSETS: dict[str, Json] = {
    "XXBT": {
        "aclass": "currency",
        "altname": "XBT",
        "decimals": 10,
        "display_decimals": 5,
        "status": "enabled",
    },
    "XETH": {
        "aclass": "currency",
        "altname": "ETH",
        "decimals": 10,
        "display_decimals": 5,
        "status": "enabled",
    },
    "ZUSD": {
        "aclass": "currency",
        "altname": "USD",
        "decimals": 4,
        "display_decimals": 2,
        "status": "enabled",
    },
    "USDT": {
        "aclass": "currency",
        "altname": "USDT",
        "decimals": 8,
        "display_decimals": 4,
        "status": "enabled",
    },
}
BALANCES = {
    "XXBT": Decimal(100),
    "XETH": Decimal(1000),
    "ZUSD": Decimal(10_000_000),
    "USDT": Decimal(10_000_000),
}
ORDER_TYPES = {
    "market": "MARKET",
    "limit": "LIMIT",
    "stop-loss": "STOP_LOSS",
    "stop-loss-limit": "STOP_LOSS_LIMIT",
    "take-profit": "TAKE_PROFIT",
    "take-profit-limit": "TAKE_PROFIT_LIMIT",
}
KRAKEN_TYPES = {v: k for k, v in ORDER_TYPES.items()}
STATUSES = {
    "NEW": "open",
    "PARTIALLY_FILLED": "open",
    "FILLED": "closed",
    "CANCELED": "canceled",
    "EXPIRED": "expired",
    "REJECTED": "canceled",
}
CL_ORD_ID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[ -~]{1,18})$"
)
PAGE = 50
DEFAULT_SECRET = base64.b64encode(b"fake-kraken-secret-" * 4).decode()
_REJECTS = {
    "BAD_QUANTITY": "EGeneral:Invalid arguments:volume",
    "MIN_QTY": "EOrder:Order minimum not met",
    "BAD_PRICE": "EGeneral:Invalid arguments:price",
    "MIN_NOTIONAL": "EOrder:Cost minimum not met",
    "INSUFFICIENT_FUNDS": "EOrder:Insufficient funds",
    "DUPLICATE_CLIENT_ID": "EOrder:Duplicate order",
    "WOULD_TAKE": "EOrder:Post only order",
    "WOULD_TRIGGER": "EOrder:Invalid order",
    "NO_QUOTE": "EService:Market in cancel_only mode",
    "UNKNOWN_SYMBOL": "EQuery:Unknown asset pair",
    "UNKNOWN_ORDER": "EOrder:Unknown order",
}


class KrakenError(Exception):
    """An API error: HTTP 200 with Kraken's error array."""

    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def _txid(rng: random.Random, prefix: str) -> str:
    alphabet = string.ascii_uppercase + string.digits
    parts = ["".join(rng.choice(alphabet) for _ in range(n)) for n in (5, 5, 6)]
    return f"{prefix}{parts[0]}-{parts[1]}-{parts[2]}"


class FakeKraken:
    """The fake venue: a ``SpotBook`` behind Kraken's REST API."""

    def __init__(
        self,
        *,
        api_key: str = "fake-kraken-key",
        secret: str = DEFAULT_SECRET,
        faults: Faults | None = None,
        balances: dict[str, Decimal] | None = None,
        seed: int = 7,
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        rng = random.Random(seed)
        self.pairs = PAIRS
        self.book = SpotBook(
            [
                SpotMarket(
                    key,
                    p["base"],
                    p["quote"],
                    Decimal(p["tick_size"]),
                    Decimal(1).scaleb(-int(p["lot_decimals"])),
                    Decimal(p["ordermin"]),
                    Decimal(p["costmin"]),
                )
                for key, p in PAIRS.items()
            ],
            dict(balances or BALANCES),
            order_id=lambda _: _txid(rng, "O"),
            trade_id=lambda _: _txid(rng, "T"),
            reject_immediate_trigger=False,
        )
        self.faults = FaultInjector(faults)
        self.ohlc: dict[tuple[str, int], list[list[Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.errors: list[str] = []
        """Exceptions raised by the fake itself (a bug in the fake, not a venue answer)."""
        self.foreign_open_orders: dict[str, Json] = {}
        """Open orders placed outside the fake's book (txid -> Kraken order object, a
        trailing stop placed by hand for example), listed by OpenOrders."""
        self._nonces: dict[str, int] = {}
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
        public = {
            "Time": self._time,
            "Assets": self._assets,
            "AssetPairs": self._asset_pairs,
            "Ticker": self._ticker,
            "OHLC": self._ohlc,
            "Depth": self._depth,
        }
        for name, handler in public.items():
            app.router.add_get(f"/0/public/{name}", handler)
            app.router.add_post(f"/0/public/{name}", handler)
        private = {
            "Balance": self._balance,
            "BalanceEx": self._balance_ex,
            "AddOrder": self._add_order,
            "CancelOrder": self._cancel_order,
            "AmendOrder": self._amend_order,
            "QueryOrders": self._query_orders,
            "OpenOrders": self._open_orders,
            "ClosedOrders": self._closed_orders,
            "TradesHistory": self._trades_history,
        }
        for name, handler in private.items():
            app.router.add_post(f"/0/private/{name}", handler)
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

    # Test controls ----------------------------------------------------------------------

    def set_quote(
        self,
        pair: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal = Decimal(10),
        ask_size: Decimal = Decimal(10),
    ) -> None:
        """Move the market of ``pair`` (a pair key such as XXBTZUSD)."""
        self.book.set_quote(pair, bid, ask, bid_size, ask_size)

    def set_ohlc(self, pair: str, interval_min: int, rows: list[list[Any]]) -> None:
        """Serve ``rows`` (Kraken's 8-field OHLC arrays) for ``pair`` and interval."""
        self.ohlc[(pair, interval_min)] = sorted(rows, key=lambda r: int(r[0]))

    def venue_record(self) -> dict[str, dict[str, Any]]:
        """Return the latest order per cl_ord_id: status (Kraken's word), filled, quantity."""
        record = self.book.record()
        for client_id, entry in record.items():
            order = self.book.latest_by_client(client_id)
            assert order is not None
            entry["status"] = STATUSES[str(entry["status"])]
        return record

    # HTTP plumbing ----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        method, path = request.method, request.path
        self.requests.append((method, path))
        name = path.rsplit("/", 1)[-1]
        write = name in ("AddOrder", "CancelOrder", "AmendOrder")
        fault = self.faults.draw(method, path, write=write)
        if fault == "429":
            return _json(
                {"error": ["EAPI:Rate limit exceeded"]},
                429,
                {"Retry-After": str(self.faults.faults.retry_after_s)},
            )
        if fault == "418":
            return _json({"error": ["EGeneral:Temporary lockout"]})
        if fault == "5xx":
            if len(self.faults.applied) % 2:
                return web.Response(
                    status=502, text="<html>502 Bad Gateway</html>", content_type="text/html"
                )
            return _json({"error": ["EService:Unavailable"]}, 503)
        if fault == "timeout":
            await self.faults.hang()
            return web.Response(status=504, text="<html>504 Gateway Time-out</html>")
        try:
            self.book.expire_due()
            result = await handler(request)
        except KrakenError as exc:
            result = _json({"error": exc.errors})
        except web.HTTPException:
            raise
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.errors.append(f"{method} {path}: {exc!r}")
            result = _json({"error": [f"EGeneral:Internal error: fake failed: {exc!r}"]}, 500)
        if fault == "5xx_applied":
            return _json({"error": ["EGeneral:Internal error"]}, 500)
        if fault == "drop":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp abandons the request: no answer at all
        if isinstance(result, web.Response) and result.text is not None:
            rewritten = self.faults.rewrite(method, path, result.text)
            if rewritten != result.text:
                result = web.Response(
                    text=rewritten, status=result.status, content_type="application/json"
                )
        return result

    async def _params(self, request: web.Request) -> dict[str, Any]:
        body = await request.text()
        if request.content_type == "application/json" and body:
            try:
                data = json.loads(body)
            except ValueError:
                raise KrakenError("EGeneral:Invalid arguments") from None
            params: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
        else:
            params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
        return params

    async def _private(self, request: web.Request) -> dict[str, Any]:
        body = await request.text()
        key = request.headers.get("API-Key")
        if key != self.api_key:
            raise KrakenError("EAPI:Invalid key")
        params = await self._params(request)
        nonce_raw = str(params.get("nonce", ""))
        if not nonce_raw.isdigit():
            raise KrakenError("EAPI:Invalid nonce")
        digest = hashlib.sha256((nonce_raw + body).encode()).digest()
        expected = base64.b64encode(
            hmac.new(
                base64.b64decode(self.secret), request.path.encode() + digest, hashlib.sha512
            ).digest()
        ).decode()
        if not hmac.compare_digest(expected, request.headers.get("API-Sign", "")):
            raise KrakenError("EAPI:Invalid signature")
        nonce = int(nonce_raw)
        if nonce <= self._nonces.get(key, 0):
            raise KrakenError("EAPI:Invalid nonce")
        self._nonces[key] = nonce
        return params

    def _pair(self, raw: Any) -> tuple[str, Json]:
        text = str(raw or "")
        for key, pair in self.pairs.items():
            if text in (key, pair["altname"], pair["wsname"]):
                return key, pair
        raise KrakenError("EQuery:Unknown asset pair")

    # Public endpoints -------------------------------------------------------------------

    async def _time(self, request: web.Request) -> web.Response:
        now = now_ms() // 1000
        return _ok({"unixtime": now, "rfc1123": "Mon, 01 Jan 24 00:00:00 +0000"})

    async def _assets(self, request: web.Request) -> web.Response:
        return _ok(ASSETS)

    async def _asset_pairs(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        wanted = (
            [self._pair(p)[0] for p in str(params["pair"]).split(",")]
            if params.get("pair")
            else list(self.pairs)
        )
        return _ok({key: _pair_info(self.pairs[key]) for key in wanted})

    async def _ticker(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        names = str(params.get("pair") or ",".join(self.pairs)).split(",")
        result = {}
        for name in names:
            key, pair = self._pair(name)
            quote = self.book.quotes.get(key)
            if quote is None:
                continue
            decimals = int(pair["pair_decimals"])
            bid, ask = _px(quote.bid, decimals), _px(quote.ask, decimals)
            mid = _px((quote.bid + quote.ask) / 2, decimals)
            result[key] = {
                "a": [ask, str(int(quote.ask_size)), _vol(quote.ask_size)],
                "b": [bid, str(int(quote.bid_size)), _vol(quote.bid_size)],
                "c": [mid, _vol(Decimal(0))],
                "v": [_vol(Decimal(0)), _vol(Decimal(0))],
                "p": [mid, mid],
                "t": [0, 0],
                "l": [mid, mid],
                "h": [mid, mid],
                "o": mid,
            }
        return _ok(result)

    async def _ohlc(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        key, _ = self._pair(params.get("pair"))
        interval = int(params.get("interval") or 1)
        since = int(params.get("since") or 0)
        rows = [r for r in self.ohlc.get((key, interval), []) if int(r[0]) >= since][-720:]
        last = int(rows[-1][0]) if rows else since
        return _ok({key: rows, "last": last})

    async def _depth(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        key, pair = self._pair(params.get("pair"))
        quote = self.book.quotes.get(key)
        decimals = int(pair["pair_decimals"])
        ts = now_ms() // 1000
        book = {
            "asks": [[_px(quote.ask, decimals), _vol(quote.ask_size), ts]] if quote else [],
            "bids": [[_px(quote.bid, decimals), _vol(quote.bid_size), ts]] if quote else [],
        }
        return _ok({key: book})

    # Private endpoints ------------------------------------------------------------------

    async def _balance(self, request: web.Request) -> web.Response:
        await self._private(request)
        totals = {
            a: self.book.free.get(a, Decimal(0)) + self.book.locked.get(a, Decimal(0))
            for a in sorted(set(self.book.free) | set(self.book.locked))
        }
        return _ok({a: f"{v:.10f}" for a, v in totals.items()})

    async def _balance_ex(self, request: web.Request) -> web.Response:
        await self._private(request)
        assets = sorted(set(self.book.free) | set(self.book.locked))
        free, locked = self.book.free, self.book.locked
        return _ok(
            {
                a: {
                    "balance": f"{free.get(a, Decimal(0)) + locked.get(a, Decimal(0)):.10f}",
                    "hold_trade": f"{locked.get(a, Decimal(0)):.10f}",
                }
                for a in assets
            }
        )

    async def _add_order(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        key, pair = self._pair(params.get("pair"))
        side = str(params.get("type", ""))
        if side not in ("buy", "sell"):
            raise KrakenError("EGeneral:Invalid arguments:type")
        ordertype = str(params.get("ordertype", ""))
        kind = ORDER_TYPES.get(ordertype)
        if kind is None:
            raise KrakenError("EGeneral:Invalid arguments:ordertype")
        volume = _decimal(params.get("volume"), "volume")
        if volume is None:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        price = _decimal(params.get("price"), "price")
        price2 = _decimal(params.get("price2"), "price2")
        limit, stop = price, None
        if kind in ("STOP_LOSS", "TAKE_PROFIT"):
            limit, stop = None, price
        elif kind in ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
            limit, stop = price2, price
        if kind != "MARKET" and (price is None or (kind.endswith("_LIMIT") and price2 is None)):
            raise KrakenError("EGeneral:Invalid arguments:price")
        flags = {f for f in str(params.get("oflags", "")).split(",") if f}
        if flags - {"post", "fcib", "fciq", "nompp"}:
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        tif = str(params.get("timeinforce") or "GTC").upper()
        if tif not in ("GTC", "IOC", "GTD"):
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        expire_ms = _expiry(params.get("expiretm"))
        if tif == "GTD" and expire_ms is None:
            raise KrakenError("EGeneral:Invalid arguments:expiretm")
        if str(params.get("reduce_only", "false")).lower() == "true":
            raise KrakenError("EGeneral:Invalid arguments:reduce_only")
        client_id = params.get("cl_ord_id")
        if client_id is not None:
            client_id = str(client_id)
            if not CL_ORD_ID.fullmatch(client_id):
                raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
            if params.get("userref") is not None:
                raise KrakenError("EGeneral:Invalid arguments:cl_ord_id and userref")
        if str(params.get("validate", "false")).lower() == "true":
            return _ok({"descr": {"order": "validated"}})
        try:
            order = self.book.submit(
                symbol=key,
                side=side.upper(),
                kind=kind,
                quantity=volume,
                price=limit,
                stop_price=stop,
                tif=tif,
                post_only="post" in flags,
                client_id=client_id,
                expire_ms=expire_ms,
            )
        except BookReject as exc:
            raise KrakenError(_REJECTS[exc.reason]) from exc
        return _ok({"descr": {"order": _description(order, pair)}, "txid": [order.oid]})

    def _by_ref(self, params: dict[str, Any]) -> SpotOrder:
        client_id = params.get("cl_ord_id")
        if client_id is not None:
            order = self.book.open_by_client(str(client_id))
        else:
            order = self.book.orders.get(str(params.get("txid") or ""))
        if order is None or not order.is_open:
            raise KrakenError("EOrder:Unknown order")
        return order

    async def _cancel_order(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        order = self._by_ref(params)
        self.book.cancel(order)
        return _ok({"count": 1})

    async def _amend_order(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        order = self._by_ref(params)
        try:
            self.book.amend(
                order,
                quantity=_decimal(params.get("order_qty"), "order_qty"),
                price=_decimal(params.get("limit_price"), "limit_price"),
                stop_price=_decimal(params.get("trigger_price"), "trigger_price"),
            )
        except BookReject as exc:
            raise KrakenError(_REJECTS[exc.reason]) from exc
        return _ok({"amend_id": _txid(random.Random(order.seq * 31 + 7), "T")})

    async def _query_orders(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        txids = [t for t in str(params.get("txid") or "").split(",") if t]
        if not txids:
            raise KrakenError("EGeneral:Invalid arguments")
        trades = str(params.get("trades", "false")).lower() == "true"
        result = {}
        for txid in txids:
            order = self.book.orders.get(txid)
            if order is None:
                raise KrakenError("EOrder:Invalid order")
            result[txid] = self._order_json(order, trades=trades)
        return _ok(result)

    async def _open_orders(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        trades = str(params.get("trades", "false")).lower() == "true"
        orders = [
            o
            for o in self.book.open_orders()
            if params.get("cl_ord_id") is None or o.client_id == str(params["cl_ord_id"])
        ]
        listed = {o.oid: self._order_json(o, trades=trades) for o in orders}
        if params.get("cl_ord_id") is None:
            listed |= self.foreign_open_orders
        return _ok({"open": listed})

    async def _closed_orders(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        trades = str(params.get("trades", "false")).lower() == "true"
        closed = [
            o
            for o in self.book.orders.values()
            if not o.is_open
            and (params.get("cl_ord_id") is None or o.client_id == str(params["cl_ord_id"]))
        ]
        closed.sort(key=lambda o: (o.updated_ms, o.seq), reverse=True)
        start, end = params.get("start"), params.get("end")
        if start is not None:
            closed = [o for o in closed if o.updated_ms / 1000 > float(start)]
        if end is not None:
            closed = [o for o in closed if o.updated_ms / 1000 < float(end)]
        offset = int(params.get("ofs") or 0)
        page = closed[offset : offset + PAGE]
        return _ok(
            {
                "closed": {o.oid: self._order_json(o, trades=trades) for o in page},
                "count": len(closed),
            }
        )

    async def _trades_history(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        trades = sorted(self.book.trades, key=lambda t: t.seq, reverse=True)
        start, end = params.get("start"), params.get("end")
        if start is not None:
            trades = [t for t in trades if t.time_ms / 1000 > float(start)]
        if end is not None:
            trades = [t for t in trades if t.time_ms / 1000 < float(end)]
        offset = int(params.get("ofs") or 0)
        page = trades[offset : offset + PAGE]
        result = {}
        for trade in page:
            order = self.book.orders[trade.oid]
            decimals = int(self.pairs[trade.symbol]["pair_decimals"])
            result[trade.tid] = {
                "ordertxid": trade.oid,
                "postxid": "TKH2SE-M7IF5-CFI7LT",
                "pair": trade.symbol,
                "time": trade.time_ms / 1000,
                "type": trade.side.lower(),
                "ordertype": KRAKEN_TYPES[order.kind],
                "price": _px(trade.price, decimals),
                "cost": f"{trade.price * trade.qty:.5f}",
                "fee": f"{trade.fee:.5f}",
                "vol": _vol(trade.qty),
                "margin": "0.00000",
                "leverage": "0",
                "misc": "",
                "trade_id": trade.seq,
                "maker": trade.maker,
            }
        return _ok({"trades": result, "count": len(trades)})

    def _order_json(self, order: SpotOrder, *, trades: bool) -> Json:
        pair = self.pairs[order.symbol]
        decimals = int(pair["pair_decimals"])
        kind = KRAKEN_TYPES[order.kind]
        if order.kind in ("STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
            price, price2 = order.stop_price, order.price
        else:
            price, price2 = order.price, None
        body: Json = {
            "refid": None,
            "userref": 0,
            "status": STATUSES[order.status],
            "reason": order.reason if not order.is_open else None,
            "opentm": order.created_ms / 1000,
            "starttm": 0,
            "expiretm": order.expire_ms / 1000 if order.expire_ms else 0,
            "descr": {
                "pair": pair["altname"],
                "type": order.side.lower(),
                "ordertype": kind,
                "price": _px(price, decimals) if price is not None else "0",
                "price2": _px(price2, decimals) if price2 is not None else "0",
                "leverage": "none",
                "order": _description(order, pair),
                "close": "",
            },
            "vol": _vol(order.quantity),
            "vol_exec": _vol(order.filled),
            "cost": f"{order.quote_filled:.5f}",
            "fee": f"{order.fee:.5f}",
            "price": f"{order.average:.5f}",
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": "fciq,post" if order.post_only else "fciq",
        }
        if order.client_id is not None:
            body["cl_ord_id"] = order.client_id
        if not order.is_open:
            body["closetm"] = order.updated_ms / 1000
        if trades and order.trade_ids:
            body["trades"] = list(order.trade_ids)
        return body


# Wire shapes ---------------------------------------------------------------------------


def _json(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _ok(result: Any) -> web.Response:
    return _json({"error": [], "result": result})


def _px(value: Decimal | None, decimals: int) -> str:
    return f"{(value or Decimal(0)):.{decimals}f}"


def _vol(value: Decimal) -> str:
    return f"{value:.8f}"


def _decimal(raw: Any, name: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}") from None
    if not value.is_finite() or value <= 0:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}")
    return value


def _expiry(raw: Any) -> int | None:
    if raw is None or raw in ("", "0", 0):
        return None
    text = str(raw)
    try:
        seconds = float(text[1:]) if text.startswith("+") else float(text)
    except ValueError:
        raise KrakenError("EGeneral:Invalid arguments:expiretm") from None
    return now_ms() + int(seconds * 1000) if text.startswith("+") else int(seconds * 1000)


def _pair_info(pair: Json) -> Json:
    return {
        **pair,
        "aclass_base": "currency",
        "aclass_quote": "currency",
        "lot": "unit",
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [[0, 0.26], [50000, 0.24], [100000, 0.22]],
        "fees_maker": [[0, 0.16], [50000, 0.14], [100000, 0.12]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "status": "online",
    }


def _description(order: SpotOrder, pair: Json) -> str:
    decimals = int(pair["pair_decimals"])
    head = f"{order.side.lower()} {_vol(order.quantity)} {pair['altname']} @ "
    if order.kind == "MARKET":
        return head + "market"
    if order.kind == "LIMIT":
        return head + f"limit {_px(order.price, decimals)}"
    words = "stop loss" if order.kind.startswith("STOP_LOSS") else "take profit"
    text = head + f"{words} {_px(order.stop_price, decimals)}"
    if order.kind.endswith("_LIMIT"):
        text += f" -> limit {_px(order.price, decimals)}"
    return text
