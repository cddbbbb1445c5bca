"""Drive a ``TradingEngine`` and a ``SimulatedVenue`` bar by bar, as a backtest does.

For each bar: the venue matches it and its reports go to the engine, then the
engine sees the bar (marks, emulated triggers), then the engine's venue commands are
dispatched to the venue until none are left. Orders are submitted at the simulated
clock's current time, between bars.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.events import (
    Event,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModified,
    OrderTriggered,
)
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.market import MarketData
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.marketdata.csv_bars import load_bars
from alphintra.risk.pretrade import RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig
from helpers.csv_rows import ts_ns
from helpers.market_data import market_data_dir

STARTING_CASH = Decimal(100_000_000)


@cache
def _bars(relative: str, symbol: str) -> tuple[MarketData, ...]:
    return tuple(load_bars(market_data_dir() / relative, InstrumentId(symbol)))


def load_series(relative: str, symbol: str) -> tuple[MarketData, ...]:
    """Return the bars of one data file loaded by alphintra (cached per process)."""
    market_data_dir()
    return _bars(relative, symbol)


class SimHarness:
    """One account, one instrument, one simulated venue, fed from a data file."""

    def __init__(
        self,
        symbol: str,
        relative: str,
        config: SimulatedVenueConfig | None = None,
        limits: RiskLimits | None = None,
    ) -> None:
        self.symbol = symbol
        self.instrument_id = InstrumentId(symbol)
        self.bars = load_series(relative, symbol)
        self._times = [bar.ts for bar in self.bars]
        self.cursor = 0
        registry = InstrumentRegistry()
        self.instrument = registry.get(symbol)
        self.clock = SimulatedClock(self.bars[0].ts)
        self.journal = MemoryJournal()
        self.venue = SimulatedVenue(config or SimulatedVenueConfig(), registry.known())
        self.engine = TradingEngine(
            account_id=AccountId("TEST"),
            registry=registry,
            journal=self.journal,
            clock=self.clock,
            venues={self.venue.venue_id: self.venue.capabilities},
            default_venue=self.venue.venue_id,
            limits=limits or RiskLimits(enforce_min_notional=False),
        )
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        quote = self.instrument.quote_currency
        self.engine.open_account(quote, {quote: STARTING_CASH})

    # Time and data ------------------------------------------------------------------

    def feed_through(self, timestamp: str) -> None:
        """Process every bar from the cursor up to and including ``timestamp``."""
        end = ts_ns(timestamp)
        while self.cursor < len(self.bars) and self.bars[self.cursor].ts <= end:
            self.step()

    def begin(self, submit_at: str, warmup_bars: int = 3) -> None:
        """Process a few bars up to ``submit_at``, then move the clock to ``submit_at``.

        The venue has then seen every bar stamped at or before ``submit_at``, as in a
        backtest where an order is submitted at that time.
        """
        submit_ts = ts_ns(submit_at)
        end = bisect_left(self._times, submit_ts + 1)
        self.cursor = max(0, end - warmup_bars)
        while self.cursor < end:
            self.step()
        self.clock.advance_to(submit_ts)

    def step(self) -> MarketData:
        """Process the next bar and return it."""
        bar = self.bars[self.cursor]
        self.cursor += 1
        self.clock.advance_to(bar.ts)
        for report in self.venue.on_market_data(bar):
            self.engine.on_venue_event(report)
        self.engine.on_market_data(bar)
        self.dispatch()
        return bar

    def steps(self, count: int) -> None:
        """Process the next ``count`` bars."""
        for _ in range(count):
            self.step()

    def run_until_closed(self, order: Order, max_bars: int = 2_000) -> None:
        """Process bars until ``order`` is closed; fail after ``max_bars``."""
        for _ in range(max_bars):
            if not order.is_open:
                return
            self.step()
        raise AssertionError(f"order {order.client_order_id} still {order.status}")

    def dispatch(self) -> None:
        """Hand the engine's venue commands to the venue until none are left."""
        commands = self.engine.flush()
        while commands:
            for command in commands:
                for report in self.venue.handle(command):
                    self.engine.on_venue_event(report)
            commands = self.engine.flush()

    # Orders ---------------------------------------------------------------------------

    def request(
        self, side: OrderSide, order_type: OrderType, quantity: str, **fields: object
    ) -> OrderRequest:
        """Return an order request on the harness's instrument."""
        return OrderRequest(
            instrument_id=self.instrument_id,
            side=side,
            order_type=order_type,
            quantity=Decimal(quantity),
            **fields,  # type: ignore[arg-type]
        )

    def submit(
        self, side: OrderSide, order_type: OrderType, quantity: str, **fields: object
    ) -> Order:
        """Submit one order at the clock's current time and dispatch it."""
        order = self.engine.submit(self.request(side, order_type, quantity, **fields))
        self.dispatch()
        return order

    def submit_bracket(
        self,
        entry: OrderRequest,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
    ) -> list[Order]:
        """Submit a bracket at the clock's current time and dispatch it."""
        orders = self.engine.submit_bracket(
            BracketRequest(entry=entry, stop_loss=stop_loss, take_profit=take_profit)
        )
        self.dispatch()
        return orders

    # Results --------------------------------------------------------------------------

    def order_events(self, order: Order | ClientOrderId) -> list[OrderEvent]:
        """Return every event of one order, in order."""
        order_id = order.client_order_id if isinstance(order, Order) else order
        return [
            e for e in self.events if isinstance(e, OrderEvent) and e.client_order_id == order_id
        ]

    def fills(self, order: Order | ClientOrderId | None = None) -> list[OrderFilled]:
        """Return the fills of one order (or of every order), in order."""
        events: Sequence[Event] = self.events if order is None else self.order_events(order)
        return [e for e in events if type(e) is OrderFilled]

    def triggers(self, order: Order) -> list[OrderTriggered]:
        """Return the trigger reports of one order."""
        return [e for e in self.order_events(order) if type(e) is OrderTriggered]

    def cancels(self, order: Order) -> list[OrderCancelled]:
        """Return the cancellations of one order."""
        return [e for e in self.order_events(order) if type(e) is OrderCancelled]

    def expiries(self, order: Order) -> list[OrderExpired]:
        """Return the expiries of one order."""
        return [e for e in self.order_events(order) if type(e) is OrderExpired]

    def trigger_moves(self, order: Order) -> list[tuple[int, Decimal]]:
        """Return (ts, new trigger price) for every trigger move of one order."""
        return [
            (e.ts_event, e.trigger_price)
            for e in self.order_events(order)
            if type(e) is OrderModified and e.trigger_price is not None
        ]

    def position(self) -> Decimal:
        """Return the signed position in the harness's instrument."""
        return self.engine.state.position_quantity(self.instrument_id)
