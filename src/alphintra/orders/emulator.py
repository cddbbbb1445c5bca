"""Order emulation: triggers worked inside the engine when a venue lacks the order type.

The emulator watches market data through the same executable-price view as the
simulated venue. When a trigger trades it asks the engine to release the order as a
MARKET (stop, market-if-touched, trailing stop) or LIMIT (stop-limit,
limit-if-touched) order under the same client order ID. A released order reaches
the venue after the data point that triggered it, so it fills on later data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from alphintra.domain.enums import OrderSide, OrderType, TrailingOffsetType
from alphintra.domain.executable import executable_range, trailing_stop_price
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import MarketData
from alphintra.domain.orders import Order
from alphintra.domain.values import Price


@dataclass(frozen=True, slots=True)
class Release:
    """Release ``order_id`` to the venue as ``order_type`` (MARKET or LIMIT)."""

    order_id: ClientOrderId
    order_type: OrderType


@dataclass(frozen=True, slots=True)
class MoveTrigger:
    """Move a trailing stop's trigger price."""

    order_id: ClientOrderId
    trigger_price: Price


EmulatorAction = Release | MoveTrigger

EMULATED_TRIGGER_TYPES = frozenset(
    {OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT, OrderType.TRAILING_STOP}
)


class OrderEmulator:
    """Watches emulated trigger orders, per instrument."""

    def __init__(self) -> None:
        self._orders: dict[InstrumentId, dict[ClientOrderId, Order]] = {}
        self._extremes: dict[ClientOrderId, Decimal] = {}
        self._instruments: dict[InstrumentId, Instrument] = {}

    def watches(self, instrument_id: InstrumentId) -> bool:
        """Return True when some emulated order waits on this instrument."""
        return bool(self._orders.get(instrument_id))

    def track(self, order: Order, instrument: Instrument) -> None:
        """Start watching ``order``."""
        self._instruments[instrument.id] = instrument
        self._orders.setdefault(order.instrument_id, {})[order.client_order_id] = order
        if order.order_type is OrderType.TRAILING_STOP and order.trigger_price is not None:
            offset = order.trailing_offset
            assert offset is not None and order.trailing_offset_type is not None
            # Recover the best price seen from the current stop (also after a restart).
            if order.trailing_offset_type is TrailingOffsetType.PRICE:
                sign = -1 if order.side is OrderSide.BUY else 1
                self._extremes[order.client_order_id] = order.trigger_price + sign * offset
            else:
                factor = (1 + offset / 100) if order.side is OrderSide.BUY else (1 - offset / 100)
                self._extremes[order.client_order_id] = order.trigger_price / factor

    def tracked(self) -> list[ClientOrderId]:
        """Return the watched orders' IDs; per instrument, in the order they are checked."""
        return [order_id for book in self._orders.values() for order_id in book]

    def watched(self, instrument_id: InstrumentId | None = None) -> tuple[Order, ...]:
        """Return the orders watched on ``instrument_id`` (on every instrument: None)."""
        if instrument_id is not None:
            return tuple(self._orders.get(instrument_id, {}).values())
        return tuple(order for book in self._orders.values() for order in book.values())

    def untrack(self, order: Order) -> None:
        """Stop watching ``order``."""
        book = self._orders.get(order.instrument_id)
        if book is not None:
            book.pop(order.client_order_id, None)
        self._extremes.pop(order.client_order_id, None)

    def on_market_data(self, data: MarketData) -> list[EmulatorAction]:
        """Check every watched order on the instrument against one data point."""
        book = self._orders.get(data.instrument_id)
        if not book:
            return []
        actions: list[EmulatorAction] = []
        for order in tuple(book.values()):
            action = self._check(order, data)
            if action is not None:
                actions.append(action)
                if type(action) is Release:
                    self.untrack(order)
        return actions

    def _check(self, order: Order, data: MarketData) -> EmulatorAction | None:
        buy = order.side is OrderSide.BUY
        r = executable_range(data, buy)
        order_type = order.order_type
        trigger = order.trigger_price
        if order_type is OrderType.TRAILING_STOP:
            offset = order.trailing_offset
            assert offset is not None and order.trailing_offset_type is not None
            instrument = self._instruments[order.instrument_id]
            initial: Price | None = None
            if trigger is None:
                # First data point: the stop starts from the price the order would trade,
                # then the data point is checked and trails it like any later one.
                self._extremes[order.client_order_id] = r.open
                trigger = initial = trailing_stop_price(
                    instrument, order.side, r.open, offset, order.trailing_offset_type
                )
            if (buy and r.high >= trigger) or (not buy and r.low <= trigger):
                return Release(order.client_order_id, OrderType.MARKET)
            extreme = self._extremes.get(order.client_order_id)
            best = r.low if buy else r.high
            if extreme is None or (buy and best < extreme) or (not buy and best > extreme):
                self._extremes[order.client_order_id] = best
                stop = trailing_stop_price(
                    instrument, order.side, best, offset, order.trailing_offset_type
                )
                if (buy and stop < trigger) or (not buy and stop > trigger):
                    return MoveTrigger(order.client_order_id, stop)
            return MoveTrigger(order.client_order_id, initial) if initial is not None else None
        assert trigger is not None
        if order_type is OrderType.TAKE_PROFIT:
            touched = r.low <= trigger if buy else r.high >= trigger
            if touched:
                release = OrderType.LIMIT if order.price is not None else OrderType.MARKET
                return Release(order.client_order_id, release)
            return None
        hit = r.high >= trigger if buy else r.low <= trigger
        if hit:
            release = OrderType.LIMIT if order_type is OrderType.STOP_LIMIT else OrderType.MARKET
            return Release(order.client_order_id, release)
        return None
