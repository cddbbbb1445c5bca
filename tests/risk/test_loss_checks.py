"""Daily loss, drawdown and volatility limits, and the volatility sizing helper."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import AssetClass, OrderSide
from alphintra.risk.context import RiskContext
from alphintra.risk.limits import LossLimits, RiskLimits, ScopeLimits
from alphintra.risk.loss_checks import max_quantity_under_volatility
from alphintra.risk.pretrade import check_order
from risk.builders import BTCUSD, T0, D, equity, hold, make_state, order

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ACME = equity("ACME")


def code(denial: object) -> str | None:
    return getattr(denial, "code", None)


def loss_context(
    equity_value: str, day_start: str | None = "100000", high: str | None = "100000"
) -> RiskContext:
    return RiskContext(
        now_ns=T0,
        prices={ACME.id: D(10)},
        equity=D(equity_value),
        day_start_equity=D(day_start) if day_start is not None else None,
        high_water_mark=D(high) if high is not None else None,
    )


@pytest.mark.parametrize(
    ("equity_value", "expected"),
    [("95000.01", None), ("95000", None), ("94999.99", "DAILY_LOSS_LIMIT")],
)
def test_daily_loss_amount_threshold_inclusive(equity_value: str, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_daily_loss=D(5000)))
    denial = check_order(
        order(ACME, BUY, 1, price="10"), ACME, state, limits, loss_context(equity_value)
    )
    assert code(denial) == expected


@pytest.mark.parametrize(
    ("equity_value", "expected"), [("98000", None), ("97999.99", "DAILY_LOSS_LIMIT")]
)
def test_daily_loss_fraction_of_day_start(equity_value: str, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_daily_loss_fraction=D("0.02")))
    denial = check_order(
        order(ACME, BUY, 1, price="10"), ACME, state, limits, loss_context(equity_value)
    )
    assert code(denial) == expected


def test_daily_loss_breached_risk_reducing_order_allowed() -> None:
    state = make_state([ACME])
    hold(state, ACME, "100", "10")
    limits = RiskLimits(loss=LossLimits(max_daily_loss=D(5000)))
    context = loss_context("90000")
    assert check_order(order(ACME, SELL, 100, price="10"), ACME, state, limits, context) is None
    denial = check_order(order(ACME, SELL, 101, price="10"), ACME, state, limits, context)
    assert code(denial) == "DAILY_LOSS_LIMIT"


def test_daily_loss_without_day_start_denied_unavailable() -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_daily_loss=D(5000)))
    context = loss_context("100000", day_start=None)
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "EQUITY_UNAVAILABLE"


def test_loss_limits_without_equity_denied_unavailable() -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_drawdown=D("0.1")))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, None)
    assert code(denial) == "EQUITY_UNAVAILABLE"


def test_loss_limits_lazy_equity_computed_once_per_check() -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_daily_loss=D(10), max_drawdown=D("0.5")))
    calls: list[int] = []

    def equity_now() -> Decimal:
        calls.append(1)
        return D(100_000)

    context = RiskContext(
        now_ns=T0, equity=equity_now, day_start_equity=D(100_000), high_water_mark=D(100_000)
    )
    assert check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context) is None
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("equity_value", "expected"),
    [("180000", None), ("179999.99", "MAX_DRAWDOWN")],
)
def test_drawdown_fraction_of_high_water_mark(equity_value: str, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_drawdown=D("0.1")))
    context = loss_context(equity_value, high="200000")
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == expected


@pytest.mark.parametrize(
    ("equity_value", "expected"), [("195000", None), ("194999.99", "MAX_DRAWDOWN")]
)
def test_drawdown_amount_below_high_water_mark(equity_value: str, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_drawdown_amount=D(5000)))
    context = loss_context(equity_value, high="200000")
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == expected


def test_drawdown_without_high_water_mark_denied_unavailable() -> None:
    state = make_state([ACME])
    limits = RiskLimits(loss=LossLimits(max_drawdown=D("0.1")))
    context = loss_context("100000", high=None)
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "EQUITY_UNAVAILABLE"


# Volatility -----------------------------------------------------------------------------


def vol_context(volatility: float | Decimal) -> RiskContext:
    return RiskContext(now_ns=T0, realized_vols={ACME.id: volatility, BTCUSD.id: volatility})


@pytest.mark.parametrize(
    ("volatility", "expected"),
    [
        (D("0.49"), None),
        (D("0.5"), None),
        (D("0.5000001"), "VOLATILITY_LIMIT"),
        (0.6, "VOLATILITY_LIMIT"),
    ],
)
def test_volatility_limit_threshold_inclusive(
    volatility: float | Decimal, expected: str | None
) -> None:
    state = make_state([ACME])
    limits = RiskLimits(max_volatility=D("0.5"))
    denial = check_order(
        order(ACME, BUY, 1, price="10"), ACME, state, limits, vol_context(volatility)
    )
    assert code(denial) == expected


def test_volatility_limit_reducing_order_allowed() -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    limits = RiskLimits(max_volatility=D("0.5"))
    context = vol_context(D(2))
    assert check_order(order(ACME, SELL, 10, price="10"), ACME, state, limits, context) is None
    denial = check_order(order(ACME, SELL, 11, price="10"), ACME, state, limits, context)
    assert code(denial) == "VOLATILITY_LIMIT"


def test_volatility_limit_asset_class_override() -> None:
    state = make_state([ACME, BTCUSD])
    limits = RiskLimits(
        max_volatility=D("0.5"),
        asset_classes={AssetClass.CRYPTO: ScopeLimits(max_volatility=D("1.5"))},
    )
    context = vol_context(D("1.0"))
    assert check_order(
        order(BTCUSD, BUY, "0.1", price="30000"), BTCUSD, state, limits, context
    ) is (None)
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "VOLATILITY_LIMIT"


def test_volatility_unknown_instrument_vol_allowed() -> None:
    state = make_state([ACME])
    limits = RiskLimits(max_volatility=D("0.5"))
    assert check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, RiskContext()) is None


@pytest.mark.parametrize(
    ("volatility", "expected"),
    [(D("0.2"), D(100)), (D("0.5"), D(100)), (D("1.0"), D(50)), (D("0.7"), D(71)), (3.0, D(16))],
)
def test_max_quantity_under_volatility_scales_down_to_lot(
    volatility: float | Decimal, expected: Decimal
) -> None:
    assert max_quantity_under_volatility(D(100), volatility, D("0.5"), ACME) == expected


def test_max_quantity_under_volatility_non_finite_vol_gives_zero() -> None:
    assert max_quantity_under_volatility(D(100), float("nan"), D("0.5"), ACME) == 0
