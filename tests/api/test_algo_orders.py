"""Execution algorithms over HTTP: a TWAP parent works children; pause and resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from api.live import SYMBOL, Deployment, LiveService, get_ok, post_ok, wait_order


def _twap(quantity: str, seconds: float, slices: int) -> dict[str, object]:
    """Return a market TWAP order body ending ``seconds`` from now."""
    end = datetime.now(UTC) + timedelta(seconds=seconds)
    return {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "MARKET",
        "quantity": quantity,
        "algo": {
            "type": "TWAP",
            "endTime": end.isoformat().replace("+00:00", "Z"),
            "slices": slices,
        },
    }


def test_twap_order_over_http_fills_through_children_and_reports_them(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with live.client(alice) as client:
        parent = post_ok(client, "/orders", _twap("0.04", 2, 4))
        assert parent["algo"] == "TWAP"
        done = wait_order(client, parent["orderId"], "FILLED")
        children = done["children"]
        assert children, "a TWAP parent reports its children"
        # A child still working at its bucket's end is cancelled and its rest rolls on.
        assert all(c["status"] in ("FILLED", "CANCELLED") for c in children)
        assert sum(Decimal(c["filledQuantity"]) for c in children) == Decimal("0.04")
        assert Decimal(done["filledQuantity"]) == Decimal("0.04")
        assert max(Decimal(c["quantity"]) for c in children) < Decimal("0.04")


def test_algo_pause_and_resume_over_http_change_state_and_bad_specs_are_422(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with live.client(alice) as client:
        parent = post_ok(client, "/orders", _twap("0.05", 600, 5))
        order_id = parent["orderId"]
        paused = client.post(f"/api/v1/orders/{order_id}/pause")
        assert paused.status_code == 200, paused.text
        again = client.post(f"/api/v1/orders/{order_id}/pause")
        assert again.status_code == 409
        assert again.json()["code"] == "ALGO_STATE"
        resumed = client.post(f"/api/v1/orders/{order_id}/resume")
        assert resumed.status_code == 200, resumed.text
        missing = client.post(
            "/api/v1/orders",
            json={
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.01",
                "algo": {"type": "TWAP", "slices": 2},
            },
        )
        assert missing.status_code == 422
        assert missing.json()["code"] == "MISSING_END_TIME"
        plain = get_ok(client, f"/orders/{order_id}")
        assert plain["algo"] == "TWAP"


def test_signal_naming_twap_in_metadata_execution_is_worked_by_the_algo(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    end = datetime.now(UTC) + timedelta(seconds=2)
    with live.client(alice) as client:
        result = post_ok(
            client,
            "/signals",
            {
                "signalId": "algo-signal-1",
                "modelId": "m",
                "symbol": SYMBOL,
                "action": "BUY",
                "confidence": 0.7,
                "quantity": "0.03",
                "metadata": {
                    "execution": {
                        "type": "TWAP",
                        "endTime": end.isoformat().replace("+00:00", "Z"),
                        "slices": 3,
                    }
                },
            },
        )
        # The parent first, then its children as the algo sends them (all carry the signal).
        parent = wait_order(client, result["orderIds"][0], "FILLED")
        assert parent["algo"] == "TWAP"
        assert parent["signalId"] == "algo-signal-1"
        assert sum(Decimal(c["filledQuantity"]) for c in parent["children"]) == Decimal("0.03")
        bad = client.post(
            "/api/v1/signals",
            json={
                "signalId": "algo-signal-2",
                "modelId": "m",
                "symbol": SYMBOL,
                "action": "BUY",
                "confidence": 0.7,
                "quantity": "0.01",
                "metadata": {"execution": {"type": "TWAP", "slices": "many"}},
            },
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "INVALID_EXECUTION"
