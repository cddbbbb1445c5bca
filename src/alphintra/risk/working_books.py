"""The books of `alphintra.risk.books.collect_books`, kept up to date from the events.

`collect_books` scans every open order of the account on every check. `WorkingBooks`
instead keeps, per instrument, the open orders that count (every open order but the
slices of an open execution parent), in the account's order, and builds an instrument's
book again only after an event touched that instrument: a check then costs the
instruments, not the orders.

The books it returns are exactly those of `collect_books`: the same instruments in
the same order, each summed over the same orders in the same order. The engine calls
`on_event` with every event it applies; an event it did not see (a replay, a snapshot,
a failed apply) shows as a different ``AccountState.event_count``, and the books are
then rebuilt from the state. The returned books are shared: callers must not change
them.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.account import AccountState, is_execution_parent
from alphintra.domain.enums import ContingencyType
from alphintra.domain.events import AnyEvent, OrderEvent, OrderFilled, OrderInitialized
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.orders import Order
from alphintra.domain.values import ZERO
from alphintra.risk.books import InstrumentBook, is_slice

_OCO = ContingencyType.OCO


class WorkingBooks:
    """Per-instrument books of one account's positions and working orders."""

    __slots__ = ("_built", "_next", "_orders", "_seen", "_sequence", "state", "track_from")

    def __init__(self, state: AccountState, *, track_from: int = 16) -> None:
        self.state = state
        self.track_from = track_from
        """The checks use these books from this many open orders on; below, a scan of
        the open orders costs less than keeping up with every event."""
        self._orders: dict[InstrumentId, dict[ClientOrderId, Order]] = {}
        """Per instrument, its open orders that count, in the account's order."""
        self._sequence: dict[ClientOrderId, int] = {}
        """Each counted order's place in ``state.open_orders``."""
        self._built: dict[InstrumentId, tuple[ClientOrderId | None, bool, InstrumentBook]] = {}
        """Per instrument: (the order left out, with orders, its book), until it changes."""
        self._next = 0
        self._seen = -1

    # Keeping up ---------------------------------------------------------------------

    def on_event(self, event: AnyEvent) -> None:
        """Fold one event that the state has just applied."""
        if self._seen + 1 != self.state.event_count:
            self._seen = -1  # an event went by unseen: rebuild on the next query
            return
        self._seen += 1
        if not isinstance(event, OrderEvent):
            return
        order = self.state.orders.get(event.client_order_id)
        if order is None:
            return
        instrument_id = order.instrument_id
        self._built.pop(instrument_id, None)
        if type(event) is OrderFilled and event.instrument_id != instrument_id:
            self._built.pop(event.instrument_id, None)
        if type(event) is OrderInitialized:
            if order.is_open and not is_slice(order, self.state):
                self._add(order)
        elif order.status.is_closed:
            if is_execution_parent(order):
                # Its open slices count from now on (`is_slice`): rebuild to add them.
                self.pause()
                return
            orders = self._orders.get(instrument_id)
            if orders is not None and orders.pop(order.client_order_id, None) is not None:
                del self._sequence[order.client_order_id]
                if not orders:
                    del self._orders[instrument_id]

    def _add(self, order: Order) -> None:
        self._orders.setdefault(order.instrument_id, {})[order.client_order_id] = order
        self._sequence[order.client_order_id] = self._next
        self._next += 1

    def _rebuild(self) -> None:
        self._orders.clear()
        self._sequence.clear()
        self._built.clear()
        for place, order in enumerate(self.state.open_orders.values()):
            if not is_slice(order, self.state):
                self._orders.setdefault(order.instrument_id, {})[order.client_order_id] = order
                self._sequence[order.client_order_id] = place
        self._next = len(self.state.open_orders)
        self._seen = self.state.event_count

    @property
    def active(self) -> bool:
        """Return True while the books keep up with the events (False once paused)."""
        return self._seen >= 0

    def pause(self) -> None:
        """Stop keeping up (cheap while there are few orders to scan); the next query
        rebuilds the books from the state."""
        self._seen = -1
        self._built.clear()

    def _sync(self) -> None:
        if self._seen != self.state.event_count:
            self._rebuild()

    # Queries ------------------------------------------------------------------------

    def book(
        self, instrument_id: InstrumentId, exclude: ClientOrderId, *, with_orders: bool = False
    ) -> InstrumentBook:
        """Return ``collect_books(state, exclude, only=instrument_id)[instrument_id]``
        (with ``with_orders``, the book also lists its working orders)."""
        self._sync()
        return self._book(instrument_id, exclude, with_orders)

    def books(
        self, exclude: ClientOrderId, *, with_orders: bool = False
    ) -> dict[InstrumentId, InstrumentBook]:
        """Return ``collect_books(state, exclude, with_orders=with_orders)``: a new dict
        of shared books."""
        self._sync()
        books: dict[InstrumentId, InstrumentBook] = {}
        for instrument_id, held in self.state.positions.items():
            if held.quantity:
                books[instrument_id] = self._book(instrument_id, exclude, with_orders)
        waiting: list[tuple[int, InstrumentId]] = []
        sequence = self._sequence
        for instrument_id, orders in self._orders.items():
            if instrument_id in books:
                continue
            for client_order_id, order in orders.items():
                if client_order_id != exclude and order.quantity - order.filled_quantity > 0:
                    waiting.append((sequence[client_order_id], instrument_id))
                    break
        waiting.sort()
        for _, instrument_id in waiting:
            books[instrument_id] = self._book(instrument_id, exclude, with_orders)
        return books

    def _book(
        self, instrument_id: InstrumentId, exclude: ClientOrderId, with_orders: bool
    ) -> InstrumentBook:
        orders = self._orders.get(instrument_id)
        left_out = exclude if orders is not None and exclude in orders else None
        built = self._built.get(instrument_id)
        if built is not None and built[0] == left_out and built[1] == with_orders:
            return built[2]
        held = self.state.positions.get(instrument_id)
        book = InstrumentBook(
            instrument_id,
            held.quantity if held is not None else ZERO,
            orders=[] if with_orders else None,
        )
        if orders is not None:
            for client_order_id, working in orders.items():
                if client_order_id == left_out:
                    continue
                leaves: Decimal = working.quantity - working.filled_quantity
                if leaves <= 0:
                    continue
                book.add(
                    working.side,
                    leaves,
                    working.reduce_only,
                    working.price if working.price is not None else working.trigger_price,
                    working.order_list_id if working.contingency is _OCO else None,
                )
        self._built[instrument_id] = (left_out, with_orders, book)
        return book
