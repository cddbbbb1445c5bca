"""Review: a venue whose first book arrives after a routing decision joins the re-route.

``reroute`` kept only the venues of the decision before it, so a venue without a book
at the first decision (its feed a moment late) was never considered again: an SOR
parent trickled on the one venue it first saw, attempt after attempt, and stopped
after ``max_attempts`` part filled while the other venue showed all it needed.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.enums import OrderSide, OrderStatus
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.execution.algorithms import SorSpec
from alphintra.execution.routing import (
    BookLevel,
    RoutingDecision,
    RoutingRequest,
    VenueLiquidity,
    reroute,
    route,
)
from engine.sor_venues import Quote, Venues, VenueSetup

D = Decimal


def _venue(name: str, ask: str, size: str) -> VenueLiquidity:
    return VenueLiquidity(
        venue=VenueId(name),
        bids=(BookLevel(D("99.90"), D(10)),),
        asks=(BookLevel(D(ask), D(size)),),
        taker_fee_bps=D(0),
        lot_size=D(1),
        latency_ms=D(0),
        fill_probability=D(1),
    )


def test_reroute_adds_a_joining_venue_the_decision_did_not_have() -> None:
    first = route(
        RoutingRequest(InstrumentId("XYZ"), OrderSide.BUY, D(10), (_venue("A", "100.00", "4"),))
    )
    assert first.split() == {"A": D(4)}
    fresh = [_venue("A", "100.00", "4"), _venue("B", "100.01", "20")]
    assert reroute(first, {VenueId("A"): D(4)}, venues=fresh).split() == {"A": D(4)}
    again = reroute(first, {VenueId("A"): D(4)}, venues=fresh[:1], joining=fresh[1:])
    assert [v.venue for v in again.request.venues] == ["A", "B"]
    assert again.split() == {"A": D(4), "B": D(2)}


def test_sor_routes_the_rest_to_a_venue_quoting_after_the_first_decision() -> None:
    run = Venues([VenueSetup("A", D(1), latency_ms=5), VenueSetup("B", D(1))])
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    parent = run.submit_sor(OrderSide.BUY, D(10), SorSpec())
    run.quote("B", Quote(D("99.98"), D("100.02"), D(10), D(20)))  # B's first quote
    run.requote(6)  # A fills its 4; the re-route sees B
    run.requote(6)
    splits = [RoutingDecision.from_json(e.decision).split() for e in run.decisions()]
    assert splits[1] == {"A": D(4), "B": D(2)}  # was {"A": 4}, then {"A": 2}, then stop
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, D(10))


def test_sor_with_two_attempts_fills_from_the_late_venue_instead_of_stopping_short() -> None:
    run = Venues([VenueSetup("A", D(1), latency_ms=5), VenueSetup("B", D(1))])
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(4)))
    parent = run.submit_sor(OrderSide.BUY, D(10), SorSpec(max_attempts=2))
    run.quote("B", Quote(D("99.98"), D("100.02"), D(10), D(20)))
    for _ in range(3):
        run.requote(6)
    # Was CANCELLED with 8 of 10: two attempts on A alone, B never asked.
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, D(10))
