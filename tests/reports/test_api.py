"""``GET /api/v1/reports/...`` over HTTP on the live service, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from alphintra.domain.identifiers import AccountId, InstrumentId
from api.live import (
    API,
    SYMBOL,
    Deployment,
    LiveService,
    get_ok,
    post_ok,
    signal_body,
    wait_for,
    wait_order,
)
from helpers.market_data import market_data_dir


@pytest.fixture
def deployment(database_url: str) -> Iterator[Deployment]:
    """Yield a deployment with seeded users on the test's database; stop it afterwards."""
    made = Deployment(database_url, market_data_dir())
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def live(deployment: Deployment) -> LiveService:
    """Return the service running on the deployment."""
    return deployment.start()


def _wait_for_quotes(live: LiveService) -> None:
    def probe() -> bool | None:
        state = live.runtime.service.account_state(AccountId("ALICE-1"))
        return True if state is not None and InstrumentId(SYMBOL) in state.marks else None

    wait_for(probe, "the first BTCUSD quote")


def _filled_buy(live: LiveService, client: httpx.Client) -> dict[str, Any]:
    _wait_for_quotes(live)
    result = post_ok(client, "/signals", signal_body("rep-buy-1", entryPrice="7000.00"))
    order: dict[str, Any] = wait_order(client, result["orderIds"][0], "FILLED")
    return order


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_reports_filled_signal_counted_in_json_csv_and_html(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with live.client(alice) as client:
        order = _filled_buy(live, client)
        tca = wait_for(
            lambda: r if (r := get_ok(client, "/reports/tca"))["orderCount"] == 1 else None,
            "the filled order in the TCA report",
        )
        (usd,) = tca["costs"]
        total = usd["total"]
        parts = [Decimal(total[k]) for k in ("spread", "impact", "timing", "fees")]
        assert sum(parts) == Decimal(total["implementationShortfall"])
        assert Decimal(total["fees"]) == 0  # the service's simulated venue charges no fee
        # The decision price is the signal's entryPrice, journaled with the signal, from
        # the order's first measurement on (not only once the impact horizon is reached).
        (decision,) = deployment.sql(
            "SELECT decision_price, decision_from_signal FROM execution_quality"
            " WHERE kind = 'ORDER'"
        )
        assert (Decimal(str(decision[0])), bool(decision[1])) == (Decimal("7000.00"), True)

        day = datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00")).date()
        best = get_ok(client, "/reports/best-execution", date=day.isoformat())
        (row,) = best["execution"]["instruments"]
        assert (row["instrumentId"], row["orderCount"], row["fillRate"]) == (SYMBOL, 1, "1")
        slippage = row["slippageBps"]
        assert isinstance(slippage["p50"], str) and slippage["count"] == 1
        # One order: every percentile is its slippage. (Its sign depends on how far the
        # replayed quotes moved between the order's arrival and its fill.)
        assert Decimal(slippage["p50"]) == Decimal(slippage["p99"]) == Decimal(slippage["mean"])
        assert [v["venue"] for v in best["execution"]["venues"]] == ["SIM"]

        text = client.get(
            f"{API}/reports/best-execution", params={"date": day.isoformat(), "format": "csv"}
        )
        assert text.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(text.text)))
        assert [(r["venue"], r["order_count"]) for r in rows] == [("ALL", "1"), ("SIM", "1")]

        page = client.get(f"{API}/reports/tca", params={"format": "html"})
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.text.count("<svg") == 2  # slippage distribution, cost by venue

        metrics = client.get("/metrics").text
        assert (
            'trading_execution_slippage_count{instrument="BTCUSD",side="BUY",venue="SIM"} 1.0'
            in metrics
        )
        assert "\ntrading_positions_active 1.0\n" in metrics  # counted when scraped


def test_reports_other_accounts_are_invisible_and_named_ones_answer_404(
    live: LiveService, deployment: Deployment
) -> None:
    with live.client(deployment.users["alice"]) as alice:
        _filled_buy(live, alice)
        wait_for(
            lambda: True if get_ok(alice, "/reports/tca")["orderCount"] == 1 else None,
            "alice's order in her report",
        )
    with live.client(deployment.users["bob"]) as bob:
        assert get_ok(bob, "/reports/tca")["orderCount"] == 0
        body = _problem(bob.get(f"{API}/reports/tca", params={"accountId": "ALICE-1"}), 404)
        assert "ALICE-1" in body["detail"]
    with live.client() as anonymous:
        _problem(anonymous.get(f"{API}/reports/best-execution"), 401)


@pytest.mark.parametrize(
    ("path", "params", "received"),
    [
        ("/reports/best-execution", {"date": "2026-13-45"}, "2026-13-45"),
        ("/reports/best-execution", {"format": "pdf"}, "pdf"),
        ("/reports/tca", {"from": "yesterday"}, "yesterday"),
        (
            "/reports/tca",
            {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
            "to=2026-03-01T00:00:00+00:00",
        ),
    ],
)
def test_reports_bad_parameters_answer_422_naming_the_value(
    live: LiveService,
    deployment: Deployment,
    path: str,
    params: dict[str, str],
    received: str,
) -> None:
    with live.client(deployment.users["alice"]) as client:
        body = _problem(client.get(f"{API}{path}", params=params), 422)
        assert received in body["detail"]


@pytest.mark.parametrize(
    ("path", "params", "received"),
    [
        ("/reports/best-execution", {"date": "0"}, "'0'"),
        ("/reports/best-execution", {"date": "2263-01-01"}, "2263-01-01"),
        ("/reports/tca", {"from": "2263-01-01T00:00:00Z"}, "2263-01-01"),
    ],
)
def test_reports_dates_outside_the_nanosecond_range_answer_422(
    live: LiveService,
    deployment: Deployment,
    path: str,
    params: dict[str, str],
    received: str,
) -> None:
    with live.client(deployment.users["alice"]) as client:
        body = _problem(client.get(f"{API}{path}", params=params), 422)
        assert received in body["detail"]
