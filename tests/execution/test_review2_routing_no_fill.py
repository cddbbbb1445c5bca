"""Review: a venue not expected to fill anything gets nothing routed to it.

Under ``FailurePolicy.PENALISE`` a venue that filled nothing of its share keeps its
place with its fill probability scaled to 0. With no re-routing cost (the API's
default) its non-fill term is 0 too, so it stayed the cheapest venue: a venue that
rejected every child was sent the whole order again at every attempt, until
``max_attempts`` cancelled the parent with nothing filled, while another venue showed
the liquidity all along.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import SubmitToVenue
from alphintra.domain.enums import OrderSide, OrderStatus
from alphintra.domain.events import OrderRejected
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.execution.algorithms import SorSpec
from alphintra.execution.routing import (
    BookLevel,
    FailurePolicy,
    RoutingRequest,
    VenueLiquidity,
    reroute,
    route,
)
from engine.sor_venues import Quote, Venues, VenueSetup

XYZ = InstrumentId("XYZ")
D = Decimal


def _venue(name: str, ask: str, probability: str = "1") -> VenueLiquidity:
    return VenueLiquidity(
        venue=VenueId(name),
        bids=(BookLevel(D("99.90"), D(10)),),
        asks=(BookLevel(D(ask), D(10)),),
        taker_fee_bps=D(0),
        lot_size=D(1),
        latency_ms=D(0),
        fill_probability=D(probability),
    )


def test_route_sends_nothing_to_a_venue_with_fill_probability_zero() -> None:
    request = RoutingRequest(
        XYZ, OrderSide.BUY, D(5), (_venue("A", "100.00", "0"), _venue("B", "100.05"))
    )
    decision = route(request)
    assert decision.split() == {"B": D(5)}  # was {"A": 5}: the cheaper book, never filling
    assert "- A: 0 (fill probability 0" in decision.explanation


def test_penalised_venue_that_filled_nothing_is_not_routed_again() -> None:
    request = RoutingRequest(
        XYZ, OrderSide.BUY, D(5), (_venue("A", "100.00"), _venue("B", "100.05"))
    )
    first = route(request)
    assert first.split() == {"A": D(5)}
    again = reroute(first, {VenueId("A"): D(0)}, policy=FailurePolicy.PENALISE)
    assert again.split() == {"B": D(5)}  # was {"A": 5} again


class _ARejects(Venues):
    """Venue A refuses every order it is sent."""

    def dispatch(self) -> None:
        commands = self.engine.flush()
        while commands:
            for command in commands:
                if type(command) is SubmitToVenue and command.venue == "A":
                    ts = self.clock.now_ns()
                    self.engine.on_venue_event(
                        OrderRejected(
                            account_id=self.engine.account_id,
                            client_order_id=command.order.client_order_id,
                            ts_event=ts,
                            ts_recv=ts,
                            reason="venue A is closed",
                        )
                    )
                    continue
                for report in self.venues[command.venue].handle(command):
                    self.engine.on_venue_event(report)
            commands = self.engine.flush()


def test_sor_penalise_routes_around_a_venue_that_rejects_its_child() -> None:
    run = _ARejects([VenueSetup("A", D(0)), VenueSetup("B", D(5))])
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(10)))
    run.quote("B", Quote(D("99.98"), D("100.03"), D(10), D(20)))
    parent = run.submit_sor(OrderSide.BUY, D(10), SorSpec(policy=FailurePolicy.PENALISE))
    children = [(c.venue, c.quantity, c.status) for c in run.children(parent)]
    assert children == [("A", D(10), OrderStatus.REJECTED), ("B", D(10), OrderStatus.FILLED)]
    assert (parent.status, parent.filled_quantity) == (OrderStatus.FILLED, D(10))


def test_sor_penalise_every_venue_rejecting_starts_over_then_gives_up() -> None:
    run = _ARejects([VenueSetup("A", D(0))])
    run.quote("A", Quote(D("99.97"), D("100.01"), D(10), D(10)))
    spec = SorSpec(policy=FailurePolicy.PENALISE, max_attempts=3)
    parent = run.submit_sor(OrderSide.BUY, D(10), spec)
    for _ in range(3):
        run.requote(1)
    assert len(run.decisions()) == 3  # each attempt routes afresh, none waits for ever
    assert parent.status is OrderStatus.CANCELLED
