"""Roles gate what a caller may do; a caller nobody knows gets 401 with a problem body."""

from __future__ import annotations

import time
from typing import Any

import httpx

from alphintra.security import Role, issue_token
from alphintra.store.directory import Directory
from api.live import (
    API,
    Deployment,
    LiveService,
    User,
    get_ok,
    limit_order_body,
    post_ok,
    signal_body,
    wait_order,
)

LIMITS = {
    "maxOrderQuantity": "5",
    "maxOrderNotional": "100000",
    "maxPositionQuantity": "10",
    "maxPositionNotional": "500000",
    "enforceMinNotional": True,
    "enforceTradingHours": False,
    "monitors": {
        "maxDrawdown": "0.2",
        "dailyLossLimit": "50000",
        "flattenOnDrawdown": True,
        "timezone": "America/New_York",
        "volatilityWindow": 20,
        "volatilityThreshold": 0.01,
        "jumpThreshold": None,
        "reduceFraction": "0.5",
        "tightenFactor": "0.5",
        "cooldownSeconds": 120,
    },
}
STOP = {"reason": "role check"}


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url} -> {response.text}"
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


def _trading_calls(client: httpx.Client, tag: str) -> list[httpx.Response]:
    return [
        client.post(f"{API}/signals", json=signal_body(f"{tag}-signal")),
        client.post(f"{API}/signals/batch", json={"signals": [signal_body(f"{tag}-batch")]}),
        client.post(f"{API}/orders", json=limit_order_body(f"{tag}-order")),
        client.delete(f"{API}/orders/{tag}-order"),
        client.patch(f"{API}/orders/{tag}-order", json={"price": "5001.00"}),
    ]


def _risk_calls(client: httpx.Client) -> list[httpx.Response]:
    return [
        client.put(f"{API}/risk/limits", json=LIMITS),
        client.post(f"{API}/risk/emergency-stop", json=STOP),
        client.post(f"{API}/risk/resume", json=STOP),
    ]


def _reads_ok(client: httpx.Client) -> None:
    for path in (
        "/orders",
        "/trades",
        "/positions",
        "/portfolio",
        "/portfolio/history",
        "/risk/limits",
        "/accounts",
    ):
        get_ok(client, path)


def test_roles_read_only_trading_and_risk_403_reads_200(
    live: LiveService, deployment: Deployment
) -> None:
    rory = deployment.users["rory"]
    with live.client(rory) as client:
        for response in [*_trading_calls(client, "rory"), *_risk_calls(client)]:
            body = _assert_problem(response, 403, "FORBIDDEN")
            assert "read_only" in body["detail"]
        _reads_ok(client)
        assert get_ok(client, "/orders")["total"] == 0
        assert get_ok(client, "/portfolio")["accountId"] == "READ-1"
        _assert_problem(
            client.post(f"{API}/accounts", json={"accountId": "RORY-2"}), 403, "FORBIDDEN"
        )


def test_roles_risk_officer_limits_and_stop_allowed_trading_403(
    live: LiveService, deployment: Deployment
) -> None:
    rita = deployment.users["rita"]
    with live.client(rita) as client:
        for response in _trading_calls(client, "rita"):
            _assert_problem(response, 403, "FORBIDDEN")

        put = client.put(f"{API}/risk/limits", json=LIMITS)
        assert put.status_code == 200, put.text
        assert {k: v for k, v in put.json().items() if k in LIMITS} == LIMITS
        assert {k: v for k, v in get_ok(client, "/risk/limits").items() if k in LIMITS} == LIMITS
        stopped = post_ok(client, "/risk/emergency-stop", STOP)
        assert stopped == {"accountId": "RISK-1", "tradingState": "HALTED", "cancelledOrders": 0}
        assert get_ok(client, "/portfolio")["tradingState"] == "HALTED"
        resumed = post_ok(client, "/risk/resume", STOP)
        assert resumed == {"accountId": "RISK-1", "tradingState": "ACTIVE", "cancelledOrders": 0}
        assert get_ok(client, "/portfolio")["tradingState"] == "ACTIVE"
        _reads_ok(client)


