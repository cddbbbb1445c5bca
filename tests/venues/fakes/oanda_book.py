"""The account state of the fake OANDA: orders, matching, positions and transactions.

``FakeOanda`` (``oanda.py``) serves it over HTTP; see that module for what is modelled.
Every JSON object built here has the field names of the v20 spec's definitions.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import re
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Json = dict[str, Any]
DEFAULT_QUOTES = {
    "EUR_USD": ("1.09998", "1.10002"),
    "XAU_USD": ("1999.950", "2000.050"),
    "DE30_EUR": ("15999.0", "16001.0"),
}
GRANULARITY_S = {"S5": 5, "S10": 10, "S30": 30, "M1": 60, "M5": 300, "M15": 900, "H1": 3600}
GRANULARITY_S |= {"H4": 14400, "D": 86400}


def now_ns() -> int:
    return time.time_ns()


def rfc3339(ts_ns: int) -> str:
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"


def parse_rfc3339(text: str) -> int:
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$", text)
    if match is None:
        return int(Decimal(text) * 1_000_000_000)  # UNIX format
    seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int((match.group(2) or "").ljust(9, "0"))


def dec(value: Decimal) -> str:
    text = format(value, "f")
    return "0" if text in ("-0", "-0.0") else text


class OandaError(Exception):
    """An OANDA error response: status and JSON body."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


