"""Property: the reworked pre-trade checks answer exactly as before, denial for denial.

`reference_pretrade.reference_check_order` is the entry point as it was before the hot
path was reworked. On random engine flows (`engine.random_flows`) with random limits
of every kind, each new order is checked three ways: as before, and now with and
without the books kept from the events. The three answers (code and reason) must be
equal.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.events import AnyEvent, OrderInitialized
from alphintra.domain.identifiers import InstrumentId
from alphintra.engine.clock import SimulatedClock
from alphintra.risk.correlation import view_from_clusters
from alphintra.risk.limits import (
    BuyingPowerLimits,
    ConcentrationLimits,
    CorrelationLimits,
    ExposureLimits,
    LossLimits,
    PriceCollar,
    RiskLimits,
)
from alphintra.risk.pretrade import check_order
from alphintra.risk.working_books import WorkingBooks
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
from risk.reference_pretrade import reference_check_order

_FLOWS = st.lists(steps, min_size=10, max_size=80)
CLUSTER = view_from_clusters([[InstrumentId("BTCUSD"), InstrumentId("ESX")]], threshold=0.7)


def _amounts(low: int, high: int) -> st.SearchStrategy[Decimal | None]:
    return st.none() | st.integers(low, high).map(Decimal)


def _fractions(low: int, high: int, scale: int) -> st.SearchStrategy[Decimal | None]:
    return st.none() | st.integers(low, high).map(lambda n: Decimal(n) / scale)


@st.composite
def limits(draw: st.DrawFn) -> RiskLimits:
    return RiskLimits(
        max_position_quantity=draw(_amounts(1, 12)),
        max_position_notional=draw(_amounts(1_000, 100_000)),
        enforce_min_notional=False,
        price_collar=draw(
            st.none() | st.just(PriceCollar(max_fraction=Decimal("0.0005"), min_band=Decimal(1)))
        ),
        exposure=ExposureLimits(
            max_gross_exposure=draw(_amounts(1_000, 200_000)),
            max_net_exposure=draw(_amounts(1_000, 200_000)),
            max_leverage=draw(_fractions(1, 50, 100)),
        )
        if draw(st.booleans())
        else None,
        concentration=ConcentrationLimits(
            max_per_instrument=draw(_fractions(1, 50, 1000)),
            max_per_sector=draw(_fractions(1, 50, 1000)),
            max_per_asset_class=draw(_fractions(1, 50, 1000)),
            max_per_venue=draw(_fractions(1, 50, 1000)),
        )
        if draw(st.booleans())
        else None,
        buying_power=BuyingPowerLimits(
            fee_rate=draw(st.sampled_from([Decimal(0), Decimal("0.001")])),
            long_margin_rate=draw(st.sampled_from([Decimal(1), Decimal("0.2")])),
            short_margin_rate=draw(st.sampled_from([Decimal("0.5"), Decimal(1)])),
        )
        if draw(st.booleans())
        else None,
        correlation=CorrelationLimits(
            max_cluster_exposure=draw(st.integers(1_000, 200_000).map(Decimal)),
            max_cluster_fraction=draw(_fractions(1, 50, 1000)),
        )
        if draw(st.booleans())
        else None,
        loss=LossLimits(
            max_daily_loss=draw(_amounts(1, 500)), max_drawdown=draw(_fractions(1, 50, 1000))
        )
        if draw(st.booleans())
        else None,
    )


def _runner(config: FlowConfig, cash: Decimal) -> Runner:
    registry = make_registry()
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(config.venue_config(), registry.known())
    engine = make_engine(config, registry, MemoryJournal(), clock, venue.venue_id)
    engine.open_account("USD", {"USD": cash})
    return Runner(engine, venue, clock)


@settings(max_examples=120, deadline=None)
@given(configs, _FLOWS, limits(), st.sampled_from([10_000_000, 300_000, 30_000]))
def test_check_order_random_flows_same_denials_as_before_the_rework(
    config: FlowConfig, flow: list[Step], risk: RiskLimits, cash: int
) -> None:
    runner = _runner(config, Decimal(cash))
    engine = runner.engine
    tracker = WorkingBooks(engine.state, track_from=0)
    codes: Counter[str | None] = Counter()

    def listen(event: AnyEvent) -> None:
        tracker.on_event(event)
        if type(event) is not OrderInitialized:
            return
        context = dataclasses.replace(engine._risk_context(), correlation=CLUSTER)
        instrument = engine.instrument(event.instrument_id)
        state = engine.state
        before = reference_check_order(event, instrument, state, risk, context)
        scanned = check_order(
            event, instrument, state, risk, dataclasses.replace(context, books=None)
        )
        kept = check_order(
            event, instrument, state, risk, dataclasses.replace(context, books=tracker)
        )
        assert scanned == before
        assert kept == before
        codes[None if before is None else before.code] += 1

    engine.subscribe(listen)
    run_steps([runner], Market(), flow)
    assert sum(codes.values()) == sum(
        1 for order in engine.state.orders.values() if order.client_order_id in engine._inits
    )
