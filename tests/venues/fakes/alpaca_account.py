"""The fake Alpaca's account: orders, matching, fills and positions, as Alpaca models them.

It follows the documented Trading API v2 rules that matter to an adapter:

* a ``client_order_id`` is unique FOREVER on the account: reusing one is a 422, even
  after the first order closed;
* a replace (PATCH) creates a new order (new ``id``, ``replaces`` set) and closes the
  old one with status ``replaced`` (``replaced_by`` set); the old order keeps its fills;
* buying power is checked on buys (403 ``insufficient buying power``);
* a cancel or replace of a closed order is a 422; an unknown order is a 404.

Market orders fill at the quote (ask for buys, bid for sells). A limit order that is
marketable on arrival fills at the quote; a resting one fills at its limit when a new
quote crosses it. Stops trigger on the quote and then work as market or limit orders.
When a quote has sizes, fills are capped at that size (partial fills).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZERO = Decimal(0)
CENT = Decimal("0.01")
OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled"})
ORDER_TYPES = frozenset({"market", "limit", "stop", "stop_limit", "trailing_stop"})
TIMES_IN_FORCE = frozenset({"day", "gtc", "opg", "cls", "ioc", "fok"})
MAX_CLIENT_ORDER_ID = 128


class ApiRejection(Exception):
    """An Alpaca API error: HTTP status and Alpaca's JSON body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message}


def invalid(message: str) -> ApiRejection:
    """Return Alpaca's 422 for a request it cannot accept."""
    return ApiRejection(422, 40010001, message)


def not_found(what: str) -> ApiRejection:
    """Return Alpaca's 404 for an unknown order."""
    return ApiRejection(404, 40410000, f"{what} not found")


def text(value: Decimal) -> str:
    """Return a decimal as Alpaca writes it: a plain string without trailing zeros."""
    shown = format(value.normalize(), "f")
    return "0" if shown == "-0" else shown


def rfc3339(ts_ns: int) -> str:
    """Return RFC 3339 with microseconds, as Alpaca's trading API writes timestamps."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos // 1000:06d}Z"


def parse_decimal(value: object, name: str) -> Decimal:
    """Read a JSON number or numeric string, as Alpaca accepts both."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{name} must be a number")
    try:
        result = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation:
        raise invalid(f"invalid {name}: {value!r}") from None
    if not result.is_finite():
        raise invalid(f"invalid {name}: {value!r}")
    return result


def _positive(body: dict[str, Any], name: str) -> Decimal | None:
    if body.get(name) is None:
        return None
    value = parse_decimal(body[name], name)
    if value <= 0:
        raise invalid(f"{name} must be > 0")
    return value


def _check_price_increment(price: Decimal, name: str) -> None:
    places = -price.normalize().as_tuple().exponent  # type: ignore[operator]
    if places > (2 if price >= 1 else 4):
        raise invalid(
            f"invalid {name} {price}: sub-penny increment does not fulfill minimum pricing criteria"
        )


@dataclass
class Quote:
    bid: Decimal
    ask: Decimal
    bid_size: Decimal | None
    ask_size: Decimal | None
    ts: int


@dataclass
class FakeOrder:
    """One order as Alpaca stores it."""

    id: str
    client_order_id: str
    symbol: str
    asset_id: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    trail_price: Decimal | None
    trail_percent: Decimal | None
    extended_hours: bool
    created_ns: int
    status: str = "new"
    filled_qty: Decimal = ZERO
    filled_notional: Decimal = ZERO
    hwm: Decimal | None = None
    triggered: bool = False
    updated_ns: int = 0
    filled_ns: int | None = None
    canceled_ns: int | None = None
    expired_ns: int | None = None
    replaced_ns: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    def to_json(self) -> dict[str, Any]:
        """Return the order object of the Trading API v2."""

        def ts(value: int | None) -> str | None:
            return rfc3339(value) if value is not None else None

        def dec(value: Decimal | None) -> str | None:
            return text(value) if value is not None else None

        average = self.filled_notional / self.filled_qty if self.filled_qty else None
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": rfc3339(self.created_ns),
            "updated_at": rfc3339(self.updated_ns or self.created_ns),
            "submitted_at": rfc3339(self.created_ns),
            "filled_at": ts(self.filled_ns),
            "expired_at": ts(self.expired_ns),
            "canceled_at": ts(self.canceled_ns),
            "failed_at": None,
            "replaced_at": ts(self.replaced_ns),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": self.asset_id,
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": text(self.qty),
            "filled_qty": text(self.filled_qty),
            "filled_avg_price": dec(average),
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": f"{self.side}_to_open",
            "time_in_force": self.time_in_force,
            "limit_price": dec(self.limit_price),
            "stop_price": dec(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": dec(self.trail_percent),
            "trail_price": dec(self.trail_price),
            "hwm": dec(self.hwm),
            "subtag": None,
            "source": None,
        }