class OandaBook:
    """One OANDA account: prices, orders, netted positions and the transaction history."""

    def __init__(
        self,
        *,
        account_id: str,
        currency: str = "USD",
        balance: Decimal = Decimal(100_000),
        commission_per_unit: Decimal = Decimal(0),
    ) -> None:
        self.account_id = account_id
        self.currency = currency
        self.balance = balance
        self.commission_per_unit = commission_per_unit
        self.created_ns = now_ns()
        self.quotes: dict[str, tuple[Decimal, Decimal, int]] = {
            name: (Decimal(bid), Decimal(ask), self.created_ns)
            for name, (bid, ask) in DEFAULT_QUOTES.items()
        }
        self.untradeable: set[str] = set()
        """Instruments OANDA does not trade now (market closed, halt): their prices say
        ``tradeable: false``, market orders on them are cancelled ``MARKET_HALTED`` and
        nothing on them fills (``set_tradeable``)."""
        self.orders: dict[str, Json] = {}
        self.ioc_liquidity: Decimal | None = None
        """Opt-in: the most units an IOC order fills at once; OANDA cancels the rest
        (``INSUFFICIENT_LIQUIDITY``). None (the default): every order fills in full."""
        self.filled_units: dict[str, Decimal] = {}
        """Units filled per order ID (partial only after an IOC met ``ioc_liquidity``)."""
        self.by_client_id: dict[str, str] = {}
        self._deadlines: dict[str, int] = {}
        """``gtdTime`` of the orders that have one, by order ID (expiry checks only these)."""
        self.transactions: list[Json] = []
        self.positions: dict[str, Json] = {}
        self.transaction_listeners: list[Callable[[Json], None]] = []
        self.price_listeners: list[Callable[[Json], None]] = []
        self.record(
            {
                "type": "CREATE",
                "divisionID": 4,
                "siteID": 101,
                "accountUserID": 1234567,
                "accountNumber": 1,
                "homeCurrency": currency,
            }
        )

    def set_quote(self, instrument: str, bid: Decimal, ask: Decimal) -> None:
        """Set the price of an instrument, publish it, and fill the orders it crosses."""
        ts = now_ns()
        self.quotes[instrument] = (bid, ask, ts)
        self._publish_and_match(instrument)

    def set_tradeable(self, instrument: str, tradeable: bool) -> None:
        """Open or close ``instrument`` for trading and stream a price that says so.

        While it is closed its (indicative) prices carry ``tradeable: false`` and
        ``status: non-tradeable``; a market order on it is created and at once cancelled
        with reason ``MARKET_HALTED``; pending orders on it rest without filling. When it
        reopens, pending orders its price crosses fill.
        """
        bid, ask, _ = self.quotes[instrument]
        if tradeable:
            self.untradeable.discard(instrument)
        else:
            self.untradeable.add(instrument)
        self.quotes[instrument] = (bid, ask, now_ns())
        self._publish_and_match(instrument)

    def _publish_and_match(self, instrument: str) -> None:
        bid, ask, ts = self.quotes[instrument]
        price = self.price_json(instrument)
        for listener in self.price_listeners:
            listener(price)
        self.expire(ts)
        if instrument in self.untradeable:
            return
        for order in sorted(self.orders.values(), key=lambda o: int(o["id"])):
            if order["state"] == "PENDING" and order["instrument"] == instrument:
                fill_at = self.touched(order, bid, ask)
                if fill_at is not None:
                    self.fill(order, fill_at)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        """Return every order by client ID: ``status``, ``filled``, ``quantity``..."""
        record: dict[str, dict[str, Any]] = {}
        for client_id, order_id in self.by_client_id.items():
            order = self.orders[order_id]
            units = abs(Decimal(order["units"]))
            record[client_id] = {
                "status": order["state"],
                "filled": self.filled_units.get(order_id, Decimal(0)),
                "quantity": units,
                "order_id": order_id,
                "type": order["type"],
                "price": order.get("price"),
            }
        return record

    # --- transactions ---------------------------------------------------------------------

    @property
    def last_id(self) -> str:
        return str(self.transactions[-1]["id"])

    def record(self, tx: Json, batch: str | None = None) -> Json:
        tx_id = str(len(self.transactions) + 1)
        full = {"id": tx_id, "time": rfc3339(now_ns()), "userID": 1234567}
        full |= {"accountID": self.account_id, "batchID": batch or tx_id, "requestID": "1" + tx_id}
        full |= tx
        self.transactions.append(full)
        for listener in self.transaction_listeners:
            listener(full)
        return full

    def price_json(self, instrument: str) -> Json:
        bid, ask, ts = self.quotes[instrument]
        tradeable = instrument not in self.untradeable
        return {
            "type": "PRICE",
            "instrument": instrument,
            "time": rfc3339(ts),
            "status": "tradeable" if tradeable else "non-tradeable",
            "tradeable": tradeable,
            "bids": [{"price": dec(bid), "liquidity": 10_000_000}],
            "asks": [{"price": dec(ask), "liquidity": 10_000_000}],
            "closeoutBid": dec(bid),
            "closeoutAsk": dec(ask),
        }

    @staticmethod
    def touched(order: Json, bid: Decimal, ask: Decimal) -> Decimal | None:
        price = Decimal(order["price"])
        buy = Decimal(order["units"]) > 0
        market = ask if buy else bid
        kind = order["type"]
        if kind == "LIMIT" and (market <= price if buy else market >= price):
            return price
        if kind == "STOP" and (market >= price if buy else market <= price):
            return market
        if kind == "MARKET_IF_TOUCHED" and (market <= price if buy else market >= price):
            return market
        return None

    def expire(self, ts: int) -> None:
        for order_id, deadline in list(self._deadlines.items()):
            order = self.orders[order_id]
            if order["state"] != "PENDING":
                del self._deadlines[order_id]
            elif deadline <= ts:
                del self._deadlines[order_id]
                self.cancel(order, "TIME_IN_FORCE_EXPIRED")

    def cancel(self, order: Json, reason: str, replaced_by: str | None = None) -> Json:
        tx: Json = {"type": "ORDER_CANCEL", "orderID": order["id"], "reason": reason}
        if "clientExtensions" in order:
            tx["clientOrderID"] = order["clientExtensions"]["id"]
        if replaced_by is not None:
            tx["replacedByOrderID"] = replaced_by
        tx = self.record(tx)
        order.update(state="CANCELLED", cancellingTransactionID=tx["id"], cancelledTime=tx["time"])
        if replaced_by is not None:
            order["replacedByOrderID"] = replaced_by
        return tx

    def fill(self, order: Json, price: Decimal, units: Decimal | None = None) -> Json:
        """Fill ``order`` (or only ``units`` of it) at ``price``."""
        instrument = order["instrument"]
        units = Decimal(order["units"]) if units is None else units
        bid, ask, _ = self.quotes[instrument]
        position = self.positions.setdefault(
            instrument, {"units": Decimal(0), "avg": Decimal(0), "pl": Decimal(0)}
        )
        tx_id = str(len(self.transactions) + 1)
        held, avg = position["units"], position["avg"]
        opened: Json | None = None
        reduced: Json | None = None
        pl = Decimal(0)
        if held == 0 or (held > 0) == (units > 0):
            total = held + units
            position["avg"] = (avg * abs(held) + price * abs(units)) / abs(total)
            position["units"] = total
            opened = {"tradeID": tx_id, "units": dec(units), "price": dec(price)}
        else:
            closing = min(abs(units), abs(held)) * (1 if units > 0 else -1)
            pl = (price - avg) * -closing
            reduced = {"tradeID": "1", "units": dec(closing), "price": dec(price)}
            reduced["realizedPL"] = dec(pl)
            position["units"] = held + units
            if (held + units) != 0 and (held > 0) != (held + units > 0):
                position["avg"] = price
                opened = {"tradeID": tx_id, "units": dec(held + units), "price": dec(price)}
        position["pl"] += pl
        commission = self.commission_per_unit * abs(units)
        self.balance += pl - commission
        fill: Json = {
            "type": "ORDER_FILL",
            "orderID": order["id"],
            "instrument": instrument,
            "units": dec(units),
            "price": dec(price),
            "fullVWAP": dec(price),
            "reason": f"{order['type']}_ORDER",
            "pl": dec(pl),
            "financing": "0.0000",
            "commission": dec(commission),
            "guaranteedExecutionFee": "0.0000",
            "accountBalance": dec(self.balance),
            "halfSpreadCost": dec(abs(units) * (ask - bid) / 2),
        }
        if "clientExtensions" in order:
            fill["clientOrderID"] = order["clientExtensions"]["id"]
        if opened is not None:
            fill["tradeOpened"] = opened
        if reduced is not None and (position["units"] == 0 or opened is not None):
            fill["tradesClosed"] = [reduced]
        elif reduced is not None:
            fill["tradeReduced"] = reduced
        tx = self.record(fill)
        self.filled_units[order["id"]] = abs(units)
        order.update(state="FILLED", fillingTransactionID=tx["id"], filledTime=tx["time"])
        if opened is not None:
            order["tradeOpenedID"] = tx_id
        return tx

    # --- orders --------------------------------------------------------------------

    def reject(
        self,
        request: Json,
        reason: str,
        message: str,
        status: int = 400,
        replacing: Json | None = None,
    ) -> OandaError:
        kind = str(request.get("type")) if request.get("type") in _TYPES else "MARKET"
        tx = {k: v for k, v in request.items() if k in _REJECT_FIELDS}
        tx |= {"type": f"{_TYPES[kind]}_REJECT", "rejectReason": reason}
        if replacing is not None:  # the spec's reason and intendedReplacesOrderID
            tx |= {"reason": "REPLACEMENT", "intendedReplacesOrderID": replacing["id"]}
        tx.setdefault("reason", "CLIENT_ORDER")
        tx = self.record(tx)
        body = {"orderRejectTransaction": tx, "relatedTransactionIDs": [tx["id"]]}
        body |= {"lastTransactionID": tx["id"], "errorCode": reason, "errorMessage": message}
        return OandaError(status, body)

    def create(self, request: Any, replacing: Json | None = None) -> Json:
        if not isinstance(request, dict):
            raise OandaError(400, {"errorMessage": "Invalid value specified for 'order'"})
        refuse = functools.partial(self.reject, replacing=replacing)
        kind = request.get("type")
        if kind not in _TYPES:
            raise refuse(request, "ORDER_PARTIAL_FILL_OPTION_INVALID", f"type {kind!r}")
        if replacing is not None and kind != replacing["type"]:
            raise refuse(request, "REPLACING_ORDER_INVALID", "type must not change")
        instrument = request.get("instrument")
        if instrument not in self.quotes:
            raise refuse(request, "INSTRUMENT_UNKNOWN", f"unknown {instrument!r}")
        try:
            units = Decimal(str(request.get("units")))
            price = Decimal(request["price"]) if "price" in request else None
        except (InvalidOperation, TypeError):
            raise refuse(request, "UNITS_INVALID", "units or price invalid") from None
        if not units.is_finite() or units == 0:
            raise refuse(request, "UNITS_INVALID", f"units {units}")
        if kind != "MARKET" and (price is None or not price.is_finite() or price <= 0):
            raise refuse(request, "PRICE_MISSING", "price is required")
        tif = request.get("timeInForce", "FOK" if kind == "MARKET" else "GTC")
        if tif not in ("FOK", "IOC") if kind == "MARKET" else tif not in _TIF:
            raise refuse(request, "TIME_IN_FORCE_INVALID", f"timeInForce {tif!r}")
        if tif == "GTD" and "gtdTime" not in request:
            raise refuse(request, "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING", "gtdTime")
        if tif == "GTD" and parse_rfc3339(request["gtdTime"]) <= now_ns():
            raise refuse(request, "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST", "gtdTime")
        client_id = (request.get("clientExtensions") or {}).get("id")
        existing = self.by_client_id.get(client_id) if client_id else None
        if existing is not None and (replacing is None or existing != replacing["id"]):
            raise refuse(request, "CLIENT_ORDER_ID_ALREADY_EXISTS", f"{client_id} in use")
        fields = {k: v for k, v in request.items() if k in _ORDER_FIELDS}
        fields |= {"timeInForce": tif, "positionFill": request.get("positionFill", "DEFAULT")}
        if kind != "MARKET":
            fields.setdefault("triggerCondition", "DEFAULT")
        result: Json = {}
        if replacing is not None:
            new_id = str(len(self.transactions) + 2)
            result["orderCancelTransaction"] = self.cancel(
                replacing, "CLIENT_REQUEST_REPLACED", replaced_by=new_id
            )
            fields["replacesOrderID"] = replacing["id"]
        reason = "REPLACEMENT" if replacing is not None else "CLIENT_ORDER"
        created = self.record({**fields, "type": f"{_TYPES[kind]}", "reason": reason})
        result["orderCreateTransaction"] = created
        order: Json = {"id": created["id"], "createTime": created["time"], "state": "PENDING"}
        order |= {k: v for k, v in fields.items() if k != "reason"}
        order["type"] = kind
        self.orders[order["id"]] = order
        if order.get("gtdTime"):
            with contextlib.suppress(ValueError, ArithmeticError):
                self._deadlines[order["id"]] = parse_rfc3339(order["gtdTime"])
        if client_id:
            self.by_client_id[client_id] = order["id"]
        bid, ask, _ = self.quotes[instrument]
        market = ask if units > 0 else bid
        fillable = self.ioc_liquidity if tif == "IOC" else None
        if instrument in self.untradeable:
            # OANDA creates the order, then cancels a market order (MARKET_HALTED); a
            # pending order rests (an FOK/IOC one expires unfilled).
            if kind == "MARKET":
                result["orderCancelTransaction"] = self.cancel(order, "MARKET_HALTED")
            elif tif in ("FOK", "IOC"):
                result["orderCancelTransaction"] = self.cancel(order, "TIME_IN_FORCE_EXPIRED")
        elif (kind == "MARKET" or self.touched(order, bid, ask) is not None) and (
            fillable is not None and fillable < abs(units)
        ):
            # IOC: fill what the liquidity allows, cancel the rest (ORDER_FILL for the
            # filled units, then ORDER_CANCEL; the order ends CANCELLED).
            part = fillable if units > 0 else -fillable
            if part:
                result["orderFillTransaction"] = self.fill(order, market, part)
            result["orderCancelTransaction"] = self.cancel(order, "INSUFFICIENT_LIQUIDITY")
        elif kind == "MARKET" or self.touched(order, bid, ask) is not None:
            result["orderFillTransaction"] = self.fill(order, market)
        elif tif in ("FOK", "IOC"):
            result["orderCancelTransaction"] = self.cancel(order, "TIME_IN_FORCE_EXPIRED")
        result["relatedTransactionIDs"] = [
            t["id"] for t in result.values() if isinstance(t, dict) and "id" in t
        ]
        result["lastTransactionID"] = self.last_id
        return result

    def find(self, specifier: str) -> Json | None:
        if specifier.startswith("@"):
            order_id = self.by_client_id.get(specifier[1:])
            return self.orders.get(order_id) if order_id else None
        return self.orders.get(specifier)

    def cancel_reject(self, specifier: str, order: Json | None) -> OandaError:
        tx: Json = {"type": "ORDER_CANCEL_REJECT", "rejectReason": "ORDER_DOESNT_EXIST"}
        if order is not None:
            tx["orderID"] = order["id"]
        if specifier.startswith("@"):
            tx["clientOrderID"] = specifier[1:]
        tx = self.record(tx)
        body = {"orderCancelRejectTransaction": tx, "relatedTransactionIDs": [tx["id"]]}
        body |= {"lastTransactionID": tx["id"], "errorCode": "ORDER_DOESNT_EXIST"}
        body["errorMessage"] = "The Order specified does not exist"
        return OandaError(404, body)

    def transactions_query(self, rest: str, one: dict[str, str], headers: dict[str, str]) -> Json:
        types = set(one["type"].split(",")) if "type" in one else None

        def wanted(tx: Json) -> bool:
            return (
                types is None or tx["type"] in types or ("ORDER" in types and "ORDER" in tx["type"])
            )

        last = {"lastTransactionID": self.last_id}
        if rest == "transactions/idrange":
            low, high = int(one["from"]), int(one["to"])
            txs = [t for t in self.transactions[low - 1 : high] if wanted(t)]
            return {"transactions": txs, **last}
        if rest == "transactions/sinceid":
            return {"transactions": self.transactions[int(one["id"]) :], **last}
        if rest != "transactions":
            raise OandaError(404, {"errorMessage": f"No such endpoint {rest}"})
        start = parse_rfc3339(one["from"]) if "from" in one else self.created_ns
        end = parse_rfc3339(one["to"]) if "to" in one else now_ns()
        size = min(int(one.get("pageSize", 100)), 1000)
        ids = [
            int(t["id"])
            for t in self.transactions
            if start <= parse_rfc3339(t["time"]) <= end and wanted(t)
        ]
        base = f"http://{headers.get('host', '127.0.0.1')}/v3/accounts/{self.account_id}"
        suffix = f"&type={one['type']}" if "type" in one else ""
        pages = [
            f"{base}/transactions/idrange?from={ids[i]}&to={ids[min(i + size, len(ids)) - 1]}"
            + suffix
            for i in range(0, len(ids), size)
        ]
        result: Json = {"from": rfc3339(start), "to": rfc3339(end), "pageSize": size}
        if types is not None:
            result["type"] = sorted(types)
        return result | {"count": len(ids), "pages": pages, **last}

    def summary(self) -> Json:
        unrealized = Decimal(0)
        margin = Decimal(0)
        for name, position in self.positions.items():
            bid, ask, _ = self.quotes[name]
            mid = (bid + ask) / 2
            unrealized += (mid - position["avg"]) * position["units"]
            margin += abs(position["units"]) * mid * Decimal("0.02")
        nav = self.balance + unrealized
        zero = "0.0000"
        return {
            "id": self.account_id,
            "alias": "fake",
            "currency": self.currency,
            "balance": dec(self.balance),
            "createdByUserID": 1234567,
            "createdTime": rfc3339(self.created_ns),
            "guaranteedStopLossOrderMode": "DISABLED",
            "pl": dec(sum((p["pl"] for p in self.positions.values()), Decimal(0))),
            "resettablePL": zero,
            "financing": zero,
            "commission": zero,
            "guaranteedExecutionFees": zero,
            "marginRate": "0.02",
            "openTradeCount": sum(1 for p in self.positions.values() if p["units"]),
            "openPositionCount": sum(1 for p in self.positions.values() if p["units"]),
            "pendingOrderCount": sum(1 for o in self.orders.values() if o["state"] == "PENDING"),
            "hedgingEnabled": False,
            "unrealizedPL": dec(unrealized),
            "NAV": dec(nav),
            "marginUsed": dec(margin),
            "marginAvailable": dec(nav - margin),
            "positionValue": dec(margin * 50),
            "marginCloseoutUnrealizedPL": dec(unrealized),
            "marginCloseoutNAV": dec(nav),
            "marginCloseoutMarginUsed": dec(margin),
            "marginCloseoutPercent": zero,
            "marginCloseoutPositionValue": dec(margin * 50),
            "withdrawalLimit": dec(nav - margin),
            "marginCallMarginUsed": dec(margin),
            "marginCallPercent": zero,
            "lastTransactionID": self.last_id,
        }

    def position_json(self, instrument: str) -> Json:
        position = self.positions[instrument]
        units = position["units"]
        zero = "0.0000"

        def side(held: Decimal) -> Json:
            result: Json = {"units": dec(held), "pl": zero, "unrealizedPL": zero}
            result |= {"resettablePL": zero, "financing": zero, "guaranteedExecutionFees": zero}
            if held:
                result |= {"averagePrice": dec(position["avg"]), "tradeIDs": ["1"]}
            return result

        return {
            "instrument": instrument,
            "pl": dec(position["pl"]),
            "unrealizedPL": zero,
            "marginUsed": zero,
            "resettablePL": zero,
            "financing": zero,
            "commission": zero,
            "guaranteedExecutionFees": zero,
            "long": side(max(units, Decimal(0))),
            "short": side(min(units, Decimal(0))),
        }

    def candles(self, instrument: str, query: dict[str, list[str]]) -> Json:
        one = {k: v[0] for k, v in query.items()}
        granularity = one.get("granularity", "S5")
        if instrument not in self.quotes or granularity not in GRANULARITY_S:
            raise OandaError(400, {"errorMessage": "Invalid value specified for 'granularity'"})
        step = GRANULARITY_S[granularity] * 1_000_000_000
        end = parse_rfc3339(one["to"]) if "to" in one else now_ns()
        count = int(one.get("count", 500))
        start = parse_rfc3339(one["from"]) if "from" in one else end - count * step
        first = -(-start // step) * step
        stamps = list(range(first, end, step))
        if len(stamps) > 5000:
            raise OandaError(400, {"errorMessage": "Maximum value for 'count' exceeded"})
        bid, ask, _ = self.quotes[instrument]
        mid = (bid + ask) / 2
        tick = Decimal(1).scaleb(bid.as_tuple().exponent)  # type: ignore[arg-type]
        candles = []
        for ts in stamps:
            base = mid + tick * ((ts // step) % 7 - 3)
            data = {
                "o": dec(base),
                "h": dec(base + 2 * tick),
                "l": dec(base - tick),
                "c": dec(base + tick),
            }
            candle: Json = {
                "time": rfc3339(ts),
                "volume": 10 + (ts // step) % 5,
                "complete": ts + step <= now_ns(),
            }
            for letter, key in (("M", "mid"), ("B", "bid"), ("A", "ask")):
                if letter in one.get("price", "M"):
                    candle[key] = data
            candles.append(candle)
        return {"instrument": instrument, "granularity": granularity, "candles": candles}


_TYPES = {
    "MARKET": "MARKET_ORDER",
    "LIMIT": "LIMIT_ORDER",
    "STOP": "STOP_ORDER",
    "MARKET_IF_TOUCHED": "MARKET_IF_TOUCHED_ORDER",
}
_TIF = ("GTC", "GTD", "GFD", "FOK", "IOC")
_ORDER_FIELDS = frozenset(
    {
        "instrument",
        "units",
        "price",
        "priceBound",
        "timeInForce",
        "gtdTime",
        "positionFill",
        "triggerCondition",
        "clientExtensions",
        "takeProfitOnFill",
        "stopLossOnFill",
        "trailingStopLossOnFill",
        "tradeClientExtensions",
    }
)
_REJECT_FIELDS = _ORDER_FIELDS - {"priceBound"}
