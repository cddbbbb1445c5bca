"""Tests for smart order routing.

The cost of a split is recomputed here independently, in exact fractions, from the
formulas in the module docstring, and the optimum is found by brute force over every
split on the lot grid; the router is never used to check itself.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.execution.routing import (
    BookLevel,
    CostModel,
    FailurePolicy,
    RoutingDecision,
    RoutingRequest,
    VenueLiquidity,
    evaluate_split,
    reroute,
    route,
)

XYZ = InstrumentId("XYZ")
TOLERANCE = Fraction(1, 10**30)


def _levels(pairs: Sequence[tuple[str, str]]) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(Decimal(price), Decimal(size)) for price, size in pairs)


def _venue(
    name: str,
    asks: Sequence[tuple[str, str]] = (),
    bids: Sequence[tuple[str, str]] = (),
    *,
    fee: str = "0",
    lot: str = "1",
    latency: str = "0",
    probability: str = "1",
    limit: str | None = None,
) -> VenueLiquidity:
    return VenueLiquidity(
        venue=VenueId(name),
        bids=_levels(bids),
        asks=_levels(asks),
        taker_fee_bps=Decimal(fee),
        lot_size=Decimal(lot),
        latency_ms=Decimal(latency),
        fill_probability=Decimal(probability),
        max_quantity=None if limit is None else Decimal(limit),
    )


# --- the independent cost model and brute force ---------------------------------------------


def _mid(request: RoutingRequest) -> Fraction:
    if request.reference_mid is not None:
        return Fraction(request.reference_mid)
    best_bid = max(Fraction(v.bids[0].price) for v in request.venues if v.bids)
    best_ask = min(Fraction(v.asks[0].price) for v in request.venues if v.asks)
    return (best_bid + best_ask) / 2


def _cost(request: RoutingRequest, venue: VenueLiquidity, quantity: Fraction) -> Fraction:
    """Expected cost of ``quantity`` on ``venue``, straight from the documented formulas."""
    if quantity == 0:
        return Fraction(0)
    mid, sign = _mid(request), request.side.sign
    levels = venue.asks if request.side is OrderSide.BUY else venue.bids
    fee_rate = Fraction(venue.taker_fee_bps) / 10_000
    left, book, fees = quantity, Fraction(0), Fraction(0)
    for level in levels:
        take = min(left, Fraction(level.size))
        book += sign * (Fraction(level.price) - mid) * take
        fees += fee_rate * Fraction(level.price) * take
        left -= take
    assert left == 0, "split exceeds the displayed book"
    model = request.cost_model
    depth = sum((Fraction(level.size) for level in levels), Fraction(0))
    impact = Fraction(model.impact_coefficient) * mid * quantity * quantity / depth
    latency = Fraction(model.volatility_per_ms) * Fraction(venue.latency_ms) * mid * quantity
    miss = (1 - Fraction(venue.fill_probability)) * Fraction(model.reroute_cost) * mid * quantity
    return (book + fees + impact + latency + miss) * Fraction(request.multiplier)


def _split_cost(request: RoutingRequest, split: dict[VenueId, Decimal]) -> Fraction:
    by_name = {venue.venue: venue for venue in request.venues}
    return sum(
        (_cost(request, by_name[name], Fraction(q)) for name, q in split.items()), Fraction(0)
    )


def _capacity(request: RoutingRequest, venue: VenueLiquidity) -> Fraction:
    levels = venue.asks if request.side is OrderSide.BUY else venue.bids
    shown = sum((Fraction(level.size) for level in levels), Fraction(0))
    return shown if venue.max_quantity is None else min(shown, Fraction(venue.max_quantity))


def _grids(request: RoutingRequest) -> list[list[Fraction]]:
    grids = []
    for venue in request.venues:
        lot, cap = Fraction(venue.lot_size), _capacity(request, venue)
        grids.append([lot * n for n in range(int(cap / lot) + 1)])
    return grids


def _brute_force(request: RoutingRequest) -> tuple[Fraction, Fraction]:
    """Return (most quantity any split can route, least cost of routing that much)."""
    wanted = Fraction(request.quantity)
    grids = _grids(request)
    costs = [
        {q: _cost(request, venue, q) for q in grid}
        for venue, grid in zip(request.venues, grids, strict=True)
    ]
    best: tuple[Fraction, Fraction] | None = None
    for split in itertools.product(*grids):
        total = sum(split, Fraction(0))
        if total > wanted:
            continue
        cost = sum((table[q] for table, q in zip(costs, split, strict=True)), Fraction(0))
        if best is None or total > best[0] or (total == best[0] and cost < best[1]):
            best = (total, cost)
    assert best is not None
    return best


def _assert_optimal(request: RoutingRequest, decision: RoutingDecision) -> None:
    routed, least = _brute_force(request)
    assert Fraction(decision.routed_quantity) == routed
    assert decision.remainder == request.quantity - decision.routed_quantity
    assert abs(_split_cost(request, decision.split()) - least) <= TOLERANCE
    assert abs(Fraction(decision.cost.total) - least) <= TOLERANCE


FULL_MODEL = CostModel(
    impact_coefficient=Decimal("0.002"),
    volatility_per_ms=Decimal("0.00001"),
    reroute_cost=Decimal("0.003"),
)


def _three_venues(side: OrderSide, quantity: str, model: CostModel) -> RoutingRequest:
    venues = (
        _venue(
            "TIGHT",
            asks=[("100.01", "3"), ("100.04", "4")],
            bids=[("99.99", "3"), ("99.96", "4")],
            fee="25",
            latency="40",
            probability="0.8",
        ),
        _venue(
            "CHEAP",
            asks=[("100.03", "2"), ("100.05", "6")],
            bids=[("99.97", "2"), ("99.95", "6")],
            fee="2",
            latency="2",
            probability="0.95",
        ),
        _venue(
            "DEEP",
            asks=[("100.04", "5"), ("100.06", "9")],
            bids=[("99.96", "5"), ("99.94", "9")],
            fee="10",
            latency="10",
            probability="1",
            limit="8",
        ),
    )
    return RoutingRequest(XYZ, side, Decimal(quantity), venues, model)


# --- hand-checkable examples ----------------------------------------------------------------


def test_route_two_plain_venues_cheapest_book_first_then_next() -> None:
    request = RoutingRequest(
        XYZ,
        OrderSide.BUY,
        Decimal(5),
        (
            _venue("A", asks=[("100.01", "3")], bids=[("99.99", "3")]),
            _venue("B", asks=[("100.02", "10")], bids=[("99.98", "10")]),
        ),
    )

    decision = route(request)

    assert decision.split() == {"A": Decimal(3), "B": Decimal(2)}
    a, b = decision.allocations
    assert (a.limit_price, b.limit_price) == (Decimal("100.01"), Decimal("100.02"))
    # book cost vs mid 100.00: 3 × 0.01 + 2 × 0.02
    assert decision.cost.total == Decimal("0.07")
    assert decision.remainder == 0
    assert decision.exact


@pytest.mark.parametrize("side", [OrderSide.BUY, OrderSide.SELL])
@pytest.mark.parametrize("quantity", ["1", "6", "11", "17"])
def test_route_three_venues_full_model_matches_brute_force(side: OrderSide, quantity: str) -> None:
    request = _three_venues(side, quantity, FULL_MODEL)

    _assert_optimal(request, route(request))


@pytest.mark.parametrize("quantity", ["4", "9", "13"])
def test_route_three_venues_book_and_fees_only_matches_brute_force(quantity: str) -> None:
    request = _three_venues(OrderSide.BUY, quantity, CostModel())

    _assert_optimal(request, route(request))


def test_route_four_venues_with_impact_matches_brute_force() -> None:
    venues = (
        _venue("A", asks=[("50.00", "4"), ("50.02", "4")], bids=[("49.98", "1")], fee="5"),
        _venue("B", asks=[("50.01", "6")], bids=[("49.99", "2")], fee="1", latency="5"),
        _venue("C", asks=[("50.00", "2"), ("50.03", "8")], fee="8", probability="0.6"),
        _venue("D", asks=[("50.02", "10")], fee="0", latency="100", limit="5"),
    )
    model = CostModel(Decimal("0.01"), Decimal("0.000002"), Decimal("0.004"))
    for quantity in ("3", "10", "19"):
        request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(quantity), venues, model)
        _assert_optimal(request, route(request))


def test_route_mixed_lot_sizes_matches_brute_force_on_each_grid() -> None:
    venues = (
        _venue("TWOS", asks=[("10.00", "6"), ("10.04", "6")], bids=[("9.99", "5")], lot="2"),
        _venue("THREES", asks=[("10.01", "9")], bids=[("9.98", "5")], lot="3", fee="3"),
        _venue("HALVES", asks=[("10.02", "2.5")], lot="0.5", fee="1"),
    )
    model = CostModel(impact_coefficient=Decimal("0.003"))
    for quantity in ("5", "7.5", "11", "16.5"):
        request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(quantity), venues, model)
        decision = route(request)

        _assert_optimal(request, decision)
        assert "dynamic programme" in decision.method
        for allocation, venue in zip(decision.allocations, venues, strict=True):
            assert allocation.quantity % venue.lot_size == 0


def test_route_quantities_always_on_each_venue_lot_grid() -> None:
    venues = (
        _venue("A", asks=[("1.0001", "2.37")], bids=[("0.9999", "1")], lot="0.01"),
        _venue("B", asks=[("1.0002", "5")], bids=[("0.9998", "1")], lot="0.01"),
    )
    request = RoutingRequest(XYZ, OrderSide.BUY, Decimal("4.005"), venues)

    decision = route(request)

    assert decision.split() == {"A": Decimal("2.37"), "B": Decimal("1.63")}
    assert decision.remainder == Decimal("0.005")  # below one lot


def test_route_respects_per_venue_size_limits() -> None:
    venues = (
        _venue("BEST", asks=[("100.00", "50")], bids=[("99.98", "5")], limit="4"),
        _venue("NEXT", asks=[("100.01", "50")], bids=[("99.97", "5")], limit="3"),
        _venue("LAST", asks=[("100.05", "50")], bids=[("99.90", "5")]),
    )
    request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(10), venues)

    decision = route(request)

    assert decision.split() == {"BEST": Decimal(4), "NEXT": Decimal(3), "LAST": Decimal(3)}
    assert [a.capacity for a in decision.allocations] == [Decimal(4), Decimal(3), Decimal(50)]


def test_route_not_enough_liquidity_routes_all_and_reports_remainder() -> None:
    venues = (
        _venue("A", asks=[("100.00", "2"), ("100.10", "1")], bids=[("99.90", "1")]),
        _venue("B", asks=[("100.05", "5")], bids=[("99.95", "1")], limit="4"),
    )
    request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(10), venues)

    decision = route(request)

    assert decision.split() == {"A": Decimal(3), "B": Decimal(4)}
    assert decision.routed_quantity == Decimal(7)
    assert decision.remainder == Decimal(3)
    assert "remainder 3" in decision.explanation


def test_route_no_liquidity_anywhere_everything_is_remainder() -> None:
    venues = (_venue("A", bids=[("99", "1")]), _venue("B", bids=[("98", "1")]))
    request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(3), venues, reference_mid=Decimal("99.5"))

    decision = route(request)

    assert decision.split() == {}
    assert decision.remainder == Decimal(3)
    assert decision.cutoff_unit_cost is None


def test_route_identical_venues_with_impact_split_evenly_on_a_fine_grid() -> None:
    asks, bids = [("100.00", "1000")], [("99.99", "1000")]
    venues = (_venue("A", asks, bids, lot="0.00001"), _venue("B", asks, bids, lot="0.00001"))
    model = CostModel(impact_coefficient=Decimal("0.001"))
    request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(10), venues, model)
    started = time.perf_counter()

    decision = route(request)

    assert time.perf_counter() - started < 5  # one million lots: no lot-by-lot walk
    assert decision.split() == {"A": Decimal(5), "B": Decimal(5)}


def test_route_venue_not_taken_explains_its_first_lot_cost() -> None:
    venues = (
        _venue("A", asks=[("100.00", "10")], bids=[("99.98", "1")]),
        _venue("B", asks=[("100.50", "10")], bids=[("99.97", "1")]),
    )
    decision = route(RoutingRequest(XYZ, OrderSide.BUY, Decimal(5), venues))

    lines = decision.explanation.splitlines()
    assert any(line.startswith("- B: 0 (its first lot would cost 0.51 per unit") for line in lines)
    assert any(line.startswith("- A: 5 of capacity 10") for line in lines)


def test_route_without_any_two_sided_quote_raises_naming_the_instrument() -> None:
    venues = (_venue("A", asks=[("100", "1")]),)

    with pytest.raises(ValueError, match="XYZ needs a reference mid"):
        route(RoutingRequest(XYZ, OrderSide.BUY, Decimal(1), venues))


def test_venue_liquidity_unsorted_asks_raises_with_both_prices() -> None:
    with pytest.raises(ValueError, match=r"asks must be strictly rising .* 100.02 then 100.01"):
        _venue("A", asks=[("100.02", "1"), ("100.01", "1")])


def test_venue_liquidity_fee_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match="taker_fee_bps must be within"):
        _venue("A", asks=[("1", "1")], fee="10000")


def test_evaluate_split_beyond_displayed_size_raises() -> None:
    request = RoutingRequest(
        XYZ, OrderSide.BUY, Decimal(5), (_venue("A", asks=[("1", "2")], bids=[("0.9", "1")]),)
    )

    with pytest.raises(ValueError, match="shows 2, cannot take 3"):
        evaluate_split(request, {VenueId("A"): Decimal(3)})


# --- audit record ---------------------------------------------------------------------------


def test_decision_json_round_trip_is_exact() -> None:
    request = _three_venues(OrderSide.SELL, "11", FULL_MODEL)
    decision = route(request)

    text = decision.to_json()
    restored = RoutingDecision.from_json(text)

    assert restored == decision
    plain = json.loads(text)
    assert plain["request"]["venues"][0]["asks"][0] == {"price": "100.01", "size": "3"}
    assert plain["request"]["cost_model"]["impact_coefficient"] == "0.002"
    assert plain["request"]["side"] == "SELL"
    assert isinstance(plain["cost"]["total"], str)


def test_decision_json_round_trip_after_reroute_keeps_context() -> None:
    decision = route(_three_venues(OrderSide.BUY, "12", FULL_MODEL))
    first = next(a.venue for a in decision.allocations if a.quantity > 0)

    again = reroute(decision, {first: Decimal(1)}, policy=FailurePolicy.PENALISE)

    assert RoutingDecision.from_json(again.to_json()) == again
    assert again.reroute is not None
    assert again.reroute.attempt == 2


# --- re-routing -----------------------------------------------------------------------------


def _two_venue_decision() -> RoutingDecision:
    venues = (
        _venue("A", asks=[("100.00", "3"), ("100.02", "5")], bids=[("99.99", "5")]),
        _venue("B", asks=[("100.01", "4"), ("100.03", "5")], bids=[("99.98", "5")], limit="6"),
        _venue("C", asks=[("100.04", "20")], bids=[("99.90", "5")]),
    )
    decision = route(RoutingRequest(XYZ, OrderSide.BUY, Decimal(9), venues))
    assert decision.split() == {"A": Decimal(5), "B": Decimal(4)}
    return decision


def test_reroute_exclude_drops_failed_venue_and_routes_remainder_elsewhere() -> None:
    decision = _two_venue_decision()

    again = reroute(decision, {VenueId("A"): Decimal(5), VenueId("B"): Decimal(1)})

    assert again.request.quantity == Decimal(3)
    assert [v.venue for v in again.request.venues] == ["A", "C"]
    # A's first 5 are gone: 3 remain at 100.02, cheaper than C at 100.04
    assert again.split() == {"A": Decimal(3)}
    assert again.reroute is not None
    assert again.reroute.failed_venues == ("B",)
    assert again.reference_mid == decision.reference_mid
    assert "Attempt 2" in again.explanation


def test_reroute_penalise_keeps_failed_venue_with_scaled_probability() -> None:
    decision = _two_venue_decision()

    again = reroute(
        decision,
        {VenueId("A"): Decimal(5), VenueId("B"): Decimal(1)},
        policy=FailurePolicy.PENALISE,
    )

    b = next(v for v in again.request.venues if v.venue == "B")
    assert b.fill_probability == Decimal("0.25")  # filled 1 of 4
    assert b.max_quantity == Decimal(5)  # limit 6 less the 1 filled
    assert b.asks == _levels([("100.01", "3"), ("100.03", "5")])


def test_reroute_with_fresh_books_uses_them_and_a_fresh_mid() -> None:
    decision = _two_venue_decision()
    fresh = [_venue("C", asks=[("101.00", "20")], bids=[("100.90", "5")])]

    again = reroute(decision, {VenueId("A"): Decimal(5)}, venues=fresh)

    assert again.split() == {"C": Decimal(4)}
    assert again.reference_mid == Decimal("100.95")


def test_reroute_fill_above_sent_quantity_raises() -> None:
    decision = _two_venue_decision()

    with pytest.raises(ValueError, match=r"venue B filled 5, outside 0\.\.4"):
        reroute(decision, {VenueId("B"): Decimal(5)})


def test_reroute_everything_filled_raises() -> None:
    decision = _two_venue_decision()

    with pytest.raises(ValueError, match="nothing left to route"):
        reroute(decision, {VenueId("A"): Decimal(5), VenueId("B"): Decimal(4)})


# --- properties -------------------------------------------------------------------------------

_TICK = Decimal("0.01")


@st.composite
def _venue_strategy(draw: st.DrawFn, name: str) -> VenueLiquidity:
    count = draw(st.integers(1, 3))
    best_ask = 10_000 + draw(st.integers(0, 8))
    gaps = draw(st.lists(st.integers(1, 5), min_size=count, max_size=count))
    sizes = draw(st.lists(st.integers(1, 5), min_size=count, max_size=count))
    prices = list(itertools.accumulate([best_ask, *gaps[1:]]))
    asks = tuple(
        BookLevel(Decimal(p) * _TICK, Decimal(s)) for p, s in zip(prices, sizes, strict=True)
    )
    bid_price = best_ask - draw(st.integers(1, 8))
    bids = (BookLevel(Decimal(bid_price) * _TICK, Decimal(1)),)
    limit = draw(st.none() | st.integers(0, 12).map(Decimal))
    return VenueLiquidity(
        venue=VenueId(name),
        bids=bids,
        asks=asks,
        taker_fee_bps=Decimal(draw(st.integers(0, 30))),
        lot_size=Decimal(1),
        latency_ms=Decimal(draw(st.integers(0, 50))),
        fill_probability=Decimal(draw(st.integers(50, 100))) / 100,
        max_quantity=limit,
    )


@st.composite
def _requests(draw: st.DrawFn, model: CostModel) -> RoutingRequest:
    names = ["V1", "V2", "V3", "V4"][: draw(st.integers(2, 4))]
    venues = tuple(draw(_venue_strategy(name)) for name in names)
    side = draw(st.sampled_from(OrderSide))
    if side is OrderSide.SELL:  # mirror the asks into bids around 100 to sell into them
        venues = tuple(
            VenueLiquidity(
                venue=v.venue,
                bids=tuple(BookLevel(200 - level.price, level.size) for level in v.asks),
                asks=tuple(BookLevel(200 - level.price, level.size) for level in v.bids),
                taker_fee_bps=v.taker_fee_bps,
                lot_size=v.lot_size,
                latency_ms=v.latency_ms,
                fill_probability=v.fill_probability,
                max_quantity=v.max_quantity,
            )
            for v in venues
        )
    quantity = Decimal(draw(st.integers(1, 16)))
    return RoutingRequest(XYZ, side, quantity, venues, model)


@settings(max_examples=60, deadline=None)
@given(_requests(FULL_MODEL))
def test_route_random_books_full_model_matches_brute_force(request: RoutingRequest) -> None:
    _assert_optimal(request, route(request))


def _walked(request: RoutingRequest, venue: VenueLiquidity, quantity: Fraction) -> Fraction:
    """Money actually paid (buy) or forgone (sell) vs the mid: book walk plus fees."""
    plain = RoutingRequest(XYZ, request.side, request.quantity, request.venues, CostModel())
    return _cost(plain, venue, quantity)


@settings(max_examples=200, deadline=None)
@given(_requests(CostModel()))
def test_route_random_books_never_worse_than_best_priced_venue_alone(
    request: RoutingRequest,
) -> None:
    side = request.side
    tops = [
        (v.asks[0].price if side is OrderSide.BUY else -v.bids[0].price, index)
        for index, v in enumerate(request.venues)
    ]
    best = request.venues[min(tops)[1]]
    quantity = Fraction(request.quantity)
    assume(_capacity(request, best) >= quantity)

    decision = route(request)

    assert decision.remainder == 0
    by_name = {v.venue: v for v in request.venues}
    realised = sum(
        (_walked(request, by_name[n], Fraction(q)) for n, q in decision.split().items()),
        Fraction(0),
    )
    assert realised <= _walked(request, best, quantity)


@settings(max_examples=200, deadline=None)
@given(_requests(FULL_MODEL))
def test_route_random_books_expected_cost_never_worse_than_any_single_venue(
    request: RoutingRequest,
) -> None:
    decision = route(request)

    quantity = Fraction(request.quantity)
    for venue in request.venues:
        if _capacity(request, venue) >= quantity:
            assert decision.remainder == 0
            alone = _cost(request, venue, quantity)
            assert _split_cost(request, decision.split()) <= alone + TOLERANCE
        capacity = _capacity(request, venue)
        allocation = next(a for a in decision.allocations if a.venue == venue.venue)
        assert allocation.quantity <= capacity
        assert allocation.quantity % venue.lot_size == 0


@st.composite
def _mixed_lot_requests(draw: st.DrawFn) -> RoutingRequest:
    request = draw(_requests(FULL_MODEL))
    venues = tuple(
        VenueLiquidity(
            venue=v.venue,
            bids=v.bids,
            asks=v.asks,
            taker_fee_bps=v.taker_fee_bps,
            lot_size=Decimal(draw(st.sampled_from([1, 2, 3]))),
            latency_ms=v.latency_ms,
            fill_probability=v.fill_probability,
            max_quantity=v.max_quantity,
        )
        for v in request.venues
    )
    return RoutingRequest(XYZ, request.side, request.quantity, venues, FULL_MODEL)


@settings(max_examples=60, deadline=None)
@given(_mixed_lot_requests())
def test_route_random_mixed_lot_sizes_matches_brute_force(request: RoutingRequest) -> None:
    decision = route(request)

    _assert_optimal(request, decision)
    for allocation, venue in zip(decision.allocations, request.venues, strict=True):
        assert allocation.quantity % venue.lot_size == 0


def test_route_mixed_lots_too_many_steps_falls_back_to_flagged_heuristic() -> None:
    venues = (
        _venue("A", asks=[("100.00", "3")], bids=[("99.99", "1")], lot="0.001"),
        _venue("B", asks=[("100.01", "10")], bids=[("99.98", "1")], lot="0.002"),
    )
    request = RoutingRequest(XYZ, OrderSide.BUY, Decimal(5), venues)

    decision = route(request)

    assert not decision.exact
    assert "heuristic" in decision.method
    assert decision.split() == {"A": Decimal(3), "B": Decimal(2)}
