"""The running service brings an account stopped by a failed journal commit back from
its journal, without a restart, and the account trades on.

Before, the account answered 503 (and the whole service was not ready) until an
operator restarted the process.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy.exc

from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from alphintra.store.verify import verify
from api.live import (
    API,
    QUANTITY,
    Deployment,
    get_ok,
    post_ok,
    signal_body,
    wait_for,
    wait_order,
)


def test_an_account_stopped_by_a_failed_commit_is_reopened_and_trades_on(
    deployment: Deployment,
) -> None:
    deployment.settings = deployment.settings.model_copy(
        update={"account_recovery_interval_s": 0.2}
    )
    alice = deployment.users["alice"]
    live = deployment.start()
    journal = live.runtime.journal
    real = journal._write

    def fail_alice_once(rows: list[Any], fills: list[Any]) -> None:
        if any(row[0] == "ALICE-1" for row in rows):
            journal._write = real  # type: ignore[method-assign]
            raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))
        real(rows, fills)

    with live.client(alice) as client:
        before = post_ok(client, "/signals", signal_body("before-stop"))
        wait_order(client, before["orderIds"][0], "FILLED")
        journal._write = fail_alice_once  # type: ignore[method-assign]
        lost = client.post(f"{API}/signals", json=signal_body("lost-in-the-stop"))
        assert lost.status_code == 503, lost.text
        assert lost.json()["code"] == "ACCOUNT_UNAVAILABLE"

        def ready() -> bool | None:
            answer = httpx.get(f"{live.base_url}/readyz", timeout=5)
            return True if answer.status_code == 200 else None

        wait_for(ready, "the account to be reopened")
        assert client.get(f"{API}/signals/lost-in-the-stop").status_code == 404
        assert get_ok(client, "/signals/before-stop")["status"] == "EXECUTED"
        after = post_ok(client, "/signals", signal_body("after-reopen"))
        wait_order(client, after["orderIds"][0], "FILLED")
        (position,) = get_ok(client, "/positions")
        assert Decimal(position["quantity"]) == 2 * QUANTITY
        assert len(get_ok(client, "/trades")["items"]) == 2
    live.stop()
    reader = open_journal(deployment.database_url)
    try:
        report = verify(reader, AccountId("ALICE-1"))
    finally:
        reader.close()
    assert report.problem is None, report.problem
