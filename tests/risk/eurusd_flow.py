"""The engine benchmark's flow in small, for the differential tests of the risk checks:
one EURUSD account on a simulated venue, and market and limit orders both ways on a
random walk of the quotes."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.identifiers import AccountId, ClientOrderId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.limits import RiskLimits
from alphintra.store.journal import Journal
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

Bench = tuple[TradingEngine, SimulatedVenue, SimulatedClock, Instrument]


def bench_engine(
    risk: RiskLimits,
    cash: Decimal,
    t0: int,
    *,
    journal: Journal | None = None,
    venue_config: SimulatedVenueConfig | None = None,
    eurusd: Instrument | None = None,
) -> Bench:
    """Return the benchmark's engine (account BENCH, ``cash`` USD) under ``risk``, its
    venue, its clock at ``t0`` and EURUSD (journaling to ``journal``, else memory; the
    venue set up by ``venue_config`` and EURUSD defined as ``eurusd`` when given)."""
    registry = InstrumentRegistry([eurusd] if eurusd is not None else ())
    eurusd = registry.get("EURUSD")
    clock = SimulatedClock(t0)
    venue = SimulatedVenue(venue_config or SimulatedVenueConfig(), {eurusd.id: eurusd})
    engine = TradingEngine(
        account_id=AccountId("BENCH"),
        registry=registry,
        journal=journal if journal is not None else MemoryJournal(),
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
        limits=risk,
    )
    engine.open_account("USD", {"USD": cash})
    return engine, venue, clock, eurusd


def quote(bench: Bench, mid: str, *, at: int | None = None) -> None:
    """Move the clock 1 ms (or to ``at``) and give venue and engine a EURUSD quote one
    pip wide around ``mid``, 10,000,000 on each side."""
    engine, venue, clock, eurusd = bench
    clock.advance_to(clock.now_ns() + 1_000_000 if at is None else at)
    pip = Decimal("0.00001")
    size = Decimal(10**7)
    tick = QuoteTick(eurusd.id, Decimal(mid) - pip, Decimal(mid) + pip, size, size, clock.now_ns())
    for report in venue.on_market_data(tick):
        engine.on_venue_event(report)
    engine.on_market_data(tick)


def pump(bench: Bench) -> None:
    """Hand the engine's venue commands to the venue, and its reports back, until none."""
    engine, venue, _, _ = bench
    commands = engine.flush()
    while commands:
        for command in commands:
            for report in venue.handle(command):
                engine.on_venue_event(report)
        commands = engine.flush()


def random_walk(
    bench: Bench,
    rnd: random.Random,
    steps: int,
    *,
    max_move: int,
    max_offset: int,
    next_ns: Callable[[int], int],
) -> None:
    """Run ``steps`` steps: the mid moves up to ``max_move`` pips, the clock goes to
    ``next_ns(step)``, a quote ticks, a resting limit order is cancelled half the time,
    and an order is sent (70 % buys; half market, half limit within ``max_offset`` pips
    of the mid), the venue answering every command."""
    engine, venue, clock, eurusd = bench
    mid, pip = Decimal("1.10000"), Decimal("0.00001")
    resting: ClientOrderId | None = None
    for k in range(steps):
        mid += rnd.choice((-pip, Decimal(0), pip)) * rnd.randint(1, max_move)
        clock.advance_to(next_ns(k))
        tick = QuoteTick(
            eurusd.id, mid - pip, mid + pip, Decimal(10**6), Decimal(10**6), clock.now_ns()
        )
        for report in venue.on_market_data(tick):
            engine.on_venue_event(report)
        engine.on_market_data(tick)
        if resting is not None and rnd.random() < 0.5:
            engine.cancel(resting)
            resting = None
        side = OrderSide.BUY if rnd.random() < 0.7 else OrderSide.SELL
        quantity = Decimal(rnd.choice((1_000, 10_000, 100_000)))
        if rnd.random() < 0.5:
            request = OrderRequest(
                instrument_id=eurusd.id, side=side, order_type=OrderType.MARKET, quantity=quantity
            )
        else:
            offset = Decimal(rnd.randint(-max_offset, max_offset)) * pip
            request = OrderRequest(
                instrument_id=eurusd.id,
                side=side,
                order_type=OrderType.LIMIT,
                quantity=quantity,
                price=mid + offset,
            )
        order = engine.submit(request)
        if order.is_open and order.order_type is OrderType.LIMIT:
            resting = order.client_order_id
        pump(bench)
