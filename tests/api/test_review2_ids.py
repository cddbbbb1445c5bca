"""Client-chosen IDs: the same ID in two accounts, and an ID reused for another order.

Order and signal IDs are chosen by the client and unique per account only, so a caller
who sees several accounts (an administrator, or a user owning more than one) can find
one ID in two of them. The ``/orders/{id}`` and ``/signals/{id}`` endpoints then acted
on whichever account came first. They now take ``accountId`` to say which, and without
it answer 409 naming the accounts instead of guessing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from robustness.harness import ADMIN_ACCOUNT, LiveService, build_service, record_venue_commands

ORDERS = "/api/v1/orders"
SIGNALS = "/api/v1/signals"
LIMIT: dict[str, Any] = {
    "symbol": "SPY",
    "side": "BUY",
    "type": "LIMIT",
    "quantity": "1",
    "price": "400",
    "clientOrderId": "dup-1",
}
SIGNAL: dict[str, Any] = {
    "signalId": "dup-signal",
    "modelId": "model-1",
    "symbol": "SPY",
    "action": "BUY",
    "confidence": "0.5",
    "quantity": "1",
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveService]:
    """Yield a fresh service whose venue commands are recorded."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        service = build_service(tmp_path)
        record_venue_commands(service, monkeypatch)
        try:
            yield service
        finally:
            service.runtime.journal.close()
            service.runtime.directory.close()


def _client(live: LiveService, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.runtime.app),
        base_url="http://review2",
        headers={"X-API-Key": key},
    )


