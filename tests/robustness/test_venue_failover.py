"""Failover: with the primary venue down, new orders go to the configured alternative.

Two Binance fakes serve as venues ``BINANCE`` (primary) and ``BINANCE2``; BTCUSDT is
routed ``[BINANCE, BINANCE2]``, ETHUSDT has no route. The service (a subprocess) trades
BTCUSDT on the primary, then the primary stops listening. The next BTCUSDT order must
execute on ``BINANCE2``, and the switch must be journaled (``VENUE_FAILOVER``) and
logged; an ETHUSDT order and signal must be refused with the reason, never sent. In a
second run the primary answers 5xx to everything for a while: orders fail over, and
once it answers again (reconciled first) they go back to it (``VENUE_FAILBACK``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from alphintra.domain.events import AuditRecorded
from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from robustness.live_venue import (
    ACCOUNT,
    SYMBOL,
    FakeVenue,
    Service,
    client,
    deploy,
    pages,
    running,
    wait_for,
)
from venues.fakes.crypto_spot import Faults

pytestmark = pytest.mark.slow
OTHER = "ETHUSDT"


def market_buy(http: httpx.Client, symbol: str = SYMBOL) -> httpx.Response:
    body = {
        "symbol": symbol,
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.001",
        "accountId": ACCOUNT,
    }
    return http.post("/api/v1/orders", json=body)


def filled_trade(http: httpx.Client, service: Service, order_id: str) -> dict[str, Any]:
    """Wait until ``order_id`` is filled; return its one trade."""

    def trade() -> dict[str, Any] | None:
        trades = [t for t in pages(http, "/api/v1/trades") if t["orderId"] == order_id]
        return trades[0] if trades else None

    found = wait_for(trade, f"a fill of {order_id}", service=service)
    assert found is not None
    return found


def router_switches(database_url: str) -> list[tuple[str, str, str, str]]:
    """Return the routing switches journaled for the account: (action, target, old, new)."""
    journal = open_journal(database_url)
    try:
        return [
            (r.event.action, r.event.target, r.event.old_value, r.event.new_value)
            for r in journal.read(AccountId(ACCOUNT))
            if type(r.event) is AuditRecorded and r.event.actor == "router"
        ]
    finally:
        journal.close()


def client_ids(fake: FakeVenue) -> set[str]:
    return {str(o["client_id"]) for o in fake.orders()}


def test_primary_down_routes_new_orders_to_the_configured_alternative(tmp_path: Path) -> None:
    primary, alternative = FakeVenue(), FakeVenue()
    try:
        for fake in (primary, alternative):
            fake.set_quote("30000.00", "30000.10")
            fake.set_quote("2000.00", "2000.10", OTHER)
        deployment = deploy(
            tmp_path,
            {"BINANCE": primary, "BINANCE2": alternative},
            failover={SYMBOL: ["BINANCE", "BINANCE2"]},
            instruments=(SYMBOL, OTHER),
        )
        with running(deployment, 1) as service, client(service, deployment.key) as http:
            first = market_buy(http)
            assert first.status_code == 200, first.text
            first_id = first.json()["orderId"]
            assert filled_trade(http, service, first_id)["venue"] == "BINANCE"

            primary.stop()
            wait_for(
                lambda: [e for e in service.events("venue_down") if e["venue"] == "BINANCE"],
                "the service to see the primary down",
                service=service,
            )
            second = market_buy(http)
            assert second.status_code == 200, second.text
            second_id = second.json()["orderId"]
            trade = filled_trade(http, service, second_id)
            assert trade["venue"] == "BINANCE2"
            assert Decimal(trade["price"]) == Decimal("30000.10")
            assert client_ids(alternative) == {second_id}
            assert service.events("venue_failover")[0]["message"].startswith(
                f"{SYMBOL}: new orders go to BINANCE2 instead of BINANCE: BINANCE is down"
            )

            refused = market_buy(http, OTHER)
            assert refused.status_code == 409, refused.text
            problem = refused.json()
            assert problem["code"] == "VENUE_UNAVAILABLE"
            assert "BINANCE is down" in problem["detail"]
            assert f"no failover route is configured for {OTHER}" in problem["detail"]
            signal = {
                "signalId": "eth-while-down",
                "modelId": "failover",
                "symbol": OTHER,
                "action": "BUY",
                "confidence": 0.5,
                "quantity": "0.01",
                "accountId": ACCOUNT,
            }
            answer = http.post("/api/v1/signals", json=signal)
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "REJECTED"
            assert answer.json()["reasonCode"] == "VENUE_UNAVAILABLE"
            assert answer.json()["orderIds"] == []
            assert OTHER not in {o["symbol"] for o in pages(http, "/api/v1/orders")}
            assert client_ids(alternative) == {second_id}
    finally:
        primary.close()
        alternative.close()
    switches = router_switches(deployment.database_url)
    assert switches == [("VENUE_FAILOVER", SYMBOL, "BINANCE", "BINANCE2")]


def test_primary_outage_fails_over_then_back_once_it_recovers(tmp_path: Path) -> None:
    primary, alternative = FakeVenue(), FakeVenue()
    try:
        for fake in (primary, alternative):
            fake.set_quote("30000.00", "30000.10")
        deployment = deploy(
            tmp_path,
            {"BINANCE": primary, "BINANCE2": alternative},
            failover={SYMBOL: ["BINANCE", "BINANCE2"]},
        )
        with running(deployment, 1) as service, client(service, deployment.key) as http:
            primary.call(lambda: primary.fake.faults.configure(Faults(rates={"5xx": 1.0})))
            wait_for(
                lambda: service.events("venue_down"), "the primary to be seen down", service=service
            )
            during = market_buy(http)
            assert during.status_code == 200, during.text
            assert filled_trade(http, service, during.json()["orderId"])["venue"] == "BINANCE2"

            primary.call(lambda: primary.fake.faults.configure(Faults()))
            wait_for(
                lambda: service.events("venue_up"), "the primary to be seen up", service=service
            )
            after = market_buy(http)
            assert after.status_code == 200, after.text
            assert filled_trade(http, service, after.json()["orderId"])["venue"] == "BINANCE"
            assert client_ids(primary) == {after.json()["orderId"]}
            assert client_ids(alternative) == {during.json()["orderId"]}
    finally:
        primary.close()
        alternative.close()
    assert [s[0] for s in router_switches(deployment.database_url)] == [
        "VENUE_FAILOVER",
        "VENUE_FAILBACK",
    ]
