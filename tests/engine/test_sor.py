"""Smart order routing in the engine, against two to four simulated venues.

The cost-optimal split is computed here by brute force over every split on the lot
grid, with the documented cost formulas (spread and depth against the consolidated
mid, taker fee, linear impact, latency and non-fill penalties) in exact fractions,
independently of ``alphintra.execution.routing``. The realised cost of a run is
read from its fills: price paid away from the mid plus the fees the venues charged.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce, TradingState
from alphintra.domain.events import OrderCancelled
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.orders import Order
from alphintra.engine.replay import rebuild_engine, take_snapshot
from alphintra.execution.algorithms import SorSpec
from alphintra.execution.routing import BookLevel, CostModel, RoutingDecision
from alphintra.risk.pretrade import RiskLimits
from alphintra.store.memory import MemoryJournal
from engine.sor_venues import Quote, Venues, VenueSetup, make_engine

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal
FULL_MODEL = CostModel(
    impact_coefficient=D("0.002"), volatility_per_ms=D("0.000002"), reroute_cost=D("0.001")
)

Book = tuple[list[tuple[str, int]], list[tuple[str, int]]]
"""(bids, asks) as (price, size), best first."""


# --- the independent brute force -------------------------------------------------------


def _venue_cost(
    setup: VenueSetup, book: Book, side: OrderSide, mid: Fraction, model: CostModel, q: int
) -> Fraction:
    if q == 0:
        return Fraction(0)
    levels = book[1] if side is BUY else book[0]
    fee = Fraction(setup.taker_fee_bps) / 10_000
    left, paid = Fraction(q), Fraction(0)
    for price, size in levels:
        take = min(left, Fraction(size))
        paid += side.sign * (Fraction(price) - mid) * take + fee * Fraction(price) * take
        left -= take
    assert left == 0
    depth = sum(size for _, size in levels)
    impact = Fraction(model.impact_coefficient) * mid * q * q / depth
    latency = Fraction(model.volatility_per_ms) * setup.latency_ms * mid * q
    miss = (1 - Fraction(setup.fill_probability)) * Fraction(model.reroute_cost) * mid * q
    return paid + impact + latency + miss


def _mid(books: list[Book]) -> Fraction:
    best_bid = max(Fraction(b[0][0][0]) for b in books if b[0])
    best_ask = min(Fraction(b[1][0][0]) for b in books if b[1])
    return (best_bid + best_ask) / 2


def brute_force(
    setups: list[VenueSetup], books: list[Book], side: OrderSide, quantity: int, model: CostModel
) -> list[tuple[dict[str, int], Fraction]]:
    """Return every split of the most routable quantity with the least cost."""
    mid = _mid(books)
    caps = []
    for setup, book in zip(setups, books, strict=True):
        shown = sum(size for _, size in (book[1] if side is BUY else book[0]))
        limit = shown if setup.max_quantity is None else min(shown, int(setup.max_quantity))
        caps.append(limit)
    target = min(quantity, sum(caps))
    results: list[tuple[dict[str, int], Fraction]] = []
    for split in itertools.product(*(range(cap + 1) for cap in caps)):
        if sum(split) != target:
            continue
        cost = sum(
            (
                _venue_cost(s, b, side, mid, model, q)
                for s, b, q in zip(setups, books, split, strict=True)
            ),
            Fraction(0),
        )
        results.append(({s.name: q for s, q in zip(setups, split, strict=True) if q}, cost))
    least = min(cost for _, cost in results)
    return [(split, cost) for split, cost in results if cost == least]


def _levels(pairs: list[tuple[str, int]]) -> list[BookLevel]:
    return [BookLevel(D(price), D(size)) for price, size in pairs]


# --- the split the engine sends equals the brute-force optimum ---------------------------

CASES = [
    pytest.param(
        [
            VenueSetup("A", D(5), latency_ms=1, fill_probability=D("0.95")),
            VenueSetup("B", D(1), latency_ms=20, fill_probability=D("0.99")),
        ],
        [
            ([("99.98", 5)], [("100.02", 3), ("100.05", 4)]),
            ([("99.99", 2)], [("100.03", 6)]),
        ],
        BUY,
        8,
        id="two-venues-buy-depth",
    ),
    pytest.param(
        [
            VenueSetup("A", D(2), latency_ms=5, fill_probability=D("0.9")),
            VenueSetup("B", D(0), latency_ms=40, fill_probability=D(1)),
            VenueSetup("C", D(8), latency_ms=1, fill_probability=D("0.98"), max_quantity=D(4)),
        ],
        [
            ([("99.97", 4), ("99.94", 6)], [("100.03", 5)]),
            ([("99.96", 7)], [("100.02", 3)]),
            ([("99.99", 6), ("99.95", 2)], [("100.06", 4)]),
        ],
        SELL,
        12,
        id="three-venues-sell-limit",
    ),
    pytest.param(
        [
            VenueSetup("A", D(3), latency_ms=2),
            VenueSetup("B", D("0.5"), latency_ms=30, fill_probability=D("0.8")),
            VenueSetup("C", D(6), latency_ms=1, max_quantity=D(3)),
            VenueSetup("D", D(1), latency_ms=10, fill_probability=D("0.97")),
        ],
        [
            ([("99.98", 3)], [("100.01", 2), ("100.04", 3)]),
            ([("99.97", 5)], [("100.02", 6)]),
            ([("99.99", 2)], [("100.00", 5)]),
            ([("99.95", 4)], [("100.03", 2), ("100.07", 5)]),
        ],
        BUY,
        11,
        id="four-venues-buy-mixed",
    ),
]


@pytest.mark.parametrize(("setups", "books", "side", "quantity"), CASES)
def test_sor_first_split_equals_brute_force_optimum(
    setups: list[VenueSetup], books: list[Book], side: OrderSide, quantity: int
) -> None:
    run = Venues(setups)
    for setup, (bids, asks) in zip(setups, books, strict=True):
        run.engine.on_venue_book(
            VenueId(setup.name), run.instrument.id, _levels(bids), _levels(asks)
        )
    parent = run.submit_sor(side, D(quantity), SorSpec(cost_model=FULL_MODEL))
    optimal = brute_force(setups, books, side, quantity, FULL_MODEL)
    assert len(optimal) == 1, f"the case must have one optimum, got {optimal}"
    split, least = optimal[0]
    sent = {str(child.venue): int(child.quantity) for child in run.children(parent)}
    assert sent == split
    decision = RoutingDecision.from_json(run.decisions()[0].decision)
    # Impact divides by the depth: the router's 50-digit decimals round it, exactly once.
    assert abs(Fraction(decision.cost.total) - least) < Fraction(1, 10**40)
    for child in run.children(parent):
        assert child.order_type is OrderType.LIMIT
        assert child.time_in_force is TimeInForce.IOC
        allocation = next(a for a in decision.allocations if a.venue == child.venue)
        assert child.price == allocation.limit_price


@st.composite
def routing_cases(
    draw: st.DrawFn,
) -> tuple[list[VenueSetup], list[Book], OrderSide, int, CostModel]:
    setups, books = [], []
    for index in range(draw(st.integers(2, 3))):
        limit = draw(st.none() | st.integers(1, 5))
        setups.append(
            VenueSetup(
                "ABC"[index],
                D(draw(st.integers(0, 20))) / 2,
                latency_ms=draw(st.integers(0, 50)),
                fill_probability=D(draw(st.integers(80, 100))) / 100,
                max_quantity=None if limit is None else D(limit),
            )
        )
        sides = []
        for sign in (-1, 1):
            levels, price = [], 10_000 + sign * draw(st.integers(1, 8))
            for _ in range(draw(st.integers(1, 2))):
                levels.append((str(D(price) / 100), draw(st.integers(1, 3))))
                price += sign * draw(st.integers(1, 5))
            sides.append(levels)
        books.append((sides[0], sides[1]))
    model = CostModel(
        impact_coefficient=D(draw(st.integers(0, 30))) / 10_000,
        volatility_per_ms=D(draw(st.integers(0, 5))) / 1_000_000,
        reroute_cost=D(draw(st.integers(0, 20))) / 10_000,
    )
    side = draw(st.sampled_from([BUY, SELL]))
    return setups, books, side, draw(st.integers(1, 12)), model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routing_cases())
def test_sor_random_books_split_sent_is_a_brute_force_optimum(
    case: tuple[list[VenueSetup], list[Book], OrderSide, int, CostModel],
) -> None:
    setups, books, side, quantity, model = case
    run = Venues(setups)
    for setup, (bids, asks) in zip(setups, books, strict=True):
        run.engine.on_venue_book(
            VenueId(setup.name), run.instrument.id, _levels(bids), _levels(asks)
        )
    parent = run.submit_sor(side, D(quantity), SorSpec(cost_model=model))
    optimal = brute_force(setups, books, side, quantity, model)
    sent = {str(child.venue): int(child.quantity) for child in run.children(parent)}
    assert sent in [split for split, _ in optimal]
    if len(optimal) == 1:
        assert sent == optimal[0][0]


# --- realised cost never worse than the single best-priced venue --------------------------


@st.composite
def markets(draw: st.DrawFn) -> tuple[list[VenueSetup], dict[str, Quote], int]:
    count = draw(st.integers(2, 4))
    setups, quotes = [], {}
    for index in range(count):
        name = "ABCD"[index]
        setups.append(
            VenueSetup(
                name,
                D(draw(st.integers(0, 40))) / 2,
                latency_ms=draw(st.integers(0, 3)),
            )
        )
        quotes[name] = Quote(
            bid=D(100) - D(draw(st.integers(1, 15))) / 100,
            ask=D(100) + D(draw(st.integers(1, 15))) / 100,
            bid_size=D(draw(st.integers(1, 30))),
            ask_size=D(draw(st.integers(1, 30))),
        )
    side = draw(st.sampled_from([BUY, SELL]))
    best = _best_priced(quotes, side)
    shown = quotes[best].ask_size if side is BUY else quotes[best].bid_size
    quantity = draw(st.integers(1, int(shown)))
    return setups, quotes, quantity * side.sign


def _best_priced(quotes: dict[str, Quote], side: OrderSide) -> str:
    if side is BUY:
        return min(quotes, key=lambda n: quotes[n].ask)
    return max(quotes, key=lambda n: quotes[n].bid)


def _consolidated_mid(quotes: dict[str, Quote]) -> Fraction:
    return (
        Fraction(max(q.bid for q in quotes.values()))
        + Fraction(min(q.ask for q in quotes.values()))
    ) / 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets())
def test_sor_realised_cost_never_worse_than_best_priced_venue_alone(
    market: tuple[list[VenueSetup], dict[str, Quote], int],
) -> None:
    setups, quotes, signed = market
    side = BUY if signed > 0 else SELL
    quantity = D(abs(signed))
    mid = _consolidated_mid(quotes)
    slowest = max(s.latency_ms for s in setups) + 1

    routed = Venues(setups)
    routed.quote_all(quotes)
    parent = routed.submit_sor(side, quantity, SorSpec())
    routed.requote(slowest)
    assert parent.status is OrderStatus.FILLED
    assert parent.filled_quantity == quantity
    assert sum(c.filled_quantity for c in routed.children(parent)) == quantity
    sor_cost = routed.realised_cost(side, mid)
    # With only spread and fees in the model, the expected cost is what the venues charge.
    decision = RoutingDecision.from_json(routed.decisions()[0].decision)
    assert sor_cost == Fraction(decision.cost.total)

    best = _best_priced(quotes, side)
    alone = Venues(setups)
    alone.quote_all(quotes)
    quote = quotes[best]
    order = alone.engine.submit(
        OrderRequest(
            instrument_id=alone.instrument.id,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=quantity,
            price=quote.ask if side is BUY else quote.bid,
            time_in_force=TimeInForce.IOC,
            venue=VenueId(best),
        )
    )
    alone.dispatch()
    alone.requote(slowest)
    assert order.filled_quantity == quantity
    assert sor_cost <= alone.realised_cost(side, mid)


# --- re-routing, audit and replay -----------------------------------------------------------

TWO = [VenueSetup("A", D(1)), VenueSetup("B", D(2))]


def _phantom_run(spec: SorSpec) -> tuple[Venues, Order]:
    """A shows 4 at 100.01 but told the router 10; B shows 20 at 100.03."""
    run = Venues(TWO)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    run.engine.on_venue_book(
        VenueId("A"),
        run.instrument.id,
        [BookLevel(D("99.97"), D(10))],
        [BookLevel(D("100.01"), D(10))],
    )
    return run, run.submit_sor(BUY, D(10), spec)


def test_sor_unfilled_remainder_is_rerouted_and_every_decision_journaled() -> None:
    run, parent = _phantom_run(SorSpec())
    children = run.children(parent)
    assert [(c.venue, c.quantity, c.filled_quantity) for c in children] == [
        ("A", D(10), D(4)),
        ("B", D(6), D(6)),
    ]
    assert parent.status is OrderStatus.FILLED
    first, second = (RoutingDecision.from_json(e.decision) for e in run.decisions())
    assert first.split() == {"A": 10}
    assert second.split() == {"B": 6}
    assert second.reroute is not None
    assert second.reroute.attempt == 2
    assert second.reroute.failed_venues == ("A",)
    assert second.reroute.prior_fills == (("A", D(4)),)
    assert [e.attempt for e in run.decisions()] == [1, 2]
    # The audit record names every input: both books, fees and latencies.
    assert {v.venue: v.taker_fee_bps for v in first.request.venues} == {"A": 1, "B": 2}
    assert first.request.venues[0].asks == (BookLevel(D("100.01"), D(10)),)


def test_sor_every_venue_failed_routes_afresh_over_all_of_them() -> None:
    run = Venues(TWO)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(3)))
    for venue, ask in (("A", "100.01"), ("B", "100.03")):
        run.engine.on_venue_book(
            VenueId(venue),
            run.instrument.id,
            [BookLevel(D("99.97"), D(10))],
            [BookLevel(D(ask), D(10))],
        )
    parent = run.submit_sor(BUY, D(10), SorSpec())
    splits = [RoutingDecision.from_json(e.decision).split() for e in run.decisions()]
    assert splits == [{"A": D(10)}, {"B": D(6)}, {"A": D(3)}]
    third = RoutingDecision.from_json(run.decisions()[2].decision)
    assert third.reroute is not None
    assert third.reroute.attempt == 3 and third.reroute.failed_venues == ()
    assert parent.status is OrderStatus.FILLED
    assert [c.filled_quantity for c in run.children(parent)] == [D(4), D(3), D(3)]


def test_sor_gives_up_after_max_attempts_naming_what_it_filled() -> None:
    run, parent = _phantom_run(SorSpec(max_attempts=1))
    assert parent.status is OrderStatus.CANCELLED
    assert parent.filled_quantity == 4
    assert len(run.decisions()) == 1
    reasons = [
        e.reason
        for e in run.events
        if type(e) is OrderCancelled and e.client_order_id == parent.client_order_id
    ]
    assert reasons == ["smart order routing stopped after 1 decisions: filled 4 of 10"]


def test_sor_replay_restores_the_journaled_decisions_exactly() -> None:
    run, parent = _phantom_run(SorSpec())
    run.engine.flush(force=True)
    restored = rebuild_engine(
        run.journal,
        run.engine.account_id,
        lambda: make_engine(run.registry, MemoryJournal(), run.clock, TWO),
        use_snapshot=False,
    )
    coid = parent.client_order_id
    assert restored.routing_decisions(coid) == run.engine.routing_decisions(coid)
    assert len(restored.routing_decisions(coid)) == 2
    assert restored.state.orders[coid].filled_quantity == 10


@pytest.mark.parametrize("use_snapshot", [False, True], ids=["journal", "snapshot"])
def test_sor_restored_mid_flight_reroutes_from_the_journaled_decision(
    use_snapshot: bool,
) -> None:
    slow = [VenueSetup("A", D(1), latency_ms=5), VenueSetup("B", D(2))]
    run = Venues(slow)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    run.engine.on_venue_book(
        VenueId("A"),
        run.instrument.id,
        [BookLevel(D("99.97"), D(10))],
        [BookLevel(D("100.01"), D(10))],
    )
    parent = run.submit_sor(BUY, D(10), SorSpec())
    assert [c.is_open for c in run.children(parent)] == [True]  # A is slow: still working
    run.engine.flush(force=True)
    if use_snapshot:
        take_snapshot(run.engine, run.journal)
    restored = rebuild_engine(
        run.journal,
        run.engine.account_id,
        lambda: make_engine(run.registry, run.journal, run.clock, slow),
        use_snapshot=use_snapshot,
    )
    run.engine = restored  # the venues keep their orders; the new engine takes over
    run.engine.subscribe(run.events.append)
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    run.requote(6)  # A fills 4 of 10; the restored engine re-routes 6 to B
    coid = parent.client_order_id
    decisions = restored.routing_decisions(coid)
    assert [d.split() for d in decisions] == [{"A": D(10)}, {"B": D(6)}]
    assert decisions[1].reroute is not None and decisions[1].reroute.failed_venues == ("A",)
    assert restored.state.orders[coid].status is OrderStatus.FILLED


def test_sor_cancel_parent_cancels_working_children() -> None:
    slow = [VenueSetup("A", D(1), latency_ms=5), VenueSetup("B", D(2), latency_ms=5)]
    run = Venues(slow)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    parent = run.submit_sor(BUY, D(10), SorSpec())
    children = run.children(parent)
    assert [(c.venue, c.quantity) for c in children] == [("A", D(4)), ("B", D(6))]
    assert all(c.is_open for c in children)
    assert run.engine.cancel(parent.client_order_id, "changed my mind")
    run.dispatch()
    run.requote(10)
    assert parent.status is OrderStatus.CANCELLED
    assert [c.status for c in children] == [OrderStatus.CANCELLED] * 2
    assert run.fills() == []


def test_sor_pause_cancels_children_and_resume_routes_the_rest_afresh() -> None:
    slow = [VenueSetup("A", D(1), latency_ms=5), VenueSetup("B", D(2), latency_ms=5)]
    run = Venues(slow)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    parent = run.submit_sor(BUY, D(10), SorSpec())
    coid = parent.client_order_id
    assert run.engine.pause_algo(coid, "wait")
    run.dispatch()
    run.requote(10)
    assert parent.is_open and parent.filled_quantity == 0
    assert len(run.decisions()) == 1
    assert run.engine.resume_algo(coid, "go")
    run.dispatch()
    run.requote(10)
    assert parent.status is OrderStatus.FILLED
    second = RoutingDecision.from_json(run.decisions()[1].decision)
    assert second.split() == {"A": 4, "B": 6}  # no venue failed: nothing excluded
    assert second.reroute is not None and second.reroute.failed_venues == ()


def test_sor_child_denied_by_risk_cancels_the_parent() -> None:
    slow = [VenueSetup("A", D(1), latency_ms=5), VenueSetup("B", D(2))]
    run = Venues(slow)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    run.engine.on_venue_book(
        VenueId("A"),
        run.instrument.id,
        [BookLevel(D("99.97"), D(10))],
        [BookLevel(D("100.01"), D(10))],
    )
    parent = run.submit_sor(BUY, D(10), SorSpec())
    run.engine.set_trading_state(TradingState.HALTED, "test halt")
    run.requote(6)  # A fills 4; the re-routed child to B is denied: trading is halted
    children = run.children(parent)
    assert [c.status for c in children] == [OrderStatus.CANCELLED, OrderStatus.DENIED]
    assert parent.status is OrderStatus.CANCELLED
    assert parent.filled_quantity == 4


def test_sor_share_below_min_notional_is_not_sent_and_dust_left_cancels() -> None:
    run = Venues(TWO, limits=RiskLimits(), symbol=InstrumentId("BTCUSD"))
    assert run.instrument.min_notional == 1
    run.quote("A", Quote(D("6999"), D("7000"), D(1), D("0.00001")))
    run.quote("B", Quote(D("6999"), D("7001"), D(1), D(1)))
    parent = run.submit_sor(BUY, D("0.5"), SorSpec())
    first = RoutingDecision.from_json(run.decisions()[0].decision)
    assert first.split() == {"A": D("0.00001"), "B": D("0.49999")}
    # A's share is worth 0.07 USD: not sent. What is left after B is as small: cancelled.
    assert [(c.venue, c.filled_quantity) for c in run.children(parent)] == [("B", D("0.49999"))]
    assert parent.status is OrderStatus.CANCELLED
    assert len(run.decisions()) == 1
    reasons = [
        e.reason
        for e in run.events
        if type(e) is OrderCancelled and e.client_order_id == parent.client_order_id
    ]
    assert reasons == ["0.00001000 left is below the instrument minimum: nothing to route"]


def test_sor_limit_guard_leaves_out_levels_beyond_it() -> None:
    run = Venues(TWO)
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(3)))
    run.quote("B", Quote(D("99.98"), D("100.05"), D(10), D(20)))
    parent = run.submit_sor(BUY, D(8), SorSpec(max_attempts=1), price=D("100.03"))
    first = RoutingDecision.from_json(run.decisions()[0].decision)
    assert first.split() == {"A": 3}
    assert all(c.price is not None and c.price <= D("100.03") for c in run.children(parent))
    assert parent.filled_quantity == 3


def test_sor_waits_for_books_then_routes_on_the_first_quote() -> None:
    run = Venues(TWO)
    parent = run.submit_sor(SELL, D(5), SorSpec())
    assert run.decisions() == [] and parent.is_open
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    assert parent.status is OrderStatus.FILLED
    assert [(c.venue, c.filled_quantity) for c in run.children(parent)] == [("B", D(5))]
