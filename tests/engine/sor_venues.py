"""Several simulated venues quoting one instrument, driven with one engine.

Each venue is a real ``SimulatedVenue`` with its own fees and latency, fed its own
quote ticks; the engine learns each venue's book from the same ticks
(``on_venue_market_data``) or from a deeper book given directly (``on_venue_book``).
Venue commands go to the venue they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.events import Event, OrderFilled, RoutingDecided
from alphintra.domain.identifiers import AccountId, InstrumentId, VenueId
from alphintra.domain.market import QuoteTick
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.execution.algorithms import SorSpec
from alphintra.execution.routing import VenueProfile
from alphintra.risk.pretrade import RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import (
    SIMULATED_CAPABILITIES,
    SimulatedVenue,
    SimulatedVenueConfig,
)

SYMBOL = InstrumentId("SPY")
T0 = 1_709_650_800_000_000_000  # 2024-03-05 15:00 UTC
MS = 1_000_000


@dataclass(frozen=True)
class VenueSetup:
    """One simulated venue: name, taker fee, latency and the routing terms it is given."""

    name: str
    taker_fee_bps: Decimal
    latency_ms: int = 0
    fill_probability: Decimal = Decimal(1)
    max_quantity: Decimal | None = None

    def profile(self) -> VenueProfile:
        """Return the routing terms the engine is configured with."""
        return VenueProfile(
            taker_fee_bps=self.taker_fee_bps,
            latency_ms=Decimal(self.latency_ms),
            fill_probability=self.fill_probability,
            max_quantity=self.max_quantity,
        )


@dataclass(frozen=True)
class Quote:
    """A venue's top of book."""

    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal


def make_engine(
    registry: InstrumentRegistry,
    journal: MemoryJournal,
    clock: SimulatedClock,
    setups: list[VenueSetup],
    limits: RiskLimits | None = None,
) -> TradingEngine:
    """Return an engine that knows every venue and its routing terms."""
    engine = TradingEngine(
        account_id=AccountId("SOR"),
        registry=registry,
        journal=journal,
        clock=clock,
        venues={VenueId(s.name): SIMULATED_CAPABILITIES for s in setups},
        default_venue=VenueId(setups[0].name),
        limits=limits or RiskLimits(enforce_min_notional=False),
    )
    for setup in setups:
        engine.set_routing_profile(VenueId(setup.name), setup.profile())
    return engine


class Venues:
    """One account and several simulated venues for one instrument (``SPY`` by default)."""

    def __init__(
        self,
        setups: list[VenueSetup],
        limits: RiskLimits | None = None,
        symbol: InstrumentId = SYMBOL,
    ) -> None:
        self.setups = setups
        self.registry = InstrumentRegistry()
        self.instrument = self.registry.get(symbol)
        self.clock = SimulatedClock(T0)
        self.journal = MemoryJournal()
        self.venues = {
            VenueId(s.name): SimulatedVenue(
                SimulatedVenueConfig(
                    venue_id=VenueId(s.name),
                    taker_fee_bps=s.taker_fee_bps,
                    maker_fee_bps=s.taker_fee_bps,
                    partial_fills=True,
                    latency_ns=s.latency_ms * MS,
                ),
                self.registry.known(),
            )
            for s in setups
        }
        self.engine = make_engine(self.registry, self.journal, self.clock, setups, limits)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.engine.open_account("USD", {"USD": Decimal(100_000_000)})
        self.quotes: dict[VenueId, Quote] = {}

    def quote(self, venue: str, quote: Quote) -> None:
        """Show one venue's quote at the clock's time: to the venue, then to the engine."""
        name = VenueId(venue)
        self.quotes[name] = quote
        tick = QuoteTick(
            self.instrument.id,
            quote.bid,
            quote.ask,
            quote.bid_size,
            quote.ask_size,
            self.clock.now_ns(),
        )
        for report in self.venues[name].on_market_data(tick):
            self.engine.on_venue_event(report)
        self.engine.on_venue_market_data(name, tick)
        self.dispatch()

    def quote_all(self, quotes: dict[str, Quote]) -> None:
        """Show every venue's quote at the clock's time."""
        for venue, quote in quotes.items():
            self.quote(venue, quote)

    def requote(self, after_ms: int) -> None:
        """Move the clock on and show every venue's last quote again (for latencies)."""
        self.clock.advance_to(self.clock.now_ns() + after_ms * MS)
        for venue, quote in list(self.quotes.items()):
            self.quote(venue, quote)

    def dispatch(self) -> None:
        """Hand the engine's commands to the venues they name until none are left."""
        commands = self.engine.flush()
        while commands:
            for command in commands:
                for report in self.venues[command.venue].handle(command):
                    self.engine.on_venue_event(report)
            commands = self.engine.flush()

    def submit_sor(
        self,
        side: OrderSide,
        quantity: Decimal,
        spec: SorSpec,
        price: Decimal | None = None,
    ) -> Order:
        """Submit an SOR parent (LIMIT with ``price`` as guard, else MARKET) and dispatch."""
        order = self.engine.submit_algo(
            OrderRequest(
                instrument_id=self.instrument.id,
                side=side,
                order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                quantity=quantity,
                price=price,
            ),
            spec,
        )
        self.dispatch()
        return order

    def children(self, parent: Order) -> list[Order]:
        """Return the parent's children in creation order."""
        coid = parent.client_order_id
        return [o for o in self.engine.state.orders.values() if o.parent_id == coid]

    def decisions(self) -> list[RoutingDecided]:
        """Return the journaled routing decisions."""
        return [e for e in self.events if type(e) is RoutingDecided]

    def fills(self) -> list[OrderFilled]:
        """Return every fill."""
        return [e for e in self.events if type(e) is OrderFilled]

    def realised_cost(self, side: OrderSide, mid: Fraction) -> Fraction:
        """Return what the fills cost against ``mid``: price paid away from it plus fees."""
        return sum(
            (
                side.sign * (Fraction(f.last_price) - mid) * Fraction(f.last_quantity)
                + Fraction(f.fee)
                for f in self.fills()
            ),
            Fraction(0),
        )
