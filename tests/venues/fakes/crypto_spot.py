"""What the Binance and Kraken fakes share: a spot matching book, and fault injection.

The book is venue neutral; each fake renders it in its venue's wire format and maps
``BookReject`` reasons to the venue's own error codes and texts.

Matching rules (as the contract harness describes them):

* A MARKET order fills in full at once: buys at the ask, sells at the bid (taker).
* A LIMIT order that is marketable on arrival fills at once at the ask or bid (taker),
  unless it is post-only, which is refused. Otherwise it rests (GTC, GTD) or expires
  (IOC, FOK). A resting limit fills in full at its limit price when ``set_quote``
  crosses it (maker).
* Stop and take-profit orders rest untriggered. STOP_LOSS triggers when the ask
  (buys) rises to the stop or the bid (sells) falls to it; TAKE_PROFIT the other way
  round. A triggered market order fills at the quote; a triggered limit order works as
  a limit order.
* Fees are ``fee_rate`` of the notional, charged in the quote asset. Buys lock quote
  (price × quantity × (1 + fee)), sells lock base, until filled or cancelled.
* Client order IDs must be unique among open orders; a closed order's ID may be used
  again (Binance and Kraken both behave so).

Faults (``Faults``, seeded; or one-shot with ``FaultInjector.inject``), with the same
names as the other fakes: ``"429"`` (HTTP 429 with Retry-After, not applied),
``"418"`` (banned: HTTP 418 with Retry-After on Binance; Kraken answers with its
lockout error), ``"5xx"`` (not applied), ``"5xx_applied"`` (applied, then HTTP 500),
``"timeout"`` (hangs ``hang_s``, not applied), ``"drop"`` (applied, then the connection
is cut before any answer). ``corrupt`` rewrites the body of a matching answer after
the request was applied (malformed JSON, unknown enum values, negative fills).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

FAULTS = ("429", "418", "5xx", "5xx_applied", "timeout", "drop")
OPEN = frozenset({"NEW", "PARTIALLY_FILLED", "PENDING_NEW"})
"""PENDING_NEW: the pending order of an order list (OTO), open but not yet working."""
STOPS = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
LIMITS = frozenset({"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
ZERO = Decimal(0)


def now_ms() -> int:
    """Return the wall clock in milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SpotMarket:
    """One spot pair and its trading rules."""

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal


@dataclass
class SpotOrder:
    """An order as the fake venue holds it."""

    oid: str
    seq: int
    client_id: str | None
    symbol: str
    side: str
    """BUY or SELL."""
    kind: str
    """MARKET, LIMIT, STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT or TAKE_PROFIT_LIMIT."""
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: str
    post_only: bool
    created_ms: int
    expire_ms: int | None = None
    iceberg_qty: Decimal | None = None
    status: str = "NEW"
    """NEW, PENDING_NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED or REJECTED."""
    filled: Decimal = ZERO
    quote_filled: Decimal = ZERO
    fee: Decimal = ZERO
    updated_ms: int = 0
    triggered: bool = False
    locked: Decimal = ZERO
    reason: str | None = None
    trade_ids: list[str] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def average(self) -> Decimal:
        return self.quote_filled / self.filled if self.filled else ZERO


@dataclass
class SpotTrade:
    """One execution."""

    tid: str
    seq: int
    oid: str
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    time_ms: int
    maker: bool


@dataclass
class Quote:
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal


