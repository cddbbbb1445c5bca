"""Tenants cannot see or touch each other: another tenant's IDs answer 404, like missing ones."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from api.live import (
    API,
    Deployment,
    LiveService,
    get_ok,
    limit_order_body,
    orders_of,
    post_ok,
    signal_body,
    wait_order,
)


def _alice_activity(client: httpx.Client) -> tuple[str, str]:
    """Give Alice a filled signal and a resting order; return (filled id, resting id)."""
    result = post_ok(client, "/signals", signal_body("alice-private-signal"))
    (filled,) = result["orderIds"]
    wait_order(client, filled, "FILLED")
    resting = post_ok(client, "/orders", limit_order_body("alice-private-order"))["orderId"]
    wait_order(client, resting, "ACCEPTED")
    return filled, resting


def _holdings(client: httpx.Client) -> list[tuple[str, str, str]]:
    """Return (symbol, quantity, average price) of each position: what marks do not move."""
    return [(p["symbol"], p["quantity"], p["averagePrice"]) for p in get_ok(client, "/positions")]


def _assert_not_found(response: httpx.Response, code: str) -> None:
    assert response.status_code == 404, f"{response.request.url} -> {response.text}"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_tenant_foreign_ids_every_endpoint_404_same_as_missing(
    live: LiveService, deployment: Deployment
) -> None:
    alice, bob = deployment.users["alice"], deployment.users["bob"]
    with live.client(alice) as a, live.client(bob) as b:
        filled, resting = _alice_activity(a)
        alice_before = {
            "orders": orders_of(a),
            "positions": _holdings(a),
            "cash": get_ok(a, "/portfolio")["cashBalance"],
        }
        post_ok(b, "/signals", signal_body("bob-own-signal"))

        for order_id in (filled, resting, "no-such-order"):
            _assert_not_found(b.get(f"{API}/orders/{order_id}"), "ORDER_NOT_FOUND")
            _assert_not_found(b.delete(f"{API}/orders/{order_id}"), "ORDER_NOT_FOUND")
            _assert_not_found(
                b.patch(f"{API}/orders/{order_id}", json={"price": "5001.00"}), "ORDER_NOT_FOUND"
            )
        for signal_id in ("alice-private-signal", "no-such-signal"):
            _assert_not_found(b.get(f"{API}/signals/{signal_id}"), "SIGNAL_NOT_FOUND")

        for account in ("ALICE-1", "NO-SUCH-ACCOUNT"):
            for path in (
                "/orders",
                "/trades",
                "/positions",
                "/portfolio",
                "/portfolio/history",
                "/risk/limits",
            ):
                _assert_not_found(
                    b.get(f"{API}{path}", params={"accountId": account}), "ACCOUNT_NOT_FOUND"
                )
            _assert_not_found(
                b.post(f"{API}/signals", json=signal_body("bob-into-alice", accountId=account)),
                "ACCOUNT_NOT_FOUND",
            )
            _assert_not_found(
                b.post(f"{API}/orders", json=limit_order_body(accountId=account)),
                "ACCOUNT_NOT_FOUND",
            )
            _assert_not_found(
                b.post(
                    f"{API}/signals/batch",
                    json={"signals": [signal_body("bob-batch-into-alice", accountId=account)]},
                ),
                "ACCOUNT_NOT_FOUND",
            )

        assert orders_of(a) == alice_before["orders"]
        assert _holdings(a) == alice_before["positions"]
        assert get_ok(a, "/portfolio")["cashBalance"] == alice_before["cash"]
        assert wait_order(a, resting, "ACCEPTED")["price"] == "5000.00"


def test_tenant_lists_of_other_tenant_never_contain_foreign_data(
    live: LiveService, deployment: Deployment
) -> None:
    alice, bob = deployment.users["alice"], deployment.users["bob"]
    with live.client(alice) as a, live.client(bob) as b:
        filled, resting = _alice_activity(a)
        bob_order = post_ok(b, "/signals", signal_body("bob-own-signal"))["orderIds"][0]
        wait_order(b, bob_order, "FILLED")

        bob_views: dict[str, Any] = {
            "orders": get_ok(b, "/orders", limit="1000"),
            "filled": get_ok(b, "/orders", status="FILLED"),
            "working": get_ok(b, "/orders", status="NEW"),
            "trades": get_ok(b, "/trades", limit="1000"),
            "positions": get_ok(b, "/positions"),
            "portfolio": get_ok(b, "/portfolio"),
            "accounts": get_ok(b, "/accounts"),
            "limits": get_ok(b, "/risk/limits"),
        }
        text = json.dumps(bob_views)
        for foreign in ("ALICE-1", "alice", filled, resting, "alice-private-signal"):
            assert foreign not in text
        assert [o["orderId"] for o in bob_views["orders"]["items"]] == [bob_order]
        assert bob_views["orders"]["total"] == 1
        assert bob_views["working"]["total"] == 0
        assert [t["orderId"] for t in bob_views["trades"]["items"]] == [bob_order]
        assert [p["accountId"] for p in bob_views["positions"]] == ["BOB-1"]
        assert [acc["accountId"] for acc in bob_views["accounts"]] == ["BOB-1"]
        assert bob_views["portfolio"]["accountId"] == "BOB-1"

        # And the other way round: Alice sees her own two orders only.
        assert sorted(o["orderId"] for o in orders_of(a)) == sorted([filled, resting])
        (position,) = get_ok(a, "/positions")
        assert Decimal(position["quantity"]) == Decimal("0.01")


def test_tenant_risk_officer_other_account_risk_endpoints_404(
    live: LiveService, deployment: Deployment
) -> None:
    rita = deployment.users["rita"]
    with live.client(rita) as r, live.client(deployment.users["alice"]) as a:
        _assert_not_found(
            r.put(
                f"{API}/risk/limits",
                params={"accountId": "ALICE-1"},
                json={"maxOrderQuantity": "1"},
            ),
            "ACCOUNT_NOT_FOUND",
        )
        for path in ("/risk/emergency-stop", "/risk/resume"):
            _assert_not_found(
                r.post(f"{API}{path}", json={"reason": "not mine", "accountId": "ALICE-1"}),
                "ACCOUNT_NOT_FOUND",
            )
        assert get_ok(a, "/portfolio")["tradingState"] == "ACTIVE"
        assert get_ok(a, "/risk/limits")["maxOrderQuantity"] is None
