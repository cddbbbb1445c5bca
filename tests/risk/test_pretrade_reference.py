"""Property: the reworked pre-trade checks answer exactly as before, denial for denial.

`reference_pretrade.reference_check_order` is the entry point as it was before the hot
path was reworked. On random engine flows (`engine.random_flows`) with random limits
of every kind, each new order is checked three ways: as before, and now with and
without the books and the portfolio bound kept from the events. The three answers
(code and reason) must be equal.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.events import AnyEvent, MarkUpdated, OrderInitialized
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
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
from alphintra.risk.portfolio_bound import PortfolioBound
from alphintra.risk.pretrade import check_order
from alphintra.risk.working_books import WorkingBooks
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig
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
from risk.eurusd_flow import bench_engine, random_walk
from risk.reference_pretrade import reference_check_order

_FLOWS = st.lists(steps, min_size=10, max_size=80)
CLUSTER = view_from_clusters([[InstrumentId("BTCUSD"), InstrumentId("ESX")]], threshold=0.7)


def _amounts(low: int, high: int) -> st.SearchStrategy[Decimal | None]:
    return st.none() | st.integers(low, high).map(Decimal) | st.just(Decimal(10) ** 12)


def _fractions(low: int, high: int, scale: int) -> st.SearchStrategy[Decimal | None]:
    far = st.just(Decimal(1000))  # never binds: the portfolio bound can vouch for it
    return st.none() | st.integers(low, high).map(lambda n: Decimal(n) / scale) | far


@st.composite
def limits(draw: st.DrawFn, *, loose: bool = False) -> RiskLimits:
    """Random limits; ``loose`` ones bind only now and then (the bound's fast path)."""
    if loose:
        big = st.integers(4, 12).map(lambda n: Decimal(10) ** n)
        return RiskLimits(
            enforce_min_notional=False,
            max_position_quantity=draw(st.none() | st.just(Decimal(10) ** 9)),
            exposure=ExposureLimits(
                max_gross_exposure=draw(big),
                max_net_exposure=draw(big),
                max_leverage=draw(st.integers(1, 100).map(Decimal)),
            ),
            concentration=ConcentrationLimits(
                max_per_instrument=draw(st.integers(1, 100).map(lambda n: Decimal(n) / 10)),
                max_per_asset_class=Decimal(10),
                max_per_venue=Decimal(10),
            ),
            buying_power=BuyingPowerLimits(
                fee_rate=draw(st.sampled_from([Decimal(0), Decimal("0.001")])),
                long_margin_rate=draw(st.sampled_from([Decimal(1), Decimal("0.2")])),
                short_margin_rate=draw(st.sampled_from([Decimal("0.5"), Decimal(1)])),
            )
            if draw(st.booleans())
            else None,
            correlation=CorrelationLimits(max_cluster_exposure=draw(big)),
        )
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


@settings(max_examples=150, deadline=None)
@given(
    configs,
    _FLOWS,
    st.one_of(limits(), limits(loose=True)),
    st.sampled_from([10_000_000, 300_000, 30_000]),
)
def test_check_order_random_flows_same_denials_as_before_the_rework(
    config: FlowConfig, flow: list[Step], risk: RiskLimits, cash: int
) -> None:
    runner = _runner(config, Decimal(cash))
    engine = runner.engine
    tracker = WorkingBooks(engine.state, track_from=0)
    bound = PortfolioBound(engine.state, risk)
    codes: Counter[str | None] = Counter()

    def listen(event: AnyEvent) -> None:
        tracker.on_event(event)
        bound.on_event(event)
        if type(event) is not OrderInitialized:
            return
        context = dataclasses.replace(engine._risk_context(), correlation=CLUSTER)
        instrument = engine.instrument(event.instrument_id)
        state = engine.state
        before = reference_check_order(event, instrument, state, risk, context)
        scanning = dataclasses.replace(context, books=None, bound=None)
        keeping = dataclasses.replace(context, books=tracker, bound=bound)
        scanned = check_order(event, instrument, state, risk, scanning)
        kept = check_order(event, instrument, state, risk, keeping)
        assert scanned == before
        assert kept == before
        codes[None if before is None else before.code] += 1

    engine.subscribe(listen)
    run_steps([runner], Market(), flow)
    assert sum(codes.values()) == sum(
        1 for order in engine.state.orders.values() if order.client_order_id in engine._inits
    )


def _bench_limits(gross_cap: Decimal, fraction: Decimal, long_rate: Decimal) -> RiskLimits:
    """Every check on, as in ``bench/engine_throughput.py --risk all``, with the gross
    exposure, concentration and margin rates from the caller (so that they bind)."""
    big = Decimal(10) ** 15
    return RiskLimits(
        max_order_quantity=Decimal(10_000_000),
        max_order_notional=Decimal(100_000_000),
        max_position_quantity=Decimal(10) ** 12,
        max_position_notional=big,
        max_volatility=Decimal(1),
        restricted_symbols=frozenset({"XAUUSD"}),
        price_collar=PriceCollar(max_fraction=Decimal("0.5"), min_band=Decimal("0.001")),
        exposure=ExposureLimits(
            max_gross_exposure=gross_cap, max_net_exposure=big, max_leverage=Decimal(10**6)
        ),
        concentration=ConcentrationLimits(
            max_per_instrument=fraction, max_per_asset_class=fraction, max_per_venue=fraction
        ),
        buying_power=BuyingPowerLimits(
            fee_rate=Decimal("0.0001"), long_margin_rate=long_rate, short_margin_rate=long_rate
        ),
        loss=LossLimits(max_daily_loss=big, max_drawdown=Decimal("0.99")),
    )


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32),
    st.sampled_from([Decimal(10) ** 15, Decimal(2_000_000), Decimal(200_000)]),
    st.sampled_from([Decimal(10**6), Decimal(1), Decimal("0.05")]),
    st.sampled_from([Decimal("0.000001"), Decimal(1)]),
    st.sampled_from([Decimal(10**9), Decimal(1_000_000), Decimal(100_000)]),
)
def test_check_order_benchmark_flows_engine_answers_as_before_the_rework(
    seed: int, gross_cap: Decimal, fraction: Decimal, long_rate: Decimal, cash: Decimal
) -> None:
    """The engine's own context (kept books, portfolio bound) on the benchmark's flow:
    market and limit orders both ways on a random walk, some limits binding mid-way."""
    rnd = random.Random(seed)
    risk = _bench_limits(gross_cap, fraction, long_rate)
    bench = bench_engine(risk, cash, T0)
    engine, _, _, eurusd = bench
    codes: Counter[str | None] = Counter()

    def listen(event: AnyEvent) -> None:
        if type(event) is not OrderInitialized:
            return
        context = engine._risk_context()
        before = reference_check_order(event, eurusd, engine.state, risk, context)
        assert check_order(event, eurusd, engine.state, risk, context) == before
        codes[None if before is None else before.code] += 1

    engine.subscribe(listen)
    random_walk(bench, rnd, 300, max_move=30, max_offset=20, next_ns=lambda k: T0 + k * 100_000_000)
    assert sum(codes.values()) >= 300


