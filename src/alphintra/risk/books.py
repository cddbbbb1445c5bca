"""Positions plus working orders, per instrument, in the worst case; and their valuation.

Working orders count toward every position, exposure and credit limit, so that a
burst of orders accepted before any fill cannot overshoot a limit together. For one
instrument with signed position ``P``, working plain buys ``B`` and sells ``S`` and
reduce-only buys ``Br`` and sells ``Sr`` (leaves quantities), every position the
account can reach, whatever fills in whatever order, lies in ``[low, high]``::

    high = P + B + min(Br, max(-P, 0))      low = P - S - min(Sr, max(P, 0))

A reduce-only order can only close the position it faces, but it can do so before a
plain order on the same side fills, which then opens the other way: so reduce-only
orders count up to the position they face. (This relies on reduce-only being
enforced at fill time, by the venue or by the engine's cancel of reduce-only orders
once a position is flat.)

What counts as working: every open order except the slices of an open execution
parent (an emulated iceberg's leaves already count them) and the order being checked.
The slice of a closed parent counts: the parent's leaves no longer do, and the slice
can still fill until the venue confirms its cancel. The
members of an OCO list on one side count once, at their largest leaves quantity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from alphintra.domain.account import AccountState, is_execution_parent
from alphintra.domain.enums import ContingencyType, OrderSide
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, OrderListId
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import Order
from alphintra.domain.values import ONE, ZERO, Currency
from alphintra.risk.context import FxConvert, InstrumentLookup
from alphintra.risk.denial import (
    FX_RATE_UNAVAILABLE,
    INSTRUMENT_UNAVAILABLE,
    PRICE_UNAVAILABLE,
    Denial,
)

_GroupKey = tuple[OrderListId, OrderSide, bool]


@dataclass(slots=True)
class WorkingOrder:
    """One working order's side, leaves quantity and price (None for a market order)."""

    side: OrderSide
    leaves: Decimal
    price: Decimal | None


@dataclass(slots=True)
class InstrumentBook:
    """Position and working orders of one instrument (see the module docstring)."""

    instrument_id: InstrumentId
    position: Decimal = ZERO
    buy: Decimal = ZERO
    sell: Decimal = ZERO
    buy_reduce: Decimal = ZERO
    sell_reduce: Decimal = ZERO
    max_order_price: Decimal | None = None
    """Highest limit or trigger price among the working orders (a valuation fallback)."""
    orders: list[WorkingOrder] | None = None
    """Every working order, kept only when the credit check needs prices."""
    groups: dict[_GroupKey, Decimal] = field(default_factory=dict)
    """Largest leaves per (OCO list, side, reduce-only)."""

    @property
    def high(self) -> Decimal:
        """Return the longest position reachable."""
        p = self.position
        return p + self.buy + min(self.buy_reduce, max(-p, ZERO))

    @property
    def low(self) -> Decimal:
        """Return the shortest (most negative) position reachable."""
        p = self.position
        return p - self.sell - min(self.sell_reduce, max(p, ZERO))

    @property
    def worst(self) -> Decimal:
        """Return the largest absolute position reachable."""
        return max(abs(self.low), abs(self.high))

    def exposure_on(self, side: OrderSide) -> Decimal:
        """Return the worst absolute position on the side ``side`` moves toward."""
        if side is OrderSide.BUY:
            return max(self.high, ZERO)
        return max(-self.low, ZERO)

    def add(
        self,
        side: OrderSide,
        leaves: Decimal,
        reduce_only: bool,
        price: Decimal | None,
        group: OrderListId | None,
    ) -> None:
        """Count one more working order."""
        if price is not None and (self.max_order_price is None or price > self.max_order_price):
            self.max_order_price = price
        if self.orders is not None:
            self.orders.append(WorkingOrder(side, leaves, price))
        if group is not None:
            key = (group, side, reduce_only)
            counted = self.groups.get(key, ZERO)
            if leaves <= counted:
                return
            self.groups[key] = leaves
            leaves -= counted
        if side is OrderSide.BUY:
            if reduce_only:
                self.buy_reduce += leaves
            else:
                self.buy += leaves
        elif reduce_only:
            self.sell_reduce += leaves
        else:
            self.sell += leaves

    def copy(self) -> InstrumentBook:
        """Return an independent copy."""
        return InstrumentBook(
            self.instrument_id,
            self.position,
            self.buy,
            self.sell,
            self.buy_reduce,
            self.sell_reduce,
            self.max_order_price,
            None if self.orders is None else list(self.orders),
            dict(self.groups),
        )


