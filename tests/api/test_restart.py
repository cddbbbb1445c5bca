"""A restart on the same database restores every account exactly, and keeps trading."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from alphintra.store.verify import verify
from api.live import (
    API,
    QUANTITY,
    Deployment,
    get_ok,
    limit_order_body,
    orders_of,
    post_ok,
    signal_body,
    wait_order,
)

SIGNALS = ("restart-buy", "restart-bracket", "restart-nothing-to-close")
MARKETABLE_BUY_PRICE = "9000.00"


def _snapshot(client: httpx.Client) -> dict[str, Any]:
    """Return what a restart must not change (marks, and so valuations, move on)."""
    orders = sorted(
        (
            o["orderId"],
            o["status"],
            o["side"],
            o["type"],
            o["quantity"],
            o["filledQuantity"],
            o["averagePrice"],
            o["price"],
            o["stopPrice"],
            o["signalId"],
            o["parentId"],
            tuple(o["linkedOrderIds"]),
            o["createdAt"],
        )
        for o in orders_of(client)
    )
    signals = {}
    for signal_id in SIGNALS:
        view = get_ok(client, f"/signals/{signal_id}")
        feedback = view["feedback"]
        signals[signal_id] = (
            view["status"],
            view["reasonCode"],
            view["orderIds"],
            view["receivedAt"],
            feedback["orders"],
            feedback["fills"],
            feedback["filledQuantity"],
            feedback["averagePrice"],
        )
    portfolio = get_ok(client, "/portfolio")
    return {
        "orders": orders,
        "signals": signals,
        "trades": get_ok(client, "/trades")["items"],
        "positions": [
            (
                p["symbol"],
                p["side"],
                p["quantity"],
                p["averagePrice"],
                p["realizedPnL"],
                p["openedAt"],
            )
            for p in get_ok(client, "/positions")
        ],
        "cash": portfolio["cashBalance"],
        "realized": portfolio["realizedPnL"],
        "fees": portfolio["fees"],
        "state": portfolio["tradingState"],
    }


def test_restart_same_database_state_identical_resting_order_still_working(
    deployment: Deployment,
) -> None:
    alice = deployment.users["alice"]
    first = deployment.start()
    with first.client(alice) as client:
        buy = post_ok(client, "/signals", signal_body("restart-buy"))["orderIds"][0]
        bracket = post_ok(
            client, "/signals", signal_body("restart-bracket", stopLoss="5000", takeProfit="9000")
        )["orderIds"]
        closed = post_ok(
            client, "/signals", signal_body("restart-nothing-to-close", "CLOSE_SHORT", None)
        )
        assert closed["reasonCode"] == "NOTHING_TO_CLOSE"
        to_fill = post_ok(client, "/orders", limit_order_body("rest-to-fill"))["orderId"]
        to_cancel = post_ok(client, "/orders", limit_order_body("rest-to-cancel"))["orderId"]
        cancelled = post_ok(client, "/orders", limit_order_body("rest-cancelled"))["orderId"]
        assert client.delete(f"{API}/orders/{cancelled}").status_code == 200
        for order_id in (buy, bracket[0]):
            wait_order(client, order_id, "FILLED")
        for order_id in (*bracket[1:], to_fill, to_cancel):
            wait_order(client, order_id, "ACCEPTED")
        wait_order(client, cancelled, "CANCELLED")
        before = _snapshot(client)
    first.stop()

    assert [p[2] for p in before["positions"]] == ["0.02000000"]
    second = deployment.start()
    with second.client(alice) as client:
        assert _snapshot(client) == before

        again = post_ok(client, "/signals", signal_body("restart-buy"))
        assert again["duplicate"] is True
        assert again["orderIds"] == [buy]

        # The resting orders are live at the new venue: one can be cancelled, the
        # other repriced through the market so that it fills.
        assert client.delete(f"{API}/orders/{to_cancel}").status_code == 200
        wait_order(client, to_cancel, "CANCELLED")
        patched = client.patch(f"{API}/orders/{to_fill}", json={"price": MARKETABLE_BUY_PRICE})
        assert patched.status_code == 200, patched.text
        filled = wait_order(client, to_fill, "FILLED")
        assert Decimal(filled["filledQuantity"]) == QUANTITY
        (position,) = get_ok(client, "/positions")
        assert Decimal(position["quantity"]) == 3 * QUANTITY

        after = post_ok(client, "/signals", signal_body("restart-after"))["orderIds"][0]
        assert after not in {o[0] for o in before["orders"]}
        wait_order(client, after, "FILLED")
    second.stop()

    journal = open_journal(deployment.database_url)
    try:
        for account in ("ALICE-1", "BOB-1"):
            report = verify(journal, AccountId(account))
            assert report.problem is None, report.problem
            assert report.checked > 0
    finally:
        journal.close()
