"""Accounts get a sizing policy from the configuration, and one set at run time
survives a restart.

Before, ``alphintra serve`` had no way to give an account a sizing policy at all: every
signal without a quantity was rejected ``NO_SIZING_POLICY`` (the demo's curl line
carried a quantity), although the policies and their configuration form existed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphintra.app.config import ConfigError, Settings, load_settings
from alphintra.app.server import DEMO_ACCOUNT, DEMO_SIZING, build_runtime
from alphintra.domain.events import AuditRecorded
from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from api.live import API, Deployment, LiveService, get_ok, post_ok, signal_body, wait_order

SIZING: dict[str, Any] = {
    "defaults": {"kind": "fixed_quantity", "quantity": "0.03"},
    "accounts": {"BOB-1": None},
}


def test_configured_sizing_sizes_signals_and_a_set_policy_survives_restart(
    deployment: Deployment,
) -> None:
    deployment.settings = deployment.settings.model_copy(update={"sizing": SIZING})
    alice, bob = deployment.users["alice"], deployment.users["bob"]
    first = deployment.start()
    with first.client(alice) as a, first.client(bob) as b:
        sized = post_ok(a, "/signals", signal_body("sized-1", quantity=None))
        assert sized["status"] != "REJECTED", sized
        order = wait_order(a, sized["orderIds"][0], "FILLED")
        assert Decimal(order["quantity"]) == Decimal("0.03")
        refused = post_ok(b, "/signals", signal_body("unsized-1", quantity=None))
        assert (refused["status"], refused["reasonCode"]) == ("REJECTED", "NO_SIZING_POLICY")
        # Sized signals look the symbol up first: an unknown one is a 422, not a 500.
        unknown = a.post(f"{API}/signals", json=signal_body("bad-1", quantity=None, symbol="0"))
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["code"] == "UNKNOWN_SYMBOL"
    ada = deployment.users["ada"]
    with first.client(ada) as admin:
        put = admin.put(
            f"{API}/accounts/BOB-1/sizing",
            json={"policy": {"kind": "fixed_quantity", "quantity": "0.02"}},
        )
        assert put.status_code == 200, put.text
        assert put.json() == {
            "accountId": "BOB-1",
            "policy": {"kind": "fixed_quantity", "quantity": "0.02"},
        }
    first.stop()

    deployment.settings = deployment.settings.model_copy(update={"sizing": {}})
    second = deployment.start()
    with second.client(bob) as b, second.client(alice) as a:
        sized = post_ok(b, "/signals", signal_body("sized-2", quantity=None))
        order = wait_order(b, sized["orderIds"][0], "FILLED")
        assert Decimal(order["quantity"]) == Decimal("0.02")
        # Alice's policy came from the configuration, which no longer has one.
        refused = post_ok(a, "/signals", signal_body("unsized-2", quantity=None))
        assert refused["reasonCode"] == "NO_SIZING_POLICY"
        assert get_ok(a, f"/signals/{'sized-1'}")["status"] == "EXECUTED"
    second.stop()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"defaults": {"kind": "percent_of_equity", "percent": 0.5}}, "must not be a float"),
        ({"defaults": {"kind": "kelly"}}, "sizing.defaults.kind must be one of"),
        ({"accounts": {"X": {"kind": "fixed_quantity"}}}, "sizing.accounts.X: missing keys"),
        ({"accounts": {"X": "fixed"}}, "sizing.accounts.X must be a mapping or null"),
        ({"default": {}}, "unknown keys ['default']"),
    ],
)
def test_bad_sizing_configuration_is_refused_naming_the_entry(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(sizing=value)
    assert message in str(caught.value), caught.value


def test_demo_account_sizes_signals_without_a_quantity(tmp_path: Path) -> None:
    settings = Settings(demo=True, database_url=f"sqlite:///{tmp_path / 'demo.db'}")
    runtime = build_runtime(settings, {})
    try:
        demo = runtime.service.accounts[AccountId(DEMO_ACCOUNT)]
        assert demo.settings.sizing == DEMO_SIZING
    finally:
        runtime.service.flush_all()
        runtime.journal.close()
        runtime.directory.close()


def test_sizing_over_the_api_roles_tenancy_bad_policies_and_audit(
    live: LiveService, deployment: Deployment
) -> None:
    alice, bob, rita = (deployment.users[u] for u in ("alice", "bob", "rita"))
    url = f"{API}/accounts/RISK-1/sizing"
    kelly = {"kind": "fractional_kelly", "max_percent_of_equity": "5", "fraction": "0.5"}
    with live.client(rita) as risk, live.client(alice) as trader, live.client(bob) as other:
        assert risk.get(url).json() == {"accountId": "RISK-1", "policy": None}
        put = risk.put(url, json={"policy": kelly})
        assert put.status_code == 200, put.text
        assert risk.get(url).json()["policy"] == kelly
        # A trader may read its own account's policy but not change it.
        own = f"{API}/accounts/ALICE-1/sizing"
        assert trader.get(own).status_code == 200
        refused = trader.put(own, json={"policy": kelly})
        assert refused.status_code == 403, refused.text
        # Another tenant's account does not exist, for reading or writing.
        assert other.get(url).status_code == 404
        for bad, needle in [
            ({"kind": "percent_of_equity", "percent": 0.5}, "policy.percent must not be a float"),
            ({"kind": "fixed_quantity", "quantity": "-1"}, "got Decimal('-1')"),
            ({"kind": "martingale"}, "policy.kind must be one of"),
            ({"kind": "fractional_kelly"}, "missing keys ['max_percent_of_equity']"),
        ]:
            answer = risk.put(url, json={"policy": bad})
            assert answer.status_code == 422, answer.text
            problem = answer.json()
            assert problem["code"] == "INVALID_SIZING_POLICY" and needle in problem["detail"]
        assert risk.put(url, json={"nope": 1}).status_code == 422
        assert risk.get(url).json()["policy"] == kelly  # nothing bad was stored
        cleared = risk.put(url, json={"policy": None})
        assert cleared.json()["policy"] is None
    live.stop()
    journal = open_journal(deployment.database_url)
    try:
        audits = [
            r.event
            for r in journal.read(AccountId("RISK-1"))
            if isinstance(r.event, AuditRecorded) and r.event.action == "account.sizing"
        ]
    finally:
        journal.close()
    assert [(a.actor, json.loads(a.old_value), json.loads(a.new_value)) for a in audits] == [
        ("rita", None, kelly),
        ("rita", kelly, None),
    ]