@pytest_asyncio.fixture
async def clients(
    live: LiveService,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Yield (trader on DEMO, admin seeing DEMO and ADMIN-1), after one SPY quote."""
    await live.quote("SPY", "450.00", "450.02")
    async with _client(live, live.trader_key) as trader, _client(live, live.admin_key) as admin:
        yield trader, admin


async def _same_order_id_in_both_accounts(
    trader: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    mine = await trader.post(ORDERS, json=LIMIT)
    assert mine.status_code == 200, mine.text
    assert mine.json()["accountId"] == "DEMO"
    theirs = await admin.post(ORDERS, json={**LIMIT, "price": "401"})
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["accountId"] == ADMIN_ACCOUNT


def _assert_ambiguous(response: httpx.Response, ident: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "AMBIGUOUS_ID", problem
    for name in (ident, "DEMO", ADMIN_ACCOUNT, "accountId"):
        assert name in problem["detail"], (name, problem["detail"])


@pytest.mark.asyncio
async def test_delete_of_an_order_id_two_visible_accounts_hold_cancels_nothing_and_asks_which(
    live: LiveService, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    trader, admin = clients
    await _same_order_id_in_both_accounts(trader, admin)
    sent = len(live.venue_commands)

    _assert_ambiguous(await admin.delete(f"{ORDERS}/dup-1"), "dup-1")
    _assert_ambiguous(await admin.patch(f"{ORDERS}/dup-1", json={"price": "402"}), "dup-1")
    _assert_ambiguous(await admin.get(f"{ORDERS}/dup-1"), "dup-1")
    assert len(live.venue_commands) == sent
    for account, price in (("DEMO", "400.00"), (ADMIN_ACCOUNT, "401.00")):
        order = await admin.get(f"{ORDERS}/dup-1", params={"accountId": account})
        assert order.status_code == 200, order.text
        assert (order.json()["accountId"], order.json()["status"]) == (account, "ACCEPTED")
        assert order.json()["price"] == price

    cancelled = await admin.delete(f"{ORDERS}/dup-1", params={"accountId": ADMIN_ACCOUNT})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["accountId"] == ADMIN_ACCOUNT
    mine = await trader.get(f"{ORDERS}/dup-1")
    assert mine.json()["status"] == "ACCEPTED", "the trader's order was cancelled"


@pytest.mark.asyncio
async def test_order_id_in_one_visible_account_needs_no_account_id(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    trader, admin = clients
    await _same_order_id_in_both_accounts(trader, admin)
    # The trader sees only DEMO: no ambiguity, and ADMIN-1 stays invisible.
    assert (await trader.get(f"{ORDERS}/dup-1")).json()["accountId"] == "DEMO"
    other = await trader.get(f"{ORDERS}/dup-1", params={"accountId": ADMIN_ACCOUNT})
    assert other.status_code == 404, other.text
    assert other.json()["code"] == "ACCOUNT_NOT_FOUND"


@pytest.mark.asyncio
async def test_signal_id_two_visible_accounts_hold_asks_which(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    trader, admin = clients
    assert (await trader.post(SIGNALS, json=SIGNAL)).status_code == 200
    assert (await admin.post(SIGNALS, json=SIGNAL)).status_code == 200
    _assert_ambiguous(await admin.get(f"{SIGNALS}/dup-signal"), "dup-signal")
    for account in ("DEMO", ADMIN_ACCOUNT):
        signal = await admin.get(f"{SIGNALS}/dup-signal", params={"accountId": account})
        assert signal.status_code == 200, signal.text
        assert signal.json()["accountId"] == account


# A client order ID reused for a different order ------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"price": "401"}, "401"),
        ({"quantity": "5"}, "5"),
        ({"side": "SELL"}, "SELL"),
        ({"symbol": "QQQ"}, "QQQ"),
        ({"type": "MARKET", "price": None}, "MARKET"),
        ({"timeInForce": "DAY"}, "DAY"),
    ],
)
async def test_client_order_id_reused_with_a_different_order_is_refused(
    live: LiveService,
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    change: dict[str, Any],
    named: str,
) -> None:
    """Before: 200 with the first order, as if the second had been placed."""
    trader, _ = clients
    first = await trader.post(ORDERS, json=LIMIT)
    assert first.status_code == 200, first.text
    before = live.state()
    body = {k: v for k, v in {**LIMIT, **change}.items() if v is not None}
    response = await trader.post(ORDERS, json=body)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "CLIENT_ORDER_ID_REUSED", problem
    assert "dup-1" in problem["detail"] and named in problem["detail"], problem["detail"]
    assert live.state() == before


@pytest.mark.asyncio
async def test_client_order_id_retried_with_the_same_order_returns_it(
    live: LiveService, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    trader, _ = clients
    first = await trader.post(ORDERS, json=LIMIT)
    before = live.state()
    again = await trader.post(ORDERS, json={**LIMIT, "price": "400.00", "symbol": "spy"})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert live.state() == before


# A client order ID of the engine's own form --------------------------------------------


@pytest.mark.asyncio
async def test_client_order_id_of_the_form_the_engine_draws_is_refused(
    live: LiveService, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    """Before: a client could take the ID the engine would draw next (its orders show the
    form, ACCOUNT-<hex>-<n>); the engine's next order then reused it, replacing the
    client's order in the account's state while it still worked at the venue."""
    trader, _ = clients
    plain = {k: v for k, v in LIMIT.items() if k != "clientOrderId"}
    first = await trader.post(ORDERS, json=plain)
    assert first.status_code == 200, first.text
    prefix, number = first.json()["orderId"].rsplit("-", 1)
    taken = f"{prefix}-{int(number) + 1}"
    before = live.state()
    response = await trader.post(ORDERS, json={**plain, "clientOrderId": taken, "price": "399"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "RESERVED_CLIENT_ORDER_ID", problem
    assert taken in problem["detail"], problem["detail"]
    assert live.state() == before
    # The engine's own next order is unaffected; a retry under a drawn ID reads it back.
    second = await trader.post(ORDERS, json={**plain, "price": "398"})
    assert (second.status_code, second.json()["orderId"]) == (200, taken), second.text
    again = await trader.post(ORDERS, json={**plain, "clientOrderId": first.json()["orderId"]})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    listed = (await trader.get(ORDERS)).json()["items"]
    assert sorted((o["orderId"], o["price"], o["status"]) for o in listed) == sorted(
        [
            (first.json()["orderId"], "400.00", "ACCEPTED"),
            (taken, "398.00", "ACCEPTED"),
        ]
    )
