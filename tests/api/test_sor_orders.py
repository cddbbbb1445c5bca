"""Smart order routing over HTTP, across three simulated venues of one service.

``SIM`` quotes the replayed feed with no fee; ``SIM-B`` quotes the same prices with a
1 bps rebate but shows at most 0.004; ``SIM-C`` quotes 1.00 wider on each side. The
cheapest way to buy 0.01 is therefore 0.004 on ``SIM-B`` and the rest on ``SIM``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from alphintra.app.simulated_venues import SimulatedVenueSettings
from api.live import SYMBOL, Deployment, LiveService, get_ok, post_ok, wait_for

VENUES = [
    SimulatedVenueSettings(
        venue_id="SIM-B", taker_fee_bps=Decimal(-1), max_quantity=Decimal("0.004")
    ),
    SimulatedVenueSettings(venue_id="SIM-C", latency_ms=5, quote_half_spread=Decimal("1.00")),
]


@pytest.fixture
def routed(deployment: Deployment) -> LiveService:
    """Return the service running with the two extra simulated venues."""
    deployment.settings = deployment.settings.model_copy(update={"simulated_venues": VENUES})
    return deployment.start()


def _wait_closed(client: httpx.Client, order_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        order: dict[str, Any] = get_ok(client, f"/orders/{order_id}")
        return order if order["status"] in ("FILLED", "CANCELLED") else None

    return wait_for(probe, f"order {order_id} to close")


def _sor(quantity: str, **params: object) -> dict[str, object]:
    return {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "MARKET",
        "quantity": quantity,
        "algo": {"type": "SOR", **params},
    }


def test_sor_order_over_http_splits_by_cost_and_shows_its_routing(
    routed: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with routed.client(alice) as client:
        parent = post_ok(client, "/orders", _sor("0.01", maxAttempts=100))
        assert parent["algo"] == "SOR"
        done = _wait_closed(client, parent["orderId"])
        assert done["status"] == "FILLED", done
        first = done["routing"][0]
        # The audit record carries every input: each venue's book and terms.
        inputs = {v["venue"]: v for v in first["record"]["request"]["venues"]}
        assert set(inputs) == {"SIM", "SIM-B", "SIM-C"}
        assert inputs["SIM-B"]["taker_fee_bps"] == "-1"
        assert inputs["SIM-C"]["latency_ms"] == "5"
        # Cheapest first: SIM-B (same ask as SIM, with a rebate), then SIM, then SIM-C
        # (1.00 dearer), each up to what its book shows (the feed's sizes vary).
        shown = {name: Decimal(v["asks"][0]["size"]) for name, v in inputs.items()}
        left, expected = Decimal("0.01"), {}
        for name in ("SIM-B", "SIM", "SIM-C"):
            expected[name] = min(left, shown[name])
            left -= expected[name]
        routed_venues = {a["venue"]: Decimal(a["quantity"]) for a in first["allocations"]}
        assert routed_venues == expected
        assert expected["SIM-B"] <= Decimal("0.004")
        children = done["children"]
        decided = {a["venue"] for r in done["routing"] for a in r["allocations"]}
        assert children and all(c["venue"] in decided for c in children)
        # Children are IOC at the quote they were routed on: one the market moved away
        # from before it reached its venue is re-routed, so fills may come later.
        assert sum(Decimal(c["filledQuantity"]) for c in children) == Decimal("0.01")
        assert Decimal(done["filledQuantity"]) == Decimal("0.01")
        assert [r["attempt"] for r in done["routing"]] == list(range(1, len(done["routing"]) + 1))


def test_sor_order_naming_an_unknown_venue_is_422_naming_it(
    routed: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with routed.client(alice) as client:
        response = client.post("/api/v1/orders", json=_sor("0.01", venues=["NOPE"]))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "UNKNOWN_VENUE"
        assert "NOPE" in response.json()["detail"]
        bad = client.post("/api/v1/orders", json=_sor("0.01", maxAttempts=0))
        assert bad.status_code == 422, bad.text
        assert "maxAttempts" in bad.text