def order_price(order: OrderInitialized) -> Decimal | None:
    """Return the price an order states: its limit price, else its trigger price."""
    return order.price if order.price is not None else order.trigger_price


def is_slice(order: OrderInitialized | Order, state: AccountState) -> bool:
    """Return True when ``order`` is a slice of an open execution parent (whose leaves
    count it already)."""
    if order.parent_id is None:
        return False
    parent = state.orders.get(order.parent_id)
    return parent is not None and is_execution_parent(parent) and parent.is_open


def _group(contingency: ContingencyType, list_id: OrderListId | None) -> OrderListId | None:
    return list_id if contingency is ContingencyType.OCO else None


def with_order(
    book: InstrumentBook, order: OrderInitialized, state: AccountState
) -> InstrumentBook:
    """Return ``book`` as it would be with ``order`` working too."""
    if is_slice(order, state):
        return book
    after = book.copy()
    after.add(
        order.side,
        order.quantity,
        order.reduce_only,
        order_price(order),
        _group(order.contingency, order.order_list_id),
    )
    return after


def side_reach(state: AccountState, order: OrderInitialized) -> tuple[Decimal, Decimal]:
    """Return the worst absolute position on the side ``order`` moves toward (``high``
    for a buy, ``-low`` for a sell, floored at zero), without and with the order.

    A lean scan of the order's instrument and side only, for the position limits and
    the risk-reducing test.
    """
    instrument_id, side, exclude = order.instrument_id, order.side, order.client_order_id
    plain = reduce = ZERO
    groups: dict[_GroupKey, Decimal] | None = None
    all_orders = state.orders
    oco = ContingencyType.OCO
    for working in state.open_orders.values():
        if working.instrument_id != instrument_id or working.side is not side:
            continue
        if working.client_order_id == exclude:
            continue
        if working.parent_id is not None:
            parent = all_orders.get(working.parent_id)
            if parent is not None and is_execution_parent(parent) and parent.is_open:
                continue
        leaves: Decimal = working.quantity - working.filled_quantity
        if working.contingency is oco and working.order_list_id is not None:
            if groups is None:
                groups = {}
            key = (working.order_list_id, side, working.reduce_only)
            counted = groups.get(key, ZERO)
            if leaves <= counted:
                continue
            groups[key] = leaves
            leaves -= counted
        if working.reduce_only:
            reduce += leaves
        else:
            plain += leaves
    held = state.positions.get(instrument_id)
    position = held.quantity if held is not None else ZERO
    if side is OrderSide.BUY:
        signed, facing = position, max(-position, ZERO)
    else:
        signed, facing = -position, max(position, ZERO)
    before = max(signed + plain + min(reduce, facing), ZERO)
    if order.parent_id is not None and is_slice(order, state):
        return before, before
    added: Decimal = order.quantity
    if order.contingency is oco and order.order_list_id is not None:
        counted = (groups or {}).get((order.order_list_id, side, order.reduce_only), ZERO)
        added = max(added - counted, ZERO)
    if order.reduce_only:
        reduce += added
    else:
        plain += added
    return before, max(signed + plain + min(reduce, facing), ZERO)


def collect_books(
    state: AccountState,
    exclude: ClientOrderId,
    *,
    only: InstrumentId | None = None,
    with_orders: bool = False,
) -> dict[InstrumentId, InstrumentBook]:
    """Return the books of every instrument with a position or working order.

    With ``only``, return just that instrument's book (cheaper). ``exclude`` is the
    order being checked, which the engine has already recorded.
    """
    books: dict[InstrumentId, InstrumentBook] = {}
    positions = state.positions
    if only is not None:
        held = positions.get(only)
        books[only] = InstrumentBook(
            only, held.quantity if held is not None else ZERO, orders=[] if with_orders else None
        )
    else:
        for instrument_id, held in positions.items():
            if held.quantity:
                books[instrument_id] = InstrumentBook(
                    instrument_id, held.quantity, orders=[] if with_orders else None
                )
    all_orders = state.orders
    oco = ContingencyType.OCO
    for working in state.open_orders.values():
        instrument_id = working.instrument_id
        if only is not None and instrument_id != only:
            continue
        if working.client_order_id == exclude:
            continue
        parent_id = working.parent_id
        if parent_id is not None:
            parent = all_orders.get(parent_id)
            if parent is not None and is_execution_parent(parent) and parent.is_open:
                continue
        leaves = working.quantity - working.filled_quantity
        if leaves <= 0:
            continue
        book = books.get(instrument_id)
        if book is None:
            held = positions.get(instrument_id)
            book = books[instrument_id] = InstrumentBook(
                instrument_id,
                held.quantity if held is not None else ZERO,
                orders=[] if with_orders else None,
            )
        book.add(
            working.side,
            leaves,
            working.reduce_only,
            working.price if working.price is not None else working.trigger_price,
            working.order_list_id if working.contingency is oco else None,
        )
    return books


