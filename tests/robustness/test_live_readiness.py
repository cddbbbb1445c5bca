"""Readiness on a live venue: not ready until the startup reconciliation has succeeded.

The venue's port is bound but not answering when the service starts: the service is
alive (``/healthz``) but not ready (``/readyz`` 503, ``venue`` false), and orders are
refused with the reason rather than queued blind. Once the venue answers, the service
connects, reconciles and becomes ready, and orders go through.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from robustness.live_venue import ACCOUNT, SYMBOL, FakeVenue, client, deploy, running, wait_for

pytestmark = pytest.mark.slow


def test_service_is_not_ready_until_the_venue_is_reconciled(tmp_path: Path) -> None:
    fake = FakeVenue(serve=False)
    try:
        deployment = deploy(tmp_path, {"BINANCE": fake})
        with (
            running(deployment, 1, ready=False) as service,
            client(service, deployment.key) as http,
        ):
            readiness = http.get("/readyz")
            assert readiness.status_code == 503, readiness.text
            assert readiness.json()["checks"]["venue"] is False
            body = {
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "LIMIT",
                "price": "29000.00",
                "quantity": "0.001",
                "accountId": ACCOUNT,
            }
            refused = http.post("/api/v1/orders", json=body)
            assert refused.status_code == 409, refused.text
            assert refused.json()["code"] == "VENUE_UNAVAILABLE"
            assert "BINANCE is not connected" in refused.json()["detail"]

            fake.set_quote("30000.00", "30000.10")
            fake.serve()
            wait_for(lambda: http.get("/readyz").status_code == 200, "readiness", service=service)
            placed = http.post("/api/v1/orders", json=body)
            assert placed.status_code == 200, placed.text
            order_id = placed.json()["orderId"]

            def accepted() -> bool:
                response: httpx.Response = http.get(f"/api/v1/orders/{order_id}")
                return bool(response.json()["status"] == "ACCEPTED")

            wait_for(accepted, "the order to rest at the venue", service=service)
            assert [o["client_id"] for o in fake.orders()] == [order_id]
    finally:
        fake.close()
