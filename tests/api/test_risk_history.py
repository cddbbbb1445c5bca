"""Risk reports are stored over time and served by GET /risk/metrics/history."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from api.live import (
    API,
    Deployment,
    get_ok,
    post_ok,
    signal_body,
    wait_for,
    wait_order,
)


def _history(client: Any, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = get_ok(client, "/risk/metrics/history", **params)
    return rows


def test_risk_reports_are_snapshotted_over_time_and_survive_a_restart(
    deployment: Deployment,
) -> None:
    deployment.settings = deployment.settings.model_copy(update={"risk_snapshot_interval_s": 1})
    alice, bob = deployment.users["alice"], deployment.users["bob"]
    live = deployment.start()
    with live.client(alice) as client:
        order_id = post_ok(client, "/signals", signal_body("risk-history-buy"))["orderIds"][0]
        wait_order(client, order_id, "FILLED")

        def two_with_position() -> list[dict[str, Any]] | None:
            rows = _history(client, accountId="ALICE-1")
            held = [r for r in rows if Decimal(r["exposure"]["gross"]) > 0]
            return rows if len(held) >= 2 else None

        rows = wait_for(two_with_position, "two risk snapshots with the BTCUSD position")
        times = [r["computedAt"] for r in rows]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert {r["accountId"] for r in rows} == {"ALICE-1"}
        latest = rows[-1]
        assert Decimal(latest["exposure"]["gross"]) > 0
        assert set(latest["weights"]) == {"BTCUSD"}
        # The stored report has the live report's shape, field for field.
        assert set(latest) == set(get_ok(client, "/risk/metrics", accountId="ALICE-1"))

        later = _history(client, accountId="ALICE-1", fromTime=rows[1]["computedAt"])
        assert [r["computedAt"] for r in later][: len(rows) - 1] == times[1:]
        assert len(_history(client, accountId="ALICE-1", limit="1")) == 1

        assert _history(client, fromTime="9999-12-31T23:59:59Z") == []
        assert _history(client, toTime="0001-01-01T00:00:00Z") == []
        bad = client.get(f"{API}/risk/metrics/history", params={"fromTime": "yesterday"})
        assert bad.status_code == 422
        assert "yesterday" in bad.text
    with live.client(bob) as intruder:
        refused = intruder.get(f"{API}/risk/metrics/history", params={"accountId": "ALICE-1"})
        assert refused.status_code in {403, 404}
    stored = deployment.sql(
        "SELECT account_id, equity, var_95_1d, es_99_1d, report FROM risk_snapshots"
    )
    assert [r[0] for r in stored].count("ALICE-1") >= len(rows)
    with_var = 0
    for _, equity, var95, es99, report in stored:
        view = json.loads(report)
        assert Decimal(str(equity)) == Decimal(view["equity"])
        risk = view["equityCurve"] or view["currentWeights"]
        if risk is None:
            assert var95 is None and es99 is None
            continue
        figures = {
            (f["confidence"], f["horizonDays"]): f
            for f in risk["var"]
            if f["method"] == "historical"
        }
        assert Decimal(str(var95)) == Decimal(figures[(0.95, 1)]["valueAtRiskAmount"])
        assert Decimal(str(es99)) == Decimal(figures[(0.99, 1)]["expectedShortfallAmount"])
        with_var += 1
    assert with_var > 0, "no stored snapshot carried a VaR figure"
    live.stop()

    restarted = deployment.start()
    with restarted.client(alice) as client:
        kept = _history(client, accountId="ALICE-1", limit="10000")
        assert [r["computedAt"] for r in kept][: len(times)] == times
        assert Decimal(kept[0]["equity"]) > 0
