"""API views of smart order routing decisions."""

from __future__ import annotations

import json

from alphintra.api.schemas import RoutedVenueView, RoutingView
from alphintra.execution.routing import RoutingDecision


def _text(value: object) -> str | None:
    return None if value is None else format(value, "f")


def routing_view(decision: RoutingDecision) -> RoutingView:
    """Return the API view of one routing decision, its full record included."""
    context = decision.reroute
    return RoutingView(
        attempt=context.attempt if context is not None else 1,
        method=decision.method,
        referenceMid=format(decision.reference_mid, "f"),
        routedQuantity=format(decision.routed_quantity, "f"),
        remainder=format(decision.remainder, "f"),
        expectedCost=format(decision.cost.total, "f"),
        failedVenues=list(context.failed_venues) if context is not None else [],
        allocations=[
            RoutedVenueView(
                venue=a.venue,
                quantity=format(a.quantity, "f"),
                capacity=format(a.capacity, "f"),
                limitPrice=_text(a.limit_price),
                averagePrice=_text(a.average_price),
                expectedCost=format(a.cost.total, "f"),
            )
            for a in decision.allocations
        ],
        explanation=decision.explanation,
        record=json.loads(decision.to_json()),
    )


def routing_views(decisions: list[RoutingDecision]) -> list[RoutingView] | None:
    """Return the views of an order's routing decisions, or None when it has none."""
    return [routing_view(d) for d in decisions] or None
