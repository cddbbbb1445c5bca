"""Risk limits set at run time survive a restart, and limits can come from the
configuration.

Before, ``PUT /api/v1/risk/limits`` changed only the running engine: a restart (a
deploy, a crash, a rescheduled pod) silently put every account back on no limits at
all, and the configuration had no way to set them.
"""

from __future__ import annotations

from typing import Any

import pytest

from alphintra.app.config import ConfigError, load_settings
from alphintra.app.server import build_runtime
from alphintra.domain.events import RiskLimitsChanged
from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from api.live import API, Deployment, get_ok, limit_order_body, post_ok

LIMITS: dict[str, Any] = {
    "max_order_quantity": "7",
    "restricted_symbols": ["GME"],
    "exposure": {"max_gross_exposure": "40"},
    "loss": {"max_daily_loss": "25000", "max_drawdown": "0.1"},
}
MONITORS: dict[str, Any] = {
    "maxDrawdown": "0.2",
    "dailyLossLimit": "5000",
    "timezone": "America/New_York",
    "volatilityThreshold": 0.004,
}


def test_limits_put_over_the_api_are_in_force_after_a_restart(deployment: Deployment) -> None:
    rita, alice, ada = (deployment.users[u] for u in ("rita", "alice", "ada"))
    first = deployment.start()
    with first.client(rita) as risk, first.client(ada) as admin:
        put = risk.put(f"{API}/risk/limits", json={"limits": LIMITS, "monitors": MONITORS})
        assert put.status_code == 200, put.text
        answered = put.json()
        put = admin.put(
            f"{API}/risk/limits",
            json={"limits": {"exposure": {"max_gross_exposure": "40"}}},
            params={"accountId": "ALICE-1"},
        )
        assert put.status_code == 200, put.text
    first.stop()

    second = deployment.start()
    with second.client(rita) as risk, second.client(alice) as trader:
        assert get_ok(risk, "/risk/limits") == answered
        # 0.01 BTCUSD at 5,000 is 50 of gross exposure, over the 40 set before the restart.
        denied = post_ok(trader, "/orders", limit_order_body("after-restart"))
        assert denied["status"] == "DENIED", denied
    runtime = second.runtime.service.account("RISK-1", None)
    assert runtime.settings.monitor.timezone == "America/New_York"
    assert runtime.engine.monitor is not None
    assert runtime.engine.monitor.limits == runtime.settings.monitor
    assert runtime.settings.monitor.volatility_threshold == 0.004
    second.stop()

    journal = open_journal(deployment.database_url)
    try:
        changes = [
            r.event for r in journal.read(AccountId("RISK-1")) if type(r.event) is RiskLimitsChanged
        ]
    finally:
        journal.close()
    assert len(changes) == 1


def test_configured_limits_apply_until_limits_are_set_over_the_api(
    deployment: Deployment,
) -> None:
    configured = deployment.settings.model_copy(
        update={
            "risk_limits": {
                "defaults": {"max_order_quantity": "5"},
                "accounts": {"ALICE-1": {"exposure": {"max_gross_exposure": "40"}}},
            },
            "risk_monitors": {"defaults": {"max_drawdown": "0.25"}},
        }
    )
    deployment.settings = configured
    alice, bob, rita = (deployment.users[u] for u in ("alice", "bob", "rita"))
    first = deployment.start()
    with first.client(alice) as a, first.client(bob) as b, first.client(rita) as risk:
        limits = get_ok(a, "/risk/limits")
        assert limits["maxOrderQuantity"] == "5"
        assert limits["limits"]["exposure"] == {"max_gross_exposure": "40"}
        assert limits["monitors"]["maxDrawdown"] == "0.25"
        assert get_ok(b, "/risk/limits")["limits"] == {"max_order_quantity": "5"}
        assert post_ok(a, "/orders", limit_order_body("alice-over"))["status"] == "DENIED"
        assert post_ok(b, "/orders", limit_order_body("bob-under"))["status"] != "DENIED"
        put = risk.put(f"{API}/risk/limits", json={"limits": {"max_order_quantity": "9"}})
        assert put.status_code == 200, put.text
    first.stop()
    second = deployment.start()
    with second.client(rita) as risk, second.client(bob) as b:
        # The change made over the API outlives the restart; the others keep the config.
        assert get_ok(risk, "/risk/limits")["limits"] == {"max_order_quantity": "9"}
        assert get_ok(b, "/risk/limits")["limits"] == {"max_order_quantity": "5"}
    second.stop()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("risk_limits", {"defaults": {"max_order_quantity": 0.1}}, "must not be a float"),
        ("risk_limits", {"accounts": {"A": {"loss": {"max_dayly_loss": "1"}}}}, "max_dayly_loss"),
        ("risk_monitors", {"defaults": {"max_drawdown": "1.5"}}, "got '1.5'"),
        ("risk_monitors", {"defaults": {"timezone": "Mars/Olympus"}}, "'Mars/Olympus'"),
        ("risk_monitors", {"defaults": {"volatility_window": 1}}, "from 2 to 10000, got 1"),
    ],
)
def test_bad_configured_limits_are_refused_naming_the_entry(
    setting: str, value: object, message: str
) -> None:
    overrides: dict[str, Any] = {setting: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    assert setting in str(caught.value) and message in str(caught.value), caught.value


def test_journaled_limits_that_no_longer_load_stop_the_start(deployment: Deployment) -> None:
    rita = deployment.users["rita"]
    first = deployment.start()
    with first.client(rita) as risk:
        put = risk.put(f"{API}/risk/limits", json={"limits": {"max_order_quantity": "7"}})
        assert put.status_code == 200, put.text
    first.stop()
    # As if written by a version whose limits had a field this one lacks.
    journal = open_journal(deployment.database_url)
    try:
        journal.append(
            RiskLimitsChanged(
                account_id=AccountId("RISK-1"),
                ts_event=1,
                ts_recv=1,
                limits='{"max_order_quantity": "7", "max_widgets": "3"}',
                monitors="{}",
            )
        )
        journal.commit()
    finally:
        journal.close()
    with pytest.raises(ConfigError, match=r"RISK-1.*max_widgets"):
        build_runtime(deployment.settings, deployment.env)
