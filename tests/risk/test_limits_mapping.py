"""Loading and writing risk limits: round trips, defaults, and precise errors."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import AssetClass
from alphintra.risk.limits import (
    BuyingPowerLimits,
    ConcentrationLimits,
    CorrelationLimits,
    ExposureLimits,
    LossLimits,
    PriceCollar,
    RiskLimits,
    RiskLimitsError,
    ScopeLimits,
    Throttle,
)
from alphintra.risk.limits_mapping import RiskLimitsBook
from risk.builders import BTCUSD, EURUSD, D

FULL = {
    "max_order_quantity": "1000",
    "max_order_notional": "250000",
    "max_position_quantity": "5000",
    "max_position_notional": "1000000",
    "enforce_min_notional": False,
    "enforce_trading_hours": True,
    "max_volatility": "0.8",
    "instruments": {"BTCUSD": {"max_order_quantity": "2", "max_volatility": "1.5"}},
    "asset_classes": {"CRYPTO": {"max_position_quantity": "10"}},
    "restricted_symbols": ["GME", "AMC"],
    "price_collar": {"max_fraction": "0.05", "max_ticks": 50, "min_band": "0.05"},
    "duplicate_window_ms": 500,
    "account_throttle": {"window_ms": 1000, "max_orders": 50, "max_messages": 200},
    "venue_throttle": {"window_ms": 1000, "max_orders": 20},
    "exposure": {
        "max_gross_exposure": "5000000",
        "max_net_exposure": "2000000",
        "max_leverage": "3",
    },
    "concentration": {"max_per_instrument": "0.25", "max_per_sector": "0.4"},
    "buying_power": {"fee_rate": "0.001", "short_margin_rate": "0.5"},
    "correlation": {"max_cluster_exposure": "1000000"},
    "loss": {"max_daily_loss": "25000", "max_drawdown": "0.1"},
}


def test_limits_from_mapping_full_tree_loaded() -> None:
    limits = RiskLimits.from_mapping(FULL)
    assert limits.max_order_quantity == D(1000)
    assert limits.enforce_min_notional is False
    assert limits.instruments["BTCUSD"] == ScopeLimits(
        max_order_quantity=D(2), max_volatility=D("1.5")
    )
    assert limits.asset_classes[AssetClass.CRYPTO].max_position_quantity == D(10)
    assert limits.restricted_symbols == frozenset({"GME", "AMC"})
    assert limits.price_collar == PriceCollar(
        max_fraction=D("0.05"), max_ticks=50, min_band=D("0.05")
    )
    assert limits.account_throttle == Throttle(window_ms=1000, max_orders=50, max_messages=200)
    assert limits.venue_throttle == Throttle(window_ms=1000, max_orders=20)
    assert limits.exposure == ExposureLimits(
        max_gross_exposure=D(5_000_000), max_net_exposure=D(2_000_000), max_leverage=D(3)
    )
    assert limits.concentration == ConcentrationLimits(
        max_per_instrument=D("0.25"), max_per_sector=D("0.4")
    )
    assert limits.buying_power == BuyingPowerLimits(fee_rate=D("0.001"), short_margin_rate=D("0.5"))
    assert limits.correlation == CorrelationLimits(max_cluster_exposure=D(1_000_000))
    assert limits.loss == LossLimits(max_daily_loss=D(25_000), max_drawdown=D("0.1"))


def test_limits_to_mapping_round_trip_equal() -> None:
    limits = RiskLimits.from_mapping(FULL)
    assert limits.to_mapping() == {**FULL, "restricted_symbols": ["AMC", "GME"]}
    assert RiskLimits.from_mapping(limits.to_mapping()) == limits


def test_limits_to_mapping_defaults_empty() -> None:
    assert RiskLimits().to_mapping() == {}
    assert RiskLimits.from_mapping({}) == RiskLimits()


def test_limits_enabled_section_with_defaults_survives_round_trip() -> None:
    limits = RiskLimits(buying_power=BuyingPowerLimits())
    assert limits.to_mapping() == {"buying_power": {}}
    assert RiskLimits.from_mapping(limits.to_mapping()) == limits


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_order_qty": "1"}, "risk: unknown key ['max_order_qty']; allowed: ["),
        (
            {"price_collar": {"max_fraction": "0.1", "band": "1"}},
            "risk.price_collar: unknown key ['band']",
        ),
        (
            {"instruments": {"BTCUSD": {"max_qty": "1"}}},
            "risk.instruments.BTCUSD: unknown key ['max_qty']",
        ),
        ({"asset_classes": {"BONDS": {}}}, "risk.asset_classes: unknown asset class 'BONDS'"),
        ({"max_order_quantity": 0.5}, "risk.max_order_quantity must not be a float (got 0.5)"),
        ({"max_order_quantity": "-1"}, "RiskLimits.max_order_quantity must be positive, got -1"),
        ({"max_order_quantity": "abc"}, "risk.max_order_quantity must be a decimal number"),
        ({"duplicate_window_ms": "500"}, "risk.duplicate_window_ms must be an integer, got '500'"),
        ({"enforce_min_notional": "yes"}, "risk.enforce_min_notional must be true or false"),
        ({"restricted_symbols": "GME"}, "risk.restricted_symbols must be a list of symbols"),
        (
            {"restricted_symbols": ["GME", {}]},
            "risk.restricted_symbols must hold non-empty strings, got [{}]",
        ),
        ({"account_throttle": {"max_orders": 5}}, "risk.account_throttle:"),
        ({"account_throttle": {"window_ms": 5}}, "Throttle needs max_orders or max_messages"),
        ({"price_collar": {}}, "PriceCollar needs max_fraction or max_ticks"),
        ({"exposure": []}, "risk.exposure: expected a mapping, got list []"),
        ({"loss": {"max_drawdown": "0"}}, "LossLimits.max_drawdown must be positive, got 0"),
    ],
)
def test_limits_from_mapping_bad_input_rejected_with_path(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(RiskLimitsError) as raised:
        RiskLimits.from_mapping(data)
    assert message in str(raised.value)


def test_limits_direct_construction_validated() -> None:
    with pytest.raises(RiskLimitsError, match=r"RiskLimits\.max_order_notional must be a finite"):
        RiskLimits(max_order_notional=1000)  # type: ignore[arg-type]
    with pytest.raises(RiskLimitsError, match="unknown asset class 'BOND'"):
        RiskLimits(asset_classes={"BOND": ScopeLimits()})  # type: ignore[dict-item]
    with pytest.raises(RiskLimitsError, match=r"RiskLimits\.exposure must be ExposureLimits"):
        RiskLimits(exposure=LossLimits())  # type: ignore[arg-type]


def test_limits_from_mapping_overlays_defaults_field_by_field() -> None:
    defaults = RiskLimits.from_mapping(FULL)
    account = RiskLimits.from_mapping(
        {
            "max_order_quantity": "10",
            "exposure": {"max_leverage": "5"},
            "instruments": {"ETHUSD": {"max_order_quantity": "3"}, "BTCUSD": None},
            "loss": None,
            "enforce_min_notional": None,
        },
        defaults=defaults,
    )
    assert account.max_order_quantity == D(10)
    assert account.max_order_notional == D(250_000)
    assert account.exposure == ExposureLimits(
        max_gross_exposure=D(5_000_000), max_net_exposure=D(2_000_000), max_leverage=D(5)
    )
    assert set(account.instruments) == {"ETHUSD"}
    assert account.loss is None
    assert account.enforce_min_notional is True  # null resets to the built-in default


def test_limits_book_accounts_overlay_defaults_and_round_trip() -> None:
    book = RiskLimitsBook.from_mapping(
        {
            "defaults": {"max_order_quantity": "100", "loss": {"max_daily_loss": "1000"}},
            "accounts": {
                "A1": {"max_order_quantity": "5"},
                "A2": {"loss": None, "buying_power": {}},
                "A3": None,
            },
        }
    )
    assert book.for_account("A1").max_order_quantity == D(5)
    assert book.for_account("A1").loss == LossLimits(max_daily_loss=D(1000))
    assert book.for_account("A2").loss is None
    assert book.for_account("A2").buying_power == BuyingPowerLimits()
    assert book.for_account("A3") == book.defaults
    assert book.for_account("UNKNOWN") == book.defaults
    written = book.to_mapping()
    assert written["accounts"] == {
        "A1": {"max_order_quantity": "5"},
        "A2": {"loss": None, "buying_power": {}},
        "A3": {},
    }
    assert RiskLimitsBook.from_mapping(written) == book


def test_limits_book_unknown_top_level_key_rejected() -> None:
    with pytest.raises(RiskLimitsError, match=r"risk: unknown keys \['default'\]"):
        RiskLimitsBook.from_mapping({"default": {}})
    with pytest.raises(RiskLimitsError, match=r"risk.accounts.A1: unknown key \['x'\]"):
        RiskLimitsBook.from_mapping({"accounts": {"A1": {"x": 1}}})


def test_limits_scope_for_resolves_most_specific_per_field() -> None:
    limits = RiskLimits.from_mapping(
        {
            "max_order_quantity": "1000",
            "max_position_quantity": "5000",
            "asset_classes": {"CRYPTO": {"max_order_quantity": "3", "max_position_notional": "9"}},
            "instruments": {"BTCUSD": {"max_order_quantity": "2"}},
        }
    )
    btc = limits.scope_for(BTCUSD)
    assert btc == ScopeLimits(
        max_order_quantity=D(2), max_position_quantity=D(5000), max_position_notional=D(9)
    )
    assert limits.scope_for(BTCUSD) is btc  # cached
    assert limits.scope_for(EURUSD) == limits.account_scope


def test_limits_default_flags_enable_only_fast_checks() -> None:
    limits = RiskLimits()
    assert not limits.has_extended_checks
    assert not limits.uses_portfolio
    assert not limits.uses_equity
    full = RiskLimits.from_mapping(FULL)
    assert full.has_extended_checks and full.uses_portfolio and full.uses_equity


_DECIMALS = st.decimals(min_value="0.0001", max_value="1e9", places=4).map(str)


@st.composite
def _mappings(draw: st.DrawFn) -> dict[str, object]:
    data: dict[str, object] = {}
    for key in ("max_order_quantity", "max_order_notional", "max_position_quantity"):
        if draw(st.booleans()):
            data[key] = draw(_DECIMALS)
    if draw(st.booleans()):
        data["price_collar"] = {"max_ticks": draw(st.integers(1, 1000)), "min_band": "0"}
    if draw(st.booleans()):
        data["exposure"] = {"max_leverage": draw(_DECIMALS)}
    if draw(st.booleans()):
        data["instruments"] = {
            draw(st.sampled_from(["AAA", "BBB"])): {"max_order_quantity": draw(_DECIMALS)}
        }
    if draw(st.booleans()):
        data["restricted_symbols"] = draw(st.lists(st.sampled_from(["X", "Y", "Z"]), max_size=3))
    return data


@settings(max_examples=100, deadline=None)
@given(_mappings(), _mappings())
def test_limits_mapping_round_trip_and_overlay_properties(
    first: dict[str, object], second: dict[str, object]
) -> None:
    limits = RiskLimits.from_mapping(first)
    assert RiskLimits.from_mapping(limits.to_mapping()) == limits
    overlaid = RiskLimits.from_mapping(second, defaults=limits)
    for key in second:
        if key not in ("instruments",):
            assert getattr(overlaid, key) == getattr(RiskLimits.from_mapping(second), key)
    book = RiskLimitsBook(limits, {"ACC": overlaid})
    assert RiskLimitsBook.from_mapping(book.to_mapping()) == book


def test_limits_copy_pickle_and_hash_preserve_equality() -> None:
    limits = RiskLimits.from_mapping(FULL)
    assert copy.deepcopy(limits) == limits
    assert pickle.loads(pickle.dumps(limits)) == limits
    assert hash(limits) == hash(RiskLimits.from_mapping(FULL))
    book = RiskLimitsBook(limits, {"A": RiskLimits()})
    assert pickle.loads(pickle.dumps(book)) == book
    with pytest.raises(TypeError):
        limits.instruments["X"] = ScopeLimits()  # type: ignore[index]