class BookReject(Exception):
    """The venue refuses a request. ``reason`` is one of the names below."""

    REASONS = frozenset(
        {
            "UNKNOWN_SYMBOL",
            "BAD_QUANTITY",
            "BAD_PRICE",
            "MIN_NOTIONAL",
            "MIN_QTY",
            "INSUFFICIENT_FUNDS",
            "DUPLICATE_CLIENT_ID",
            "WOULD_TAKE",
            "WOULD_TRIGGER",
            "NO_QUOTE",
            "UNKNOWN_ORDER",
        }
    )

    def __init__(self, reason: str, detail: str = "") -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SpotBook:
    """Orders, trades, balances and quotes of one fake spot account."""

    def __init__(
        self,
        markets: list[SpotMarket],
        balances: dict[str, Decimal],
        *,
        order_id: Callable[[int], str],
        trade_id: Callable[[int], str],
        fee_rate: Decimal = Decimal("0.001"),
        reject_immediate_trigger: bool = True,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.markets = {m.symbol: m for m in markets}
        self.free: dict[str, Decimal] = dict(balances)
        self.locked: dict[str, Decimal] = dict.fromkeys(balances, ZERO)
        self.quotes: dict[str, Quote] = {}
        self.orders: dict[str, SpotOrder] = {}
        self.trades: list[SpotTrade] = []
        self.fee_rate = fee_rate
        self.reject_immediate_trigger = reject_immediate_trigger
        self._order_id = order_id
        self._trade_id = trade_id
        self.clock = clock_ms
        """The venue clock in milliseconds (tests may replace it)."""
        self.listeners: list[Callable[[str, SpotOrder, SpotTrade | None], None]] = []
        """Called on every change of an order: ``(execution type, order, trade)``, where the
        execution type is Binance's word (NEW, TRADE, CANCELED, EXPIRED, REPLACED)."""
        self._seq = 0
        self._trade_seq = 0

    # Queries --------------------------------------------------------------------------

    def open_by_client(self, client_id: str) -> SpotOrder | None:
        """Return the open order with this client ID, if any."""
        for order in self.orders.values():
            if order.client_id == client_id and order.is_open:
                return order
        return None

    def latest_by_client(self, client_id: str) -> SpotOrder | None:
        """Return the most recent order with this client ID, if any."""
        found = [o for o in self.orders.values() if o.client_id == client_id]
        return max(found, key=lambda o: o.seq) if found else None

    def open_orders(self, symbol: str | None = None) -> list[SpotOrder]:
        """Return open orders, oldest first."""
        return [
            o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def record(self) -> dict[str, dict[str, object]]:
        """Return the latest order per client ID: status, filled and quantity."""
        result: dict[str, dict[str, object]] = {}
        for order in sorted(self.orders.values(), key=lambda o: o.seq):
            if order.client_id is not None:
                result[order.client_id] = {
                    "status": order.status,
                    "filled": order.filled,
                    "quantity": order.quantity,
                    "venue_order_id": order.oid,
                }
        return result

    # Commands -------------------------------------------------------------------------

    def submit(
        self,
        *,
        symbol: str,
        side: str,
        kind: str,
        quantity: Decimal,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        tif: str = "GTC",
        post_only: bool = False,
        client_id: str | None = None,
        expire_ms: int | None = None,
        iceberg_qty: Decimal | None = None,
    ) -> SpotOrder:
        """Accept (and perhaps fill) an order, or raise BookReject."""
        market = self.markets.get(symbol)
        if market is None:
            raise BookReject("UNKNOWN_SYMBOL", symbol)
        self._check_numbers(market, quantity, price, stop_price)
        if client_id is not None and self.open_by_client(client_id) is not None:
            raise BookReject("DUPLICATE_CLIENT_ID", client_id)
        quote = self.quotes.get(symbol)
        reference = price or stop_price
        if reference is None:
            if quote is None:
                raise BookReject("NO_QUOTE", symbol)
            reference = quote.ask if side == "BUY" else quote.bid
        if quantity * reference < market.min_notional:
            raise BookReject("MIN_NOTIONAL", f"{quantity * reference} < {market.min_notional}")
        lock = self._lock_amount(side, quantity, reference)
        lock_asset = market.quote if side == "BUY" else market.base
        if self.free.get(lock_asset, ZERO) < lock:
            raise BookReject("INSUFFICIENT_FUNDS", f"{lock_asset} {lock}")
        if (
            self.reject_immediate_trigger
            and kind in STOPS
            and quote is not None
            and self._triggers(kind, side, stop_price, quote)
        ):
            raise BookReject("WOULD_TRIGGER", str(stop_price))
        if (
            post_only
            and quote is not None
            and price is not None
            and self._crosses(side, price, quote)
        ):
            raise BookReject("WOULD_TAKE", str(price))
        self._seq += 1
        now = self.clock()
        order = SpotOrder(
            oid=self._order_id(self._seq),
            seq=self._seq,
            client_id=client_id,
            symbol=symbol,
            side=side,
            kind=kind,
            quantity=quantity,
            price=price,
            stop_price=stop_price,
            tif=tif,
            post_only=post_only,
            created_ms=now,
            expire_ms=expire_ms,
            iceberg_qty=iceberg_qty,
            updated_ms=now,
        )
        self.orders[order.oid] = order
        self._move(lock_asset, lock, to_locked=True)
        order.locked = lock
        self._emit("NEW", order)
        self._work(order, quote, arriving=True)
        return order

    def cancel(self, order: SpotOrder, reason: str = "User requested") -> None:
        """Cancel an open order, or raise BookReject("UNKNOWN_ORDER")."""
        if not order.is_open:
            raise BookReject("UNKNOWN_ORDER", order.oid)
        self._close(order, "CANCELED", reason)

    def amend(
        self,
        order: SpotOrder,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        """Change an open order in place (same IDs), then match it again."""
        if not order.is_open:
            raise BookReject("UNKNOWN_ORDER", order.oid)
        market = self.markets[order.symbol]
        self._check_numbers(market, quantity or order.quantity, price, stop_price)
        if quantity is not None:
            if quantity <= order.filled:
                raise BookReject("BAD_QUANTITY", "below the filled quantity")
            order.quantity = quantity
        if price is not None:
            order.price = price
        if stop_price is not None:
            order.stop_price = stop_price
        order.updated_ms = self.clock()
        self._emit("REPLACED", order)
        self._work(order, self.quotes.get(order.symbol), arriving=False)

    def set_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: Decimal = Decimal(10),
        ask_size: Decimal = Decimal(10),
    ) -> None:
        """Move the market; trigger and fill the resting orders it reaches."""
        quote = Quote(bid, ask, bid_size, ask_size)
        self.quotes[symbol] = quote
        self.expire_due()
        for order in sorted(self.open_orders(symbol), key=lambda o: o.seq):
            self._work(order, quote, arriving=False)

    def expire_due(self) -> None:
        """Expire GTD orders whose time has come."""
        now = self.clock()
        for order in self.open_orders():
            if order.expire_ms is not None and order.expire_ms <= now:
                self._close(order, "EXPIRED", "GTD expiry")

    def fill(self, order: SpotOrder, qty: Decimal, price: Decimal, *, maker: bool) -> SpotTrade:
        """Execute ``qty`` of ``order`` at ``price`` (tests may call it for partial fills)."""
        market = self.markets[order.symbol]
        qty = min(qty, order.quantity - order.filled)
        notional = qty * price
        fee = (notional * self.fee_rate).quantize(market.tick * Decimal("0.0001"))
        share = order.locked * qty / (order.quantity - order.filled)
        if order.side == "BUY":
            self._move(market.quote, share, to_locked=False)
            self.free[market.quote] = self.free.get(market.quote, ZERO) - notional - fee
            self.free[market.base] = self.free.get(market.base, ZERO) + qty
        else:
            self._move(market.base, share, to_locked=False)
            self.free[market.base] = self.free.get(market.base, ZERO) - qty
            self.free[market.quote] = self.free.get(market.quote, ZERO) + notional - fee
        order.locked -= share
        order.filled += qty
        order.quote_filled += notional
        order.fee += fee
        order.updated_ms = self.clock()
        order.status = "FILLED" if order.filled >= order.quantity else "PARTIALLY_FILLED"
        self._trade_seq += 1
        trade = SpotTrade(
            tid=self._trade_id(self._trade_seq),
            seq=self._trade_seq,
            oid=order.oid,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            fee_asset=market.quote,
            time_ms=order.updated_ms,
            maker=maker,
        )
        self.trades.append(trade)
        order.trade_ids.append(trade.tid)
        self._emit("TRADE", order, trade)
        return trade

    # Internals ------------------------------------------------------------------------

    def _emit(self, execution: str, order: SpotOrder, trade: SpotTrade | None = None) -> None:
        for listener in self.listeners:
            listener(execution, order, trade)

    def _check_numbers(
        self,
        market: SpotMarket,
        quantity: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        if quantity <= 0 or quantity % market.step != 0:
            raise BookReject("BAD_QUANTITY", f"{quantity} (step {market.step})")
        if quantity < market.min_qty:
            raise BookReject("MIN_QTY", f"{quantity} < {market.min_qty}")
        for value in (price, stop_price):
            if value is not None and (value <= 0 or value % market.tick != 0):
                raise BookReject("BAD_PRICE", f"{value} (tick {market.tick})")

    def _lock_amount(self, side: str, quantity: Decimal, reference: Decimal) -> Decimal:
        if side == "BUY":
            return quantity * reference * (1 + self.fee_rate)
        return quantity

    def _move(self, asset: str, amount: Decimal, *, to_locked: bool) -> None:
        sign = 1 if to_locked else -1
        self.free[asset] = self.free.get(asset, ZERO) - sign * amount
        self.locked[asset] = self.locked.get(asset, ZERO) + sign * amount

    @staticmethod
    def _crosses(side: str, price: Decimal, quote: Quote) -> bool:
        return price >= quote.ask if side == "BUY" else price <= quote.bid

    @staticmethod
    def _triggers(kind: str, side: str, stop: Decimal | None, quote: Quote) -> bool:
        if stop is None:
            return False
        if kind.startswith("STOP_LOSS"):
            return quote.ask >= stop if side == "BUY" else quote.bid <= stop
        return quote.ask <= stop if side == "BUY" else quote.bid >= stop

    def _work(self, order: SpotOrder, quote: Quote | None, *, arriving: bool) -> None:
        if not order.is_open or order.status == "PENDING_NEW" or quote is None:
            return
        if order.kind in STOPS and not order.triggered:
            if not self._triggers(order.kind, order.side, order.stop_price, quote):
                return
            order.triggered = True
            arriving = True  # a triggered order takes liquidity like a new one
        touch = quote.ask if order.side == "BUY" else quote.bid
        if order.kind in LIMITS:
            assert order.price is not None
            if not self._crosses(order.side, order.price, quote):
                if order.tif in ("IOC", "FOK"):
                    self._close(order, "EXPIRED", "not immediately fillable")
                return
            price = touch if arriving else order.price
            self.fill(order, order.quantity - order.filled, price, maker=not arriving)
        else:
            self.fill(order, order.quantity - order.filled, touch, maker=False)
        if order.status == "FILLED":
            self._release(order)

    def _close(self, order: SpotOrder, status: str, reason: str) -> None:
        order.status = status
        order.reason = reason
        order.updated_ms = self.clock()
        self._release(order)
        self._emit(status, order)

    def _release(self, order: SpotOrder) -> None:
        if order.locked:
            market = self.markets[order.symbol]
            asset = market.quote if order.side == "BUY" else market.base
            self._move(asset, order.locked, to_locked=False)
            order.locked = ZERO


# Faults ----------------------------------------------------------------------------------


@dataclass
class Faults:
    """Seeded random faults on REST requests."""

    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    """Probability per request of each fault in ``FAULTS``."""
    writes_only: bool = False
    """Only order placement, cancellation and amendment are faulted."""
    retry_after_s: int = 1
    hang_s: float = 30.0


@dataclass
class _OneShot:
    fault: str
    methods: frozenset[str] | None
    path: str | None
    count: int


@dataclass
class _Corruption:
    path: str
    method: str | None
    transform: Callable[[str], str]
    count: int


class FaultInjector:
    """Decides, per request, which fault (if any) applies, reproducibly."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.configure(faults or Faults())
        self._one_shots: list[_OneShot] = []
        self._corruptions: list[_Corruption] = []
        self.applied: list[tuple[str, str, str]] = []
        """(fault, method, path) of every fault applied, in order."""

    def configure(self, faults: Faults) -> None:
        """Replace the random fault settings (and reseed)."""
        unknown = set(faults.rates) - set(FAULTS)
        assert not unknown, f"unknown faults {unknown}; known: {FAULTS}"
        self.faults = faults
        self._random = random.Random(faults.seed)

    def inject(
        self,
        fault: str,
        *,
        count: int = 1,
        methods: tuple[str, ...] | None = None,
        path: str | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``count`` requests matching methods and path suffix."""
        assert fault in FAULTS, f"unknown fault {fault!r}; known: {FAULTS}"
        self._one_shots.append(
            _OneShot(fault, frozenset(methods) if methods else None, path, count)
        )

    def corrupt(
        self,
        path: str,
        transform: Callable[[str], str],
        *,
        method: str | None = None,
        count: int = 1,
    ) -> None:
        """Rewrite the body of the next ``count`` answers to ``path`` (after applying)."""
        self._corruptions.append(_Corruption(path, method, transform, count))

    def draw(self, method: str, path: str, *, write: bool) -> str | None:
        """Return the fault for this request, or None."""
        for shot in self._one_shots:
            if shot.methods is not None and method not in shot.methods:
                continue
            if shot.path is not None and not path.endswith(shot.path):
                continue
            shot.count -= 1
            if shot.count <= 0:
                self._one_shots.remove(shot)
            self.applied.append((shot.fault, method, path))
            return shot.fault
        if self.faults.writes_only and not write:
            return None
        for fault in FAULTS:
            rate = self.faults.rates.get(fault, 0.0)
            if rate and self._random.random() < rate:
                self.applied.append((fault, method, path))
                return fault
        return None

    def rewrite(self, method: str, path: str, body: str) -> str:
        """Return ``body``, transformed when a corruption matches."""
        for item in self._corruptions:
            if item.method is not None and item.method != method:
                continue
            if not path.endswith(item.path):
                continue
            item.count -= 1
            if item.count <= 0:
                self._corruptions.remove(item)
            return item.transform(body)
        return body

    async def hang(self) -> None:
        """Stall like a venue that never answers."""
        await asyncio.sleep(self.faults.hang_s)