class Valuation:
    """Per-call cache of instruments, reference prices and fx rates into the base currency.

    A method returns a `Denial` (``PRICE_UNAVAILABLE``, ``FX_RATE_UNAVAILABLE`` or
    ``INSTRUMENT_UNAVAILABLE``) when an input it needs is missing: never a guess.
    """

    __slots__ = ("_fx", "_lookup", "_own", "_prices", "_rates", "_state", "base")

    def __init__(
        self,
        state: AccountState,
        own: Instrument,
        prices: Mapping[InstrumentId, Decimal],
        lookup: InstrumentLookup | None,
        fx: FxConvert | None,
    ) -> None:
        self._state = state
        self._own = own
        self._prices = prices
        self._lookup = lookup
        self._fx = fx
        self._rates: dict[Currency, Decimal | None] = {}
        self.base: Currency = state.base_currency

    def instrument(self, instrument_id: InstrumentId) -> Instrument | Denial:
        """Return the instrument, or a denial when it cannot be looked up."""
        if instrument_id == self._own.id:
            return self._own
        found = self._lookup(instrument_id) if self._lookup is not None else None
        if found is None:
            return Denial(
                INSTRUMENT_UNAVAILABLE,
                f"instrument {instrument_id} has exposure but its definition is unavailable",
            )
        return found

    def contract(self, instrument_id: InstrumentId) -> tuple[Decimal, Currency] | Denial:
        """Return the multiplier and quote currency of an instrument."""
        if instrument_id == self._own.id:
            return self._own.multiplier, self._own.quote_currency
        found = self._lookup(instrument_id) if self._lookup is not None else None
        if found is not None:
            return found.multiplier, found.quote_currency
        multiplier = self._state.multipliers.get(instrument_id)
        quote = self._state.quote_currencies.get(instrument_id)
        if multiplier is None or quote is None:
            return Denial(
                INSTRUMENT_UNAVAILABLE,
                f"instrument {instrument_id} has exposure but its multiplier and quote "
                "currency are unavailable",
            )
        return multiplier, quote

    def price(self, book: InstrumentBook) -> Decimal | Denial:
        """Return the reference price: the mark, else the position's average price, else
        the highest working order price."""
        return self.price_of(book.instrument_id, book.max_order_price)

    def price_of(
        self, instrument_id: InstrumentId, max_order_price: Decimal | None
    ) -> Decimal | Denial:
        """Return `price` of a book with ``max_order_price`` as its highest order price."""
        known = self.known_price(instrument_id)
        if known is not None:
            return known
        if max_order_price is not None:
            return max_order_price
        return Denial(
            PRICE_UNAVAILABLE, f"no reference price for {instrument_id}: no mark and no order price"
        )

    @property
    def fx(self) -> FxConvert | None:
        """Return the conversion this valuation takes its rates from."""
        return self._fx

    @property
    def prices(self) -> Mapping[InstrumentId, Decimal]:
        """Return the marks (reference prices) this valuation uses."""
        return self._prices

    def mark(self, instrument_id: InstrumentId) -> Decimal | None:
        """Return the instrument's mark (its reference price), or None."""
        return self._prices.get(instrument_id)

    def known_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """Return the mark, else the position's average price, else None."""
        mark = self._prices.get(instrument_id)
        if mark is not None:
            return mark
        held = self._state.positions.get(instrument_id)
        if held is not None and held.quantity:
            return held.open_cost / held.quantity
        return None

    def rate(self, currency: Currency) -> Decimal | Denial:
        """Return base-currency units per unit of ``currency``."""
        if currency == self.base:
            return ONE
        if currency in self._rates:
            cached = self._rates[currency]
        else:
            cached = None if self._fx is None else self._fx(ONE, currency, self.base)
            self._rates[currency] = cached
        if cached is None:
            return Denial(
                FX_RATE_UNAVAILABLE, f"no fx rate from {currency} to the base currency {self.base}"
            )
        return cached

    def unit_value(self, book: InstrumentBook) -> Decimal | Denial:
        """Return the base-currency value of one unit of the instrument."""
        contract = self.contract(book.instrument_id)
        if isinstance(contract, Denial):
            return contract
        price = self.price(book)
        if isinstance(price, Denial):
            return price
        rate = self.rate(contract[1])
        if isinstance(rate, Denial):
            return rate
        return price * contract[0] * rate
