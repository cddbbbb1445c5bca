"""The correlation limit through the engine: a configured limit must deny. Real engine,
simulated venue, no mocks.

Pending wiring (engine.py / core.py): when ``limits.correlation`` is set,
`TradingEngine.on_market_data` notes each new mark in a
`alphintra.engine.correlation.CorrelationTracker` (window, sample_ms, min_correlation
from the limits) and the risk context gets ``correlation=tracker.view()``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.denial import CORRELATION_CLUSTER
from alphintra.risk.limits import CorrelationLimits, RiskLimits
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

D = Decimal
T0 = 1_700_000_000 * 10**9  # on a one-second boundary
SEC = 10**9
PIP = D("0.00001")
# One path, both pairs: GBPUSD = 1.2 × EURUSD exactly, so their returns are equal
# (correlation 1); the steps differ in size so that the returns are not constant.
STEPS = ("1.10000", "1.10550", "1.09450", "1.11650", "1.10000", "1.12200", "1.09450", "1.11100")

Bench = tuple[TradingEngine, SimulatedVenue, SimulatedClock, Instrument, Instrument]


def _bench(limits: RiskLimits) -> Bench:
    registry = InstrumentRegistry()
    eurusd, gbpusd = registry.get("EURUSD"), registry.get("GBPUSD")
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(SimulatedVenueConfig(), {eurusd.id: eurusd, gbpusd.id: gbpusd})
    engine = TradingEngine(
        account_id=AccountId("CORR"),
        registry=registry,
        journal=MemoryJournal(),
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
        limits=limits,
    )
    engine.open_account("USD", {"USD": D(1_000_000)})
    return engine, venue, clock, eurusd, gbpusd


def _quote(bench: Bench, instrument: Instrument, mid: Decimal) -> None:
    engine, venue, clock, _, _ = bench
    tick = QuoteTick(instrument.id, mid - PIP, mid + PIP, D(10**7), D(10**7), clock.now_ns())
    for report in venue.on_market_data(tick):
        engine.on_venue_event(report)
    engine.on_market_data(tick)


def _feed(bench: Bench) -> None:
    """Both pairs quoted once per second over len(STEPS) seconds, then once more in the
    next interval (the last quotes are sampled)."""
    _, _, clock, eurusd, gbpusd = bench
    for k, mid in enumerate((*STEPS, STEPS[-1])):
        clock.advance_to(T0 + k * SEC + SEC // 10)
        _quote(bench, eurusd, D(mid))
        _quote(bench, gbpusd, D(mid) * D("1.2"))


def _buy(bench: Bench, instrument: Instrument, quantity: int) -> Order:
    engine, venue, _, _, _ = bench
    order = engine.submit(
        OrderRequest(
            instrument_id=instrument.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D(quantity),
        )
    )
    commands = engine.flush()
    while commands:
        for command in commands:
            for report in venue.handle(command):
                engine.on_venue_event(report)
        commands = engine.flush()
    return order


def _limits() -> RiskLimits:
    # EURUSD 100,000 at ~1.111 is ~111,100 USD; GBPUSD 100,000 at ~1.333 is ~133,300:
    # either alone is within 200,000, both together are not.
    return RiskLimits(
        correlation=CorrelationLimits(
            max_cluster_exposure=D(200_000),
            window=5,
            sample_ms=1_000,
            min_correlation=D("0.9"),
        )
    )


def test_correlated_cluster_over_its_cap_is_denied() -> None:
    alone = _bench(_limits())
    _feed(alone)
    assert _buy(alone, alone[4], 100_000).status is OrderStatus.FILLED  # within the cap

    bench = _bench(_limits())
    engine, _, _, eurusd, gbpusd = bench
    _feed(bench)
    held = _buy(bench, eurusd, 100_000)
    assert held.status is OrderStatus.FILLED
    assert engine.state.position_quantity(eurusd.id) == D(100_000)
    order = _buy(bench, gbpusd, 100_000)
    assert order.status is OrderStatus.DENIED
    assert engine.state.denials[order.client_order_id].reason_code == CORRELATION_CLUSTER


@pytest.mark.parametrize(("min_observations", "denied"), [(None, False), (8, False), (7, True)])
def test_the_cluster_needs_min_observations_returns(
    min_observations: int | None, denied: bool
) -> None:
    """The feed gives 7 returns per pair. With a window of 10 the default asks for 10
    (min(window, 20)), so the pairs are not yet a cluster and the second buy passes; asking
    for 7 clusters them and the buy is denied."""
    limits = RiskLimits(
        correlation=CorrelationLimits(
            max_cluster_exposure=D(200_000),
            window=10,
            sample_ms=1_000,
            min_correlation=D("0.9"),
            min_observations=min_observations,
        )
    )
    bench = _bench(limits)
    _, _, _, eurusd, gbpusd = bench
    _feed(bench)
    assert _buy(bench, eurusd, 100_000).status is OrderStatus.FILLED
    order = _buy(bench, gbpusd, 100_000)
    assert (order.status is OrderStatus.DENIED) is denied
