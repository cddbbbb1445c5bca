"""Monitor thresholds in the configuration's form: read back equal, refused precisely."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphintra.domain.identifiers import AccountId
from alphintra.risk.limits import LossLimits, RiskLimits, RiskLimitsError
from alphintra.risk.limits_record import latest_limits, limits_changed, recorded_limits
from alphintra.risk.monitor_mapping import (
    MonitorLimitsBook,
    monitor_limits_from_mapping,
    monitor_limits_to_mapping,
)
from alphintra.risk.monitors import MonitorLimits

_places = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.9999"), places=4)
_monitors = st.builds(
    MonitorLimits,
    max_drawdown=st.none() | _places,
    daily_loss_limit=st.none() | st.decimals(min_value=1, max_value=10**9, places=2),
    flatten_on_drawdown=st.booleans(),
    timezone=st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]),
    volatility_window=st.integers(2, 10_000),
    volatility_threshold=st.none() | st.floats(min_value=1e-9, max_value=10.0),
    jump_threshold=st.none() | st.floats(min_value=1e-9, max_value=10.0),
    reduce_fraction=_places,
    tighten_factor=_places,
    cooldown_ns=st.integers(0, 86_400 * 10**9),
)


@given(_monitors)
def test_monitor_limits_mapping_round_trip(limits: MonitorLimits) -> None:
    assert monitor_limits_from_mapping(monitor_limits_to_mapping(limits)) == limits


@given(_monitors)
def test_recorded_limits_round_trip_through_the_event(monitors: MonitorLimits) -> None:
    limits = RiskLimits(
        max_order_quantity=Decimal("3.5"), loss=LossLimits(max_drawdown=Decimal("0.2"))
    )
    event = limits_changed(AccountId("A"), 7, limits, monitors)
    assert recorded_limits(event) == (limits, monitors)
    assert latest_limits([event]) == (limits, monitors)


def test_latest_limits_takes_the_last_change() -> None:
    first = limits_changed(
        AccountId("A"), 1, RiskLimits(max_order_quantity=Decimal(1)), MonitorLimits()
    )
    last = limits_changed(
        AccountId("A"), 2, RiskLimits(max_order_quantity=Decimal(2)), MonitorLimits()
    )
    found = latest_limits([first, last])
    assert found is not None and found[0].max_order_quantity == 2
    assert latest_limits([]) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_drawdown": "0"}, "monitors.max_drawdown must be > 0 and < 1, got '0'"),
        ({"max_drawdown": "1"}, "monitors.max_drawdown must be > 0 and < 1, got '1'"),
        ({"max_drawdown": 0.1}, "monitors.max_drawdown must not be a float"),
        ({"daily_loss_limit": "-5"}, "monitors.daily_loss_limit must be > 0, got '-5'"),
        ({"reduce_fraction": "1.01"}, "monitors.reduce_fraction must be >= 0 and <= 1"),
        ({"tighten_factor": "0"}, "monitors.tighten_factor must be > 0 and <= 1, got '0'"),
        ({"flatten_on_drawdown": "yes"}, "monitors.flatten_on_drawdown must be true or false"),
        ({"timezone": "Nowhere/City"}, "monitors.timezone: unknown time zone 'Nowhere/City'"),
        ({"volatility_window": 10_001}, "must be from 2 to 10000, got 10001"),
        ({"volatility_window": True}, "monitors.volatility_window must be an integer, got True"),
        ({"volatility_threshold": float("nan")}, "must be a finite number > 0, got nan"),
        ({"jump_threshold": "0.1"}, "monitors.jump_threshold must be a number, got '0.1'"),
        ({"cooldown_ns": -1}, "monitors.cooldown_ns must be from 0 to 86400000000000, got -1"),
        ({"max_drawdwn": "0.1"}, "monitors: unknown key ['max_drawdwn']; allowed:"),
        ([], "monitors: expected a mapping, got list []"),
    ],
)
def test_monitor_limits_mapping_refuses_bad_values_naming_them(data: object, message: str) -> None:
    with pytest.raises(RiskLimitsError) as caught:
        monitor_limits_from_mapping(data)
    assert message in str(caught.value)


def test_monitor_book_accounts_overlay_defaults_and_null_restores_class_default() -> None:
    book = MonitorLimitsBook.from_mapping(
        {
            "defaults": {"max_drawdown": "0.1", "timezone": "Asia/Tokyo"},
            "accounts": {"A": {"daily_loss_limit": "500", "max_drawdown": None}},
        }
    )
    assert book.for_account("B") == MonitorLimits(
        max_drawdown=Decimal("0.1"), timezone="Asia/Tokyo"
    )
    assert book.for_account("A") == MonitorLimits(
        daily_loss_limit=Decimal(500), timezone="Asia/Tokyo"
    )
    with pytest.raises(RiskLimitsError, match=r"risk_monitors: unknown keys \['default'\]"):
        MonitorLimitsBook.from_mapping({"default": {}})


def test_recorded_limits_that_do_not_load_name_the_account() -> None:
    event = limits_changed(AccountId("ACC-9"), 5, RiskLimits(), MonitorLimits())
    broken = type(event)(
        account_id=event.account_id, ts_event=5, ts_recv=5, limits="{not json", monitors="{}"
    )
    with pytest.raises(RiskLimitsError, match=r"journaled risk limits of account ACC-9 \(ts 5\)"):
        recorded_limits(broken)