@dataclass
class Position:
    qty: Decimal = ZERO
    avg_entry_price: Decimal = ZERO


TradeUpdateSink = Callable[[dict[str, Any]], None]


@dataclass
class FakeAccount:
    """The state behind the fake's REST endpoints and its trade_updates stream."""

    symbols: frozenset[str]
    cash: Decimal = Decimal(100_000)
    account_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    quotes: dict[str, Quote] = field(default_factory=dict)
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    client_ids: dict[str, str] = field(default_factory=dict)
    """Every client order ID ever used on the account -> order ID (never forgotten)."""
    activities: list[dict[str, Any]] = field(default_factory=list)
    activity_ns: list[int] = field(default_factory=list)
    """The time of each activity, in order (activities are appended as they happen)."""
    positions: dict[str, Position] = field(default_factory=dict)
    sink: TradeUpdateSink | None = None
    _last_ns: int = 0
    _asset_ids: dict[str, str] = field(default_factory=dict)

    def now_ns(self) -> int:
        """Return a strictly increasing wall-clock time, whole microseconds."""
        now = time.time_ns() // 1000 * 1000
        self._last_ns = max(now, self._last_ns + 1000)
        return self._last_ns

    def _emit(self, event: str, order: FakeOrder, **extra: Any) -> None:
        if self.sink is not None:
            data = {
                "event": event,
                "execution_id": str(uuid.uuid4()),
                "order": order.to_json(),
                "timestamp": rfc3339(order.updated_ns),
                **extra,
            }
            self.sink(data)

    # Orders ---------------------------------------------------------------------------

    def submit(self, body: dict[str, Any]) -> FakeOrder:
        """Validate and create an order (POST /v2/orders); ``work`` then matches it."""
        order = self._new_order(body)
        self.orders[order.id] = order
        self.client_ids[order.client_order_id] = order.id
        self._emit("new", order)
        return order

    def work(self, order: FakeOrder) -> None:
        """Match an order that just arrived (after Alpaca acknowledged it)."""
        self._work(order, arriving=True)

    def _new_order(self, body: dict[str, Any], base: FakeOrder | None = None) -> FakeOrder:
        symbol = body.get("symbol") if base is None else base.symbol
        if not isinstance(symbol, str) or symbol not in self.symbols:
            raise invalid(f'asset "{symbol}" not found')
        if body.get("notional") is not None:
            raise invalid("notional orders are not supported by this fake")
        order_class = body.get("order_class") or "simple"
        if order_class != "simple":
            raise invalid(f"order_class {order_class} is not supported by this fake")
        side = body.get("side") if base is None else base.side
        if side not in ("buy", "sell"):
            raise invalid(f"invalid side: {side!r}")
        kind = body.get("type") if base is None else base.type
        if kind not in ORDER_TYPES:
            raise invalid(f"invalid order type: {kind!r}")
        tif = body.get("time_in_force") or (base.time_in_force if base else None)
        if tif not in TIMES_IN_FORCE:
            raise invalid(f"invalid time_in_force: {tif!r}")
        qty = _positive(body, "qty") or (base.remaining if base else None)
        if qty is None:
            raise invalid("qty is required")
        limit = (
            _positive(body, "limit_price")
            if "limit_price" in body
            else (base.limit_price if base else None)
        )
        stop = (
            _positive(body, "stop_price")
            if "stop_price" in body
            else (base.stop_price if base else None)
        )
        trail_price = _positive(body, "trail_price") or (base.trail_price if base else None)
        trail_percent = _positive(body, "trail_percent") or (base.trail_percent if base else None)
        if base is not None and body.get("trail") is not None:
            if base.type != "trailing_stop":
                raise invalid("trail is only for trailing_stop orders")
            trail = _positive(body, "trail")
            trail_price, trail_percent = (
                (trail, None) if base.trail_price is not None else (None, trail)
            )
        if kind in ("limit", "stop_limit") and limit is None:
            raise invalid(f"limit_price is required for {kind} orders")
        if kind not in ("limit", "stop_limit") and limit is not None:
            raise invalid(f"limit_price is not allowed for {kind} orders")
        if kind in ("stop", "stop_limit") and stop is None:
            raise invalid(f"stop_price is required for {kind} orders")
        if kind not in ("stop", "stop_limit", "trailing_stop") and stop is not None:
            raise invalid(f"stop_price is not allowed for {kind} orders")
        if kind == "trailing_stop" and (trail_price is None) == (trail_percent is None):
            raise invalid("trailing_stop orders need exactly one of trail_price, trail_percent")
        for name, price in (("limit_price", limit), ("stop_price", stop)):
            if price is not None:
                _check_price_increment(price, name)
        extended = bool(body.get("extended_hours")) if base is None else base.extended_hours
        if extended and (kind != "limit" or tif != "day"):
            raise invalid("extended hours order must be DAY limit orders")
        if qty != qty.to_integral_value() and (kind == "trailing_stop" or tif != "day"):
            raise invalid("fractional orders must be DAY orders")
        client_order_id = body.get("client_order_id") or str(uuid.uuid4())
        if not isinstance(client_order_id, str) or len(client_order_id) > MAX_CLIENT_ORDER_ID:
            raise invalid("client_order_id must be a string of at most 128 characters")
        if client_order_id in self.client_ids:
            raise invalid("client_order_id must be unique")
        if side == "buy":
            self._check_buying_power(symbol, qty, limit or stop)
        now = self.now_ns()
        order = FakeOrder(
            id=str(uuid.uuid4()),
            client_order_id=client_order_id,
            symbol=symbol,
            asset_id=self._asset_ids.setdefault(symbol, str(uuid.uuid4())),
            side=side,
            type=kind,
            time_in_force=tif,
            qty=qty,
            limit_price=limit,
            stop_price=stop,
            trail_price=trail_price,
            trail_percent=trail_percent,
            extended_hours=extended,
            created_ns=now,
            updated_ns=now,
        )
        if kind == "trailing_stop":
            self._trail(order)
        return order

    def _check_buying_power(self, symbol: str, qty: Decimal, price: Decimal | None) -> None:
        quote = self.quotes.get(symbol)
        estimate = price or (quote.ask if quote else None)
        if estimate is not None and qty * estimate > self.buying_power:
            raise ApiRejection(403, 40310000, "insufficient buying power")

    @property
    def buying_power(self) -> Decimal:
        return max(ZERO, self.cash)

    def get(self, order_id: str) -> FakeOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise not_found("order")
        return order

    def by_client_id(self, client_order_id: str) -> FakeOrder:
        order_id = self.client_ids.get(client_order_id)
        if order_id is None:
            raise not_found(f"order for client_order_id {client_order_id}")
        return self.orders[order_id]

    def cancel(self, order_id: str) -> None:
        """DELETE /v2/orders/{id}: cancel an open order (422 when it is closed)."""
        order = self.get(order_id)
        if not order.is_open:
            raise ApiRejection(422, 42210000, f'order is already in "{order.status}" state')
        self._close(order, "canceled")

    def replace(self, order_id: str, body: dict[str, Any]) -> FakeOrder:
        """PATCH /v2/orders/{id}: replace an open order with a new one; ``work`` matches it."""
        old = self.get(order_id)
        if not old.is_open:
            raise ApiRejection(422, 42210000, f'order is already in "{old.status}" state')
        if body.get("qty") is not None and parse_decimal(body["qty"], "qty") <= 0:
            raise invalid("qty must be > 0")
        if body.get("limit_price") is not None and old.type not in ("limit", "stop_limit"):
            raise invalid(f"limit_price is not allowed for {old.type} orders")
        if body.get("stop_price") is not None and old.type not in ("stop", "stop_limit"):
            raise invalid(f"stop_price is not allowed for {old.type} orders")
        new = self._new_order(body, base=old)
        new.replaces = old.id
        new.hwm = old.hwm if old.type == "trailing_stop" else None
        old.status = "replaced"
        old.replaced_by = new.id
        old.replaced_ns = old.updated_ns = new.created_ns
        self.orders[new.id] = new
        self.client_ids[new.client_order_id] = new.id
        self._emit("replaced", old)
        self._emit("new", new)
        return new

    def expire_day_orders(self) -> None:
        """End the trading day: every open DAY order expires."""
        for order in list(self.orders.values()):
            if order.is_open and order.time_in_force == "day":
                self._close(order, "expired")

    def _close(self, order: FakeOrder, status: str) -> None:
        now = self.now_ns()
        order.status = status
        order.updated_ns = now
        if status == "canceled":
            order.canceled_ns = now
        elif status == "expired":
            order.expired_ns = now
        self._emit(status, order)

    # Matching -------------------------------------------------------------------------

    def set_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal | None = None,
        ask_size: Decimal | None = None,
    ) -> None:
        """Set the best bid and ask, then work every open order on the symbol."""
        self.quotes[symbol] = Quote(bid, ask, bid_size, ask_size, self.now_ns())
        for order in list(self.orders.values()):
            if order.symbol == symbol and order.is_open:
                self._work(order, arriving=False)

    def _trail(self, order: FakeOrder) -> None:
        quote = self.quotes.get(order.symbol)
        if quote is None:
            return
        buy = order.side == "buy"
        mark = quote.ask if buy else quote.bid
        if order.hwm is None or (mark < order.hwm if buy else mark > order.hwm):
            order.hwm = mark
        if order.trail_price is not None:
            distance = order.trail_price
        else:
            assert order.trail_percent is not None
            distance = order.hwm * order.trail_percent / 100
        stop = order.hwm + distance if buy else order.hwm - distance
        order.stop_price = stop.quantize(CENT, rounding=ROUND_HALF_UP)

    def _work(self, order: FakeOrder, *, arriving: bool) -> None:
        quote = self.quotes.get(order.symbol)
        if order.type == "trailing_stop":
            self._trail(order)
        if quote is None:
            return
        buy = order.side == "buy"
        if order.type in ("stop", "stop_limit", "trailing_stop") and not order.triggered:
            assert order.stop_price is not None
            order.triggered = (
                quote.ask >= order.stop_price if buy else quote.bid <= order.stop_price
            )
            if not order.triggered:
                return
        touch = quote.ask if buy else quote.bid
        if order.limit_price is None:
            price: Decimal | None = touch
        elif (buy and touch <= order.limit_price) or (not buy and touch >= order.limit_price):
            price = touch if arriving else order.limit_price
        else:
            price = None
        available = quote.ask_size if buy else quote.bid_size
        if price is not None:
            size = order.remaining if available is None else min(order.remaining, available)
            if order.time_in_force == "fok" and size < order.remaining:
                size = ZERO
            if size > 0:
                self._fill(order, size, price)
                if available is not None:
                    if buy:
                        quote.ask_size = available - size
                    else:
                        quote.bid_size = available - size
        if arriving and order.is_open and order.time_in_force in ("ioc", "fok"):
            self._close(order, "canceled")

    def _fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        now = self.now_ns()
        order.filled_qty += qty
        order.filled_notional += qty * price
        order.updated_ns = now
        done = order.filled_qty >= order.qty
        order.status = "filled" if done else "partially_filled"
        if done:
            order.filled_ns = now
        signed = qty if order.side == "buy" else -qty
        self.cash -= signed * price
        position = self.positions.setdefault(order.symbol, Position())
        if position.qty == 0 or (position.qty > 0) == (signed > 0):
            total = abs(position.qty) + qty
            position.avg_entry_price = (
                position.avg_entry_price * abs(position.qty) + price * qty
            ) / total
        elif abs(signed) > abs(position.qty):
            position.avg_entry_price = price  # the position flipped side
        position.qty += signed
        stamp = datetime.fromtimestamp(now // 1_000_000_000, tz=UTC).strftime("%Y%m%d%H%M%S")
        millis = now // 1_000_000 % 1000
        self.activity_ns.append(now)
        self.activities.append(
            {
                "id": f"{stamp}{millis:03d}::{uuid.uuid4()}",
                "activity_type": "FILL",
                "transaction_time": rfc3339(now),
                "type": "fill" if done else "partial_fill",
                "price": text(price),
                "qty": text(qty),
                "side": order.side,
                "symbol": order.symbol,
                "leaves_qty": text(order.remaining),
                "order_id": order.id,
                "cum_qty": text(order.filled_qty),
                "order_status": order.status,
            }
        )
        self._emit(
            "fill" if done else "partial_fill",
            order,
            price=text(price),
            qty=text(qty),
            position_qty=text(position.qty),
        )

    # Account --------------------------------------------------------------------------

    def _mark(self, symbol: str, fallback: Decimal) -> Decimal:
        quote = self.quotes.get(symbol)
        return (quote.bid + quote.ask) / 2 if quote else fallback

    def account_json(self) -> dict[str, Any]:
        """Return the account object of GET /v2/account."""
        long_value = sum(
            (
                p.qty * self._mark(s, p.avg_entry_price)
                for s, p in self.positions.items()
                if p.qty > 0
            ),
            ZERO,
        )
        short_value = sum(
            (
                p.qty * self._mark(s, p.avg_entry_price)
                for s, p in self.positions.items()
                if p.qty < 0
            ),
            ZERO,
        )
        equity = self.cash + long_value + short_value
        cash = text(self.cash)
        return {
            "id": self.account_id,
            "account_number": "PA3FAKE00001",
            "status": "ACTIVE",
            "crypto_status": "INACTIVE",
            "currency": "USD",
            "buying_power": text(self.buying_power),
            "regt_buying_power": text(self.buying_power),
            "daytrading_buying_power": "0",
            "effective_buying_power": text(self.buying_power),
            "non_marginable_buying_power": text(self.buying_power),
            "options_buying_power": "0",
            "bod_dtbp": "0",
            "cash": cash,
            "accrued_fees": "0",
            "pending_transfer_in": "0",
            "portfolio_value": text(equity),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": "2024-01-02T15:00:00.000000Z",
            "trade_suspended_by_user": False,
            "multiplier": "1",
            "shorting_enabled": True,
            "equity": text(equity),
            "last_equity": text(equity),
            "long_market_value": text(long_value),
            "short_market_value": text(short_value),
            "position_market_value": text(long_value - short_value),
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
            "options_approved_level": 0,
            "options_trading_level": 0,
        }

    def positions_json(self) -> list[dict[str, Any]]:
        """Return the position objects of GET /v2/positions."""
        result = []
        for symbol, p in self.positions.items():
            if p.qty == 0:
                continue
            mark = self._mark(symbol, p.avg_entry_price)
            cost = p.qty * p.avg_entry_price
            value = p.qty * mark
            pnl = value - cost
            result.append(
                {
                    "asset_id": self._asset_ids.setdefault(symbol, str(uuid.uuid4())),
                    "symbol": symbol,
                    "exchange": "ARCA",
                    "asset_class": "us_equity",
                    "asset_marginable": True,
                    "avg_entry_price": text(p.avg_entry_price),
                    "qty": text(p.qty),
                    "side": "long" if p.qty > 0 else "short",
                    "market_value": text(value),
                    "cost_basis": text(cost),
                    "unrealized_pl": text(pnl),
                    "unrealized_plpc": text(pnl / abs(cost)) if cost else "0",
                    "unrealized_intraday_pl": text(pnl),
                    "unrealized_intraday_plpc": text(pnl / abs(cost)) if cost else "0",
                    "current_price": text(mark),
                    "lastday_price": text(mark),
                    "change_today": "0",
                    "qty_available": text(p.qty),
                }
            )
        return result
