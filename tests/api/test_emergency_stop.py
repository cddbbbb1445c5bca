"""The emergency stop cancels every working order and refuses new trading until resumed."""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.events import AuditRecorded
from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from api.live import (
    API,
    QUANTITY,
    RESTING_BUY_PRICE,
    Deployment,
    LiveService,
    get_ok,
    limit_order_body,
    orders_of,
    post_ok,
    signal_body,
    wait_order,
)

DRILL = {"reason": "e2e drill", "accountId": "ALICE-1"}


def test_emergency_stop_resting_orders_cancelled_signals_rejected_until_resume(
    live: LiveService, deployment: Deployment
) -> None:
    alice, ada = deployment.users["alice"], deployment.users["ada"]
    with live.client(alice) as client, live.client(ada) as admin:
        held = post_ok(client, "/signals", signal_body("before-stop"))["orderIds"][0]
        wait_order(client, held, "FILLED")
        resting = [
            post_ok(client, "/orders", limit_order_body(f"halt-{n}", RESTING_BUY_PRICE - n))[
                "orderId"
            ]
            for n in range(3)
        ]
        for order_id in resting:
            wait_order(client, order_id, "ACCEPTED")
        assert client.post(f"{API}/risk/emergency-stop", json=DRILL).status_code == 403

        stopped = post_ok(admin, "/risk/emergency-stop", DRILL)
        assert stopped == {"accountId": "ALICE-1", "tradingState": "HALTED", "cancelledOrders": 3}
        for order_id in resting:
            wait_order(client, order_id, "CANCELLED")
        assert orders_of(client, status="NEW") == []
        assert get_ok(client, "/portfolio")["tradingState"] == "HALTED"
        (position,) = get_ok(client, "/positions")
        assert Decimal(position["quantity"]) == QUANTITY

        for n in range(2):
            refused = post_ok(client, "/signals", signal_body(f"during-stop-{n}"))
            assert refused["status"] == "REJECTED"
            assert refused["reasonCode"] == "TRADING_HALTED"
            assert refused["orderIds"] == []
            view = get_ok(client, f"/signals/during-stop-{n}")
            assert (view["status"], view["reasonCode"]) == ("REJECTED", "TRADING_HALTED")
        order = post_ok(client, "/orders", limit_order_body("during-stop-order"))
        assert order["status"] == "DENIED"
        assert orders_of(client, status="NEW") == []

        resumed = post_ok(admin, "/risk/resume", {"reason": "drill over", "accountId": "ALICE-1"})
        assert resumed == {"accountId": "ALICE-1", "tradingState": "ACTIVE", "cancelledOrders": 0}
        assert get_ok(client, "/portfolio")["tradingState"] == "ACTIVE"
        after = post_ok(client, "/signals", signal_body("after-resume"))
        assert after["status"] in {"ACCEPTED", "EXECUTED"}
        wait_order(client, after["orderIds"][0], "FILLED")
        (position,) = get_ok(client, "/positions")
        assert Decimal(position["quantity"]) == 2 * QUANTITY

    journal = open_journal(deployment.database_url)
    try:
        audits = [
            (r.event.actor, r.event.action)
            for r in journal.read(AccountId("ALICE-1"))
            if isinstance(r.event, AuditRecorded)
        ]
    finally:
        journal.close()
    assert ("ada", "risk.emergency_stop") in audits
    assert ("ada", "risk.resume") in audits
    assert audits.index(("ada", "risk.emergency_stop")) < audits.index(("ada", "risk.resume"))
