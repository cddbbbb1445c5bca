"""Property: the engine's kept equity is always `account_equity` worked out afresh."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from alphintra.domain.events import AnyEvent
from alphintra.domain.market import MarketData
from alphintra.engine.clock import SimulatedClock
from alphintra.portfolio.valuation import EquityTracker, account_equity
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue
from engine.random_flows import (
    T0,
    FlowConfig,
    Market,
    Runner,
    Step,
    configs,
    make_engine,
    make_registry,
    run_steps,
    steps,
)

_cash = st.dictionaries(
    st.sampled_from(["USD", "EUR"]),
    st.one_of(st.just(Decimal(0)), st.integers(1, 10**9).map(lambda n: Decimal(n) / 100)),
    min_size=1,
)


@given(configs, st.lists(steps, min_size=5, max_size=80), _cash)
def test_equity_tracker_random_flows_equals_account_equity_afresh(
    config: FlowConfig, flow: list[Step], cash: dict[str, Decimal]
) -> None:
    registry = make_registry()
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(config.venue_config(), registry.known())
    engine = make_engine(config, registry, MemoryJournal(), clock, venue.venue_id)
    engine.open_account("USD", cash)
    runner = Runner(engine, venue, clock)
    tracker = EquityTracker()
    compared = 0

    def compare() -> None:
        nonlocal compared
        kept = tracker.equity(engine.state, engine.fx)
        afresh = account_equity(engine.state, engine.fx)
        assert kept == afresh
        assert str(kept) == str(afresh)  # the same Decimal, to the exponent
        assert str(engine.equity()) == str(afresh)
        compared += 1

    def on_event(event: AnyEvent) -> None:
        compare()

    engine.subscribe(on_event)
    on_market_data = engine.on_market_data

    def tick(data: MarketData) -> None:
        on_market_data(data)
        compare()

    engine.on_market_data = tick  # type: ignore[method-assign]
    run_steps([runner], Market(), flow)
    compare()
    assert compared > 0
