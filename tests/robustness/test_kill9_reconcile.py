"""Kill -9 on a live venue: after the restart the service holds exactly what the venue holds.

The service runs as a subprocess with account ``LIVE1`` on ccxt ``binance``, pointed
at the Binance fake (real REST wire format, signed requests) in this process. Orders
and signals go in: market orders that fill at once, limit orders that rest, cancels.
The market moves so that some resting orders fill while the service watches. Then,
while clients are still posting, the service is SIGKILLed.

While it is down the market moves again (resting orders fill, one only partly), some
orders are cancelled directly at the venue, and an order is placed there by someone
else. After the restart, once the service reports ready, its orders (status, filled
quantity), fills and position must equal the fake's: every order the venue has is
known (the foreign one adopted), no client order ID reached the venue twice, every
venue fill is booked exactly once, and an order journaled but never sent is rejected
rather than sent late. Trading then goes on: a fill after the restart arrives too.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from robustness.live_venue import (
    ACCOUNT,
    STATUS,
    SYMBOL,
    FakeVenue,
    Service,
    client,
    deploy,
    pages,
    running,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow
SEED = 7
OPEN = {"SUBMITTED", "PENDING_CANCEL", "PENDING_MODIFY"}


def order_body(side: str, kind: str, price: str | None = None, qty: str = "0.001") -> Any:
    body: dict[str, Any] = {
        "symbol": SYMBOL,
        "side": side,
        "type": kind,
        "quantity": qty,
        "accountId": ACCOUNT,
    }
    if price is not None:
        body["price"] = price
    return body


def post_order(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/api/v1/orders", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def settled(http: httpx.Client) -> list[dict[str, Any]] | None:
    """Return the orders when none awaits a venue answer, else None."""
    orders = pages(http, "/api/v1/orders")
    return None if any(o["status"] in OPEN for o in orders) else orders


def before_the_kill(service: Service, key: str, fake: FakeVenue) -> set[str]:
    """Trade, cancel and move the market; SIGKILL mid-flow; return the acknowledged IDs."""
    acked: set[str] = set()
    with client(service, key) as http:
        for side in ("BUY", "SELL", "BUY"):
            acked.add(post_order(http, order_body(side, "MARKET"))["orderId"])
        resting = []
        for step in range(12):
            price = format(Decimal("29990.00") - step, "f")
            resting.append(post_order(http, order_body("BUY", "LIMIT", price))["orderId"])
        for step in range(6):
            price = format(Decimal("30010.00") + step, "f")
            resting.append(post_order(http, order_body("SELL", "LIMIT", price))["orderId"])
        for step in range(3):
            signal = {
                "signalId": f"live-{step}",
                "modelId": "kill9-live",
                "symbol": SYMBOL,
                "action": "BUY",
                "confidence": 0.7,
                "quantity": "0.002",
                "orderType": "LIMIT",
                "entryPrice": format(Decimal("29950.00") - step, "f"),
                "accountId": ACCOUNT,
            }
            response = http.post("/api/v1/signals", json=signal)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "ACCEPTED", response.text
            acked.update(response.json()["orderIds"])
        acked.update(resting)
        for order_id in resting[10:14]:
            response = http.delete(f"/api/v1/orders/{order_id}")
            assert response.status_code == 200, response.text
        wait_for(lambda: settled(http), "every order acknowledged", service=service)
        fake.set_quote("29986.00", "29987.00")  # buys at 29990..29987 fill while we watch
        wait_for(
            lambda: sum(o["status"] == "FILLED" for o in pages(http, "/api/v1/orders")) >= 7,
            "the resting buys crossed by the market to be filled",
            service=service,
        )
    kill_while_posting(service, key, acked)
    return acked


def kill_while_posting(service: Service, key: str, acked: set[str]) -> None:
    """Post from three clients; SIGKILL the service after 15 more acknowledgements."""
    rng = random.Random(SEED)
    lock = threading.Lock()
    bodies = []
    for index in range(300):
        if rng.random() < 0.3:
            bodies.append(order_body(rng.choice(("BUY", "SELL")), "MARKET"))
        else:
            price = format(Decimal("29900.00") - rng.randint(0, 900) / Decimal(10), "f")
            bodies.append(order_body("BUY", "LIMIT", price, qty=f"0.00{1 + index % 5}"))
    target = len(acked) + 15
    killed = threading.Event()

    def post() -> None:
        with client(service, key) as http:
            while not killed.is_set():
                with lock:
                    if not bodies:
                        return
                    body = bodies.pop()
                try:
                    response = http.post("/api/v1/orders", json=body)
                except httpx.TransportError:
                    return  # killed while in flight: not acknowledged
                if response.status_code != 200:
                    continue
                with lock:
                    acked.add(response.json()["orderId"])
                    if len(acked) >= target and not killed.is_set():
                        killed.set()
                        service.kill()

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert killed.is_set(), "every order was acknowledged before the kill"


def while_down(fake: FakeVenue) -> dict[str, str]:
    """Fill, part-fill and cancel at the venue, and place a foreign order; return the changes."""
    changes: dict[str, str] = {}

    def act() -> None:
        book = fake.fake.book
        working = [o for o in book.orders.values() if o.is_open and o.side == "BUY"]
        working.sort(key=lambda o: o.price or Decimal(0), reverse=True)
        for order in working[3:5]:
            book.cancel(order, "cancelled by the operator")
            changes[str(order.client_id)] = "CANCELED"
        partial = working[5]
        assert partial.price is not None
        book.fill(partial, partial.quantity / 2, partial.price, maker=True)
        changes[str(partial.client_id)] = "PARTIALLY_FILLED"
        book.submit(
            symbol=SYMBOL,
            side="SELL",
            kind="LIMIT",
            quantity=Decimal("0.003"),
            price=Decimal("31000.00"),
            client_id="foreign-1",
        )
        changes["foreign-1"] = "NEW"

    fake.set_quote("29982.00", "29983.00")  # more buys fill while the service is dead
    fake.call(act)
    return changes


def compare(http: httpx.Client, fake: FakeVenue, acked: set[str]) -> list[dict[str, Any]]:
    """Assert the service's orders, fills and position equal the fake's; return the orders."""
    orders = wait_for(lambda: settled(http), "orders to settle after the restart")
    assert orders is not None
    by_id = {o["orderId"]: o for o in orders}
    assert len(by_id) == len(orders), "an order is listed twice"
    venue_orders = fake.orders()
    sent = Counter(o["client_id"] for o in venue_orders)
    assert [c for c, n in sent.items() if n > 1] == [], "a client order ID reached the venue twice"
    at_venue = {o["client_id"]: o for o in venue_orders}
    lost = sorted(set(at_venue) - set(by_id))
    assert lost == [], f"orders the venue holds but the service lost: {lost}"
    missing_acks = sorted(acked - set(by_id))
    assert missing_acks == [], f"acknowledged orders lost: {missing_acks}"
    never_sent = []
    for order_id, order in by_id.items():
        venue = at_venue.get(order_id)
        if venue is None:
            assert order["status"] == "REJECTED", order  # journaled, never reached the venue
            assert Decimal(order["filledQuantity"]) == 0, order
            never_sent.append(order_id)
            continue
        assert order["status"] == STATUS[venue["status"]], (order, venue)
        assert Decimal(order["filledQuantity"]) == venue["filled"], (order, venue)
        assert Decimal(order["quantity"]) == venue["quantity"], (order, venue)
    trades = pages(http, "/api/v1/trades")
    booked = Counter(t["tradeId"] for t in trades)
    assert [t for t, n in booked.items() if n > 1] == [], "a fill was booked twice"
    venue_trades = fake.trades()
    assert set(booked) == set(venue_trades)
    for trade in trades:
        side, quantity, price = venue_trades[trade["tradeId"]]
        assert (trade["side"], Decimal(trade["quantity"]), Decimal(trade["price"])) == (
            side,
            quantity,
            price,
        )
    response = http.get("/api/v1/positions", params={"accountId": ACCOUNT})
    assert response.status_code == 200, response.text
    held = {p["symbol"]: Decimal(p["quantity"]) for p in response.json()}
    signed = sum(
        (Decimal(p["quantity"]) * (-1 if p["side"] == "SHORT" else 1) for p in response.json()),
        Decimal(0),
    )
    assert set(held) <= {SYMBOL}
    assert signed == fake.position()
    return orders


def test_kill9_mid_flow_then_restart_reconciles_exactly_with_the_venue(tmp_path: Path) -> None:
    fake = FakeVenue()
    try:
        fake.set_quote("30000.00", "30000.10")
        deployment = deploy(tmp_path, {"BINANCE": fake})
        first = start(deployment, 1)
        try:
            acked = before_the_kill(first, deployment.key, fake)
        finally:
            first.stop()
        trades_before = set(fake.trades())
        changes = while_down(fake)
        filled_while_down = set(fake.trades()) - trades_before
        assert len(filled_while_down) >= 3
        with running(deployment, 2) as second, client(second, deployment.key) as http:
            orders = compare(http, fake, acked)
            by_id = {o["orderId"]: o for o in orders}
            for client_id, status in changes.items():
                assert by_id[client_id]["status"] == STATUS[status], by_id[client_id]
            assert by_id["foreign-1"]["side"] == "SELL"
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text
            fake.set_quote("31000.00", "31000.10")  # the foreign sell and the resting sells fill
            wait_for(
                lambda: by_status(http, "foreign-1") == "FILLED",
                "a fill after the restart",
                service=second,
            )
            compare(http, fake, acked)
    finally:
        fake.close()


def by_status(http: httpx.Client, order_id: str) -> str:
    response = http.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status
