"""Every risk limit is settable and visible over PUT/GET /risk/limits (the ``limits`` field).

``limits`` carries the limits in the configuration's form (`limits_to_mapping`); on a
PUT it replaces all of the account's limits and the flat fields the body carries
override it. A malformed mapping is a 422 naming the key and value and changes nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from alphintra.domain.events import AuditRecorded, OrderDenied
from alphintra.domain.identifiers import AccountId
from alphintra.risk.limits import Throttle
from alphintra.store.journal import open_journal
from api.live import API, Deployment, LiveService, get_ok, limit_order_body, post_ok

MAPPING: dict[str, Any] = {
    "max_order_quantity": "7",
    "restricted_symbols": ["GME"],
    "instruments": {"BTCUSD": {"max_order_quantity": "2"}},
    "account_throttle": {"window_ms": 1000, "max_orders": 50, "max_messages": 200},
    "exposure": {"max_gross_exposure": "5000000", "max_net_exposure": "2000000"},
    "loss": {"max_daily_loss": "25000", "max_drawdown": "0.1"},
    "correlation": {
        "max_cluster_exposure": "1000000",
        "min_correlation": "0.75",
        "window": 30,
        "sample_ms": 30000,
    },
}


def _put(client: httpx.Client, body: dict[str, Any], **params: str) -> httpx.Response:
    return client.put(f"{API}/risk/limits", json=body, params=params)


def _put_ok(client: httpx.Client, body: dict[str, Any], **params: str) -> dict[str, Any]:
    response = _put(client, body, **params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _audits(deployment: Deployment, account: str) -> list[AuditRecorded]:
    journal = open_journal(deployment.database_url)
    try:
        return [
            r.event
            for r in journal.read(AccountId(account))
            if isinstance(r.event, AuditRecorded) and r.event.action == "risk.limits"
        ]
    finally:
        journal.close()


def test_risk_limits_mapping_put_get_round_trip_engine_and_audit(
    live: LiveService, deployment: Deployment
) -> None:
    rita = deployment.users["rita"]
    with live.client(rita) as client:
        before = get_ok(client, "/risk/limits")
        assert "exposure" not in before["limits"]
        put = _put_ok(client, {"limits": MAPPING})
        got = get_ok(client, "/risk/limits")
    assert put["limits"] == MAPPING
    assert got == put
    # The flat fields show the mapping's values (the body sent none of them).
    assert got["maxOrderQuantity"] == "7"
    assert got["enforceMinNotional"] is True

    limits = live.runtime.service.account("RISK-1", None).engine.limits
    assert limits.exposure is not None
    assert limits.exposure.max_gross_exposure == Decimal("5000000")
    assert limits.loss is not None and limits.loss.max_drawdown == Decimal("0.1")
    assert limits.correlation is not None and limits.correlation.window == 30
    assert limits.account_throttle == Throttle(window_ms=1000, max_orders=50, max_messages=200)
    assert limits.restricted_symbols == frozenset({"GME"})

    live.stop()
    (audit,) = _audits(deployment, "RISK-1")
    assert audit.actor == "rita"
    assert json.loads(audit.old_value) == before
    assert json.loads(audit.new_value) == put
    assert json.loads(audit.new_value)["limits"] == MAPPING


def test_risk_limits_mapping_exposure_limit_denies_order(
    live: LiveService, deployment: Deployment
) -> None:
    alice, ada = deployment.users["alice"], deployment.users["ada"]
    with live.client(alice) as trader, live.client(ada) as admin:
        # 0.01 BTCUSD at 5,000 is 50 of exposure: fine without a limit.
        allowed = post_ok(trader, "/orders", limit_order_body("before-limit"))
        assert allowed["status"] != "DENIED", allowed
        _put_ok(admin, {"limits": {"exposure": {"max_gross_exposure": "40"}}}, accountId="ALICE-1")
        denied = post_ok(trader, "/orders", limit_order_body("over-limit"))
        assert denied["status"] == "DENIED", denied
    live.stop()
    journal = open_journal(deployment.database_url)
    try:
        reasons = [
            r.event.reason_code
            for r in journal.read(AccountId("ALICE-1"))
            if isinstance(r.event, OrderDenied)
        ]
    finally:
        journal.close()
    assert reasons == ["MAX_GROSS_EXPOSURE"]


def test_risk_limits_flat_fields_sent_override_mapping_absent_mapping_keeps_sections(
    live: LiveService, deployment: Deployment
) -> None:
    rita = deployment.users["rita"]
    with live.client(rita) as client:
        body = {
            "maxOrderQuantity": "3",
            "limits": {
                "max_order_quantity": "9",
                "max_order_notional": "900",
                "enforce_min_notional": False,
                "exposure": {"max_leverage": "2"},
            },
        }
        put = _put_ok(client, body)
        assert put["maxOrderQuantity"] == "3"
        assert put["maxOrderNotional"] == "900"
        assert put["enforceMinNotional"] is False  # not sent: the mapping's value stays
        assert put["limits"] == {
            "max_order_quantity": "3",
            "max_order_notional": "900",
            "enforce_min_notional": False,
            "exposure": {"max_leverage": "2"},
        }
        assert get_ok(client, "/risk/limits") == put

        # Without the mapping, as before: the flat fields replace themselves only.
        flat = _put_ok(client, {"maxOrderQuantity": "4"})
        assert flat["maxOrderNotional"] is None
        assert flat["enforceMinNotional"] is True
        assert flat["limits"] == {"max_order_quantity": "4", "exposure": {"max_leverage": "2"}}
        assert get_ok(client, "/risk/limits") == flat
        # An explicit null is the same as no mapping.
        assert _put_ok(client, {"maxOrderQuantity": "4", "limits": None}) == flat


MALFORMED: list[tuple[dict[str, Any], list[str]]] = [
    ({"exposure": {"max_gross": "1"}}, ["limits.exposure", "max_gross", "max_gross_exposure"]),
    ({"nonsense": 1}, ["limits", "nonsense"]),
    ({"loss": {"max_daily_loss": 0.1}}, ["limits.loss.max_daily_loss", "float", "0.1"]),
    ({"exposure": {"max_gross_exposure": "-5"}}, ["max_gross_exposure", "positive", "-5"]),
    ({"exposure": {"max_leverage": "abc"}}, ["limits.exposure.max_leverage", "'abc'"]),
    ({"account_throttle": {"window_ms": "1000", "max_orders": 5}}, ["window_ms", "'1000'"]),
    ({"loss": ["max_daily_loss"]}, ["limits.loss", "expected a mapping"]),
    ({"account_throttle": {"window_ms": 1000}}, ["limits.account_throttle", "max_orders"]),
    ({"correlation": {"min_correlation": "0.9"}}, ["limits.correlation", "max_cluster_exposure"]),
    ({"asset_classes": {"SPACESHIPS": {}}}, ["limits.asset_classes", "SPACESHIPS"]),
    ({"restricted_symbols": [{}]}, ["limits.restricted_symbols", "{}"]),
    ({"exposure": {"max_gross_exposure": "1e50"}}, ["max_gross_exposure", "38 digits"]),
    ({"duplicate_window_ms": 2**60}, ["limits.duplicate_window_ms", str(2**60)]),
]


def test_risk_limits_malformed_mapping_422_names_key_and_value_changes_nothing(
    live: LiveService, deployment: Deployment
) -> None:
    rita = deployment.users["rita"]
    with live.client(rita) as client:
        stored = _put_ok(client, {"limits": MAPPING})
        for mapping, fragments in MALFORMED:
            response = _put(client, {"maxOrderQuantity": "1", "limits": mapping})
            assert response.status_code == 422, (mapping, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["code"] == "INVALID_RISK_LIMITS", problem
            for fragment in fragments:
                assert fragment in problem["detail"], (mapping, problem["detail"])
            assert get_ok(client, "/risk/limits") == stored
    live.stop()
    assert len(_audits(deployment, "RISK-1")) == 1


def test_risk_limits_mapping_trader_and_read_only_403_unchanged(
    live: LiveService, deployment: Deployment
) -> None:
    for user in ("alice", "rory"):
        with live.client(deployment.users[user]) as client:
            before = get_ok(client, "/risk/limits")
            response = _put(client, {"limits": MAPPING})
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "FORBIDDEN"
            assert get_ok(client, "/risk/limits") == before
            assert "exposure" not in before["limits"]


def test_risk_limits_put_without_monitors_keeps_the_monitor_thresholds(
    live: LiveService, deployment: Deployment
) -> None:
    rita = deployment.users["rita"]
    monitors = {"maxDrawdown": "0.05", "dailyLossLimit": "2500", "flattenOnDrawdown": True}
    with live.client(rita) as client:
        _put_ok(client, {"monitors": monitors})
        _put_ok(client, {"maxOrderQuantity": "9"})  # no monitors: they stay as they are
        got = get_ok(client, "/risk/limits")
    assert got["maxOrderQuantity"] == "9"
    assert {k: got["monitors"][k] for k in monitors} == monitors
    settings = live.runtime.service.account("RISK-1", None).settings.monitor
    assert settings.max_drawdown == Decimal("0.05")
    assert settings.daily_loss_limit == Decimal(2500)
