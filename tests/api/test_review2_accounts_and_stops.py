"""Account creation and the kill switch: values the engine cannot keep exactly, empty reasons.

The engine's cash arithmetic runs in Python's default decimal context (28 significant
digits): a starting cash with more digits was accepted and then rounded by the first
fill, without a word. An emergency stop or resume whose reason is only blanks was
recorded in the audit trail with no reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from robustness.harness import LiveService, build_service, record_venue_commands

ACCOUNTS = "/api/v1/accounts"


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


@pytest_asyncio.fixture
async def admin(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client that calls the app in-process as the administrator."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.runtime.app),
        base_url="http://review2",
        headers={"X-API-Key": live.admin_key},
    ) as client:
        yield client


def _assert_problem(response: httpx.Response, status: int, *names: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    for name in names:
        assert name.lower() in problem["detail"].lower(), (name, problem["detail"])
    return problem


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "cash",
    [
        "1234567890123456789012345678.91",  # 30 digits: the first fill rounded it
        "1000000000000000",  # 10^15
        "1000.000000001",  # 9 places
    ],
)
async def test_starting_cash_the_engine_cannot_keep_exactly_is_refused(
    live: LiveService, admin: httpx.AsyncClient, cash: str
) -> None:
    response = await admin.post(ACCOUNTS, json={"accountId": "BIG-1", "startingCash": cash})
    _assert_problem(response, 422, "startingCash", cash)
    assert "BIG-1" not in live.runtime.service.accounts
    listed = await admin.get(ACCOUNTS)
    assert "BIG-1" not in [a["accountId"] for a in listed.json()]


@pytest.mark.asyncio
async def test_largest_starting_cash_keeps_every_cent_through_a_fill(
    live: LiveService, admin: httpx.AsyncClient
) -> None:
    cash = "999999999999999.99999999"
    created = await admin.post(ACCOUNTS, json={"accountId": "BIG-2", "startingCash": cash})
    assert created.status_code == 201, created.text
    await live.quote("SPY", "450.00", "450.02")
    order = {"symbol": "SPY", "side": "BUY", "type": "MARKET", "quantity": "3"}
    placed = await admin.post("/api/v1/orders", json={**order, "accountId": "BIG-2"})
    assert placed.status_code == 200, placed.text
    await live.quote("SPY", "450.00", "450.02")
    trades = (await admin.get("/api/v1/trades", params={"accountId": "BIG-2"})).json()["items"]
    assert trades, "the market order did not fill"
    spent = sum(Decimal(t["price"]) * Decimal(t["quantity"]) + Decimal(t["fee"]) for t in trades)
    portfolio = (await admin.get("/api/v1/portfolio", params={"accountId": "BIG-2"})).json()
    assert Decimal(portfolio["cashBalance"]) == Decimal(cash) - spent


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/api/v1/risk/emergency-stop", "/api/v1/risk/resume"])
@pytest.mark.parametrize("reason", [" ", "\t\n"])
async def test_kill_switch_reason_of_only_blanks_is_refused_and_changes_nothing(
    live: LiveService, admin: httpx.AsyncClient, path: str, reason: str
) -> None:
    before = live.state()
    response = await admin.post(path, json={"reason": reason, "accountId": "DEMO"})
    _assert_problem(response, 422, "reason")
    assert live.state() == before
    portfolio = (await admin.get("/api/v1/portfolio", params={"accountId": "DEMO"})).json()
    assert portfolio["tradingState"] == "ACTIVE"