@settings(max_examples=100, deadline=None)
@given(
    configs,
    _FLOWS,
    st.one_of(limits(), limits(loose=True)),
    st.sampled_from([10_000_000, 300_000, 30_000]),
)
def test_check_order_engine_limits_random_flows_engine_bound_answers_as_before(
    config: FlowConfig, flow: list[Step], risk: RiskLimits, cash: int
) -> None:
    """The engine under the random limits themselves, so that its own bound (fed only
    the event types it folds, the others counted) decides which orders go out; each
    order's answer with the engine's context equals the reference's."""
    runner = _runner(config, Decimal(cash))
    engine = runner.engine
    engine.limits = risk
    answers: Counter[str | None] = Counter()

    def listen(event: AnyEvent) -> None:
        if type(event) is not OrderInitialized:
            return
        context = dataclasses.replace(engine._risk_context(), correlation=CLUSTER)
        instrument = engine.instrument(event.instrument_id)
        state = engine.state
        before = reference_check_order(event, instrument, state, risk, context)
        assert context.bound is engine._bound
        assert check_order(event, instrument, state, risk, context) == before
        answers[None if before is None else before.code] += 1

    engine.subscribe(listen)
    run_steps([runner], Market(), flow)
    assert sum(answers.values()) == sum(
        1 for order in engine.state.orders.values() if order.client_order_id in engine._inits
    )


def test_portfolio_bound_event_applied_past_the_engine_invalidates_it() -> None:
    """An event the state applies without the engine (a restore) leaves the bound's
    count behind: it then vouches for nothing and turns invalid at its next use."""
    registry = InstrumentRegistry()
    eurusd = registry.get("EURUSD")
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(SimulatedVenueConfig(), {eurusd.id: eurusd})
    risk = _bench_limits(Decimal(10) ** 15, Decimal(10**6), Decimal("0.000001"))
    engine = TradingEngine(
        account_id=AccountId("GAP"),
        registry=registry,
        journal=MemoryJournal(),
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
        limits=risk,
    )
    engine.open_account("USD", {"USD": Decimal(10**9)})
    mid = Decimal("1.10000")
    tick = QuoteTick(eurusd.id, mid, mid + Decimal("0.00002"), Decimal(10**6), Decimal(10**6), T0)
    engine.on_market_data(tick)
    request = OrderRequest(
        instrument_id=eurusd.id,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(1000),
        price=Decimal("1.00000"),
    )
    orders = [engine.submit(request) for _ in range(4)]
    bound = engine._bound
    assert bound is not None
    counted = [o for o in orders if bound.vouches_for(o.client_order_id)]
    assert counted  # a rebuild at a check counts every working order
    order = counted[-1]
    unseen = MarkUpdated(
        account_id=engine.account_id, ts_event=T0, ts_recv=T0, instrument_id=eurusd.id, mark=mid
    )
    engine.restore([unseen])  # past `_emit`: the bound never sees it
    assert bound.seen < engine.state.event_count
    assert not bound.vouches_for(order.client_order_id)
    engine.submit(request)  # the checks find it invalid and rebuild it from the state
    assert bound.valid and bound.seen == engine.state.event_count