def test_roles_trader_risk_changes_403_trading_allowed(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with live.client(alice) as client:
        for response in _risk_calls(client):
            _assert_problem(response, 403, "FORBIDDEN")
        _assert_problem(
            client.post(f"{API}/accounts", json={"accountId": "ALICE-2"}), 403, "FORBIDDEN"
        )
        assert get_ok(client, "/risk/limits")["maxOrderQuantity"] is None
        assert get_ok(client, "/portfolio")["tradingState"] == "ACTIVE"
        order = post_ok(client, "/orders", limit_order_body("alice-allowed"))
        assert wait_order(client, order["orderId"], "ACCEPTED")["accountId"] == "ALICE-1"


def _key_id(user: User) -> str:
    return user.key[4:16]


def test_auth_missing_unknown_revoked_or_forged_credentials_401_problem(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    endpoints = [
        ("GET", "/orders"),
        ("GET", "/orders/x"),
        ("DELETE", "/orders/x"),
        ("GET", "/signals/x"),
        ("POST", "/signals"),
        ("POST", "/orders"),
        ("GET", "/positions"),
        ("GET", "/portfolio"),
        ("GET", "/accounts"),
        ("PUT", "/risk/limits"),
        ("POST", "/risk/emergency-stop"),
    ]
    with live.client() as anonymous:
        for method, path in endpoints:
            response = anonymous.request(method, f"{API}{path}", json={})
            _assert_problem(response, 401, "UNAUTHENTICATED")
            assert response.headers["www-authenticate"] == "Bearer"

        forged_key = alice.key[:-4] + ("AAAA" if not alice.key.endswith("AAAA") else "BBBB")
        wrong_secret = issue_token("alice", Role.TRADER, "another-secret-" + "x" * 40)
        for headers, code in (
            ({"X-API-Key": forged_key}, "INVALID_API_KEY"),
            ({"X-API-Key": "alp_short"}, "INVALID_API_KEY"),
            ({"Authorization": "Basic YWxpY2U6cGFzcw=="}, "UNAUTHENTICATED"),
            ({"Authorization": "Bearer not-a-jwt"}, "INVALID_TOKEN"),
            ({"Authorization": f"Bearer {wrong_secret}"}, "INVALID_TOKEN"),
        ):
            response = anonymous.get(f"{API}/orders", headers=headers)
            body = _assert_problem(response, 401, code)
            assert alice.key not in response.text
            assert body["detail"]

        token = issue_token("alice", Role.TRADER, deployment.settings.jwt_secret)
        bearer = {"Authorization": f"Bearer {token}"}
        assert anonymous.get(f"{API}/portfolio", headers=bearer).json()["accountId"] == "ALICE-1"
        as_bearer_key = {"Authorization": f"Bearer {alice.key}"}
        assert anonymous.get(f"{API}/portfolio", headers=as_bearer_key).status_code == 200

        # Revoked through the service's own directory: refused at once, though cached.
        bob = deployment.users["bob"]
        assert anonymous.get(f"{API}/orders", headers=bob.headers).status_code == 200
        assert live.runtime.directory.revoke_key(_key_id(bob))
        _assert_problem(anonymous.get(f"{API}/orders", headers=bob.headers), 401, "INVALID_API_KEY")

        # Revoked by another process on the same database: refused once the cache's TTL
        # (api_key_cache_ttl_s) has passed.
        directory = Directory(deployment.database_url)
        try:
            assert directory.revoke_key(_key_id(alice))
        finally:
            directory.close()
        time.sleep(deployment.settings.api_key_cache_ttl_s)
        response = anonymous.get(f"{API}/orders", headers=alice.headers)
        _assert_problem(response, 401, "INVALID_API_KEY")
