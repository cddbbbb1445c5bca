"""The buying-power (credit) check: cash, working orders, fees and margin rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderSide
from alphintra.domain.values import Currency
from alphintra.portfolio.fx import FxRates
from alphintra.risk.context import RiskContext
from alphintra.risk.limits import BuyingPowerLimits, RiskLimits
from alphintra.risk.pretrade import check_order
from risk.builders import T0, D, equity, hold, make_state, order, work

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ACME = equity("ACME")
OTHER = equity("OTHR")
EURO = equity("EURO", quote="EUR")


def code(denial: object) -> str | None:
    return getattr(denial, "code", None)


def ctx(state: AccountState, mark: str = "100") -> RiskContext:
    state.marks[ACME.id] = D(mark)
    return RiskContext(
        now_ns=T0, prices=state.marks, instruments={ACME.id: ACME, OTHER.id: OTHER}.get
    )


def cash_account(amount: str = "10000", **rates: Decimal) -> tuple[AccountState, RiskLimits]:
    return (
        make_state([ACME, OTHER], {"USD": D(amount)}),
        RiskLimits(buying_power=BuyingPowerLimits(**rates)),
    )


@pytest.mark.parametrize(
    ("price", "expected"),
    [("99.99", None), ("100.00", None), ("100.01", "INSUFFICIENT_BUYING_POWER")],
)
def test_buying_power_cash_covers_limit_buy_notional(price: str, expected: str | None) -> None:
    state, limits = cash_account()
    denial = check_order(order(ACME, BUY, 100, price=price), ACME, state, limits, ctx(state))
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(50, None), (51, "INSUFFICIENT_BUYING_POWER")])
def test_buying_power_working_buys_reserve_cash(quantity: int, expected: str | None) -> None:
    state, limits = cash_account()
    work(state, order(ACME, BUY, 30, price="100"))
    work(state, order(OTHER, BUY, 40, price="50"))  # 2,000
    # 10,000 - 3,000 - 2,000 = 5,000 left for ACME at 100
    denial = check_order(order(ACME, BUY, quantity, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(99, None), (100, "INSUFFICIENT_BUYING_POWER")])
def test_buying_power_estimated_fee_counts(quantity: int, expected: str | None) -> None:
    state, limits = cash_account(fee_rate=D("0.001"))
    # 99 × 100 × 1.001 = 9,909.9 <= 10,000 < 100 × 100 × 1.001 = 10,010
    denial = check_order(order(ACME, BUY, quantity, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == expected


def test_buying_power_fee_exactly_exhausts_cash_allowed() -> None:
    state, limits = cash_account("10010", fee_rate=D("0.001"))
    assert check_order(order(ACME, BUY, 100, price="100"), ACME, state, limits, ctx(state)) is None
    state, limits = cash_account("10009.99", fee_rate=D("0.001"))
    denial = check_order(order(ACME, BUY, 100, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


def test_buying_power_market_buy_valued_at_mark() -> None:
    state, limits = cash_account()
    assert check_order(order(ACME, BUY, 100), ACME, state, limits, ctx(state, "100")) is None
    denial = check_order(order(ACME, BUY, 100), ACME, state, limits, ctx(state, "100.01"))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


def test_buying_power_market_buy_without_price_denied_unavailable() -> None:
    state, limits = cash_account()
    context = RiskContext(now_ns=T0, prices={})
    denial = check_order(order(ACME, BUY, 1), ACME, state, limits, context)
    assert code(denial) == "PRICE_UNAVAILABLE"


def test_buying_power_sell_closing_long_needs_nothing() -> None:
    state, limits = cash_account("10000")
    hold(state, ACME, "100", "100")  # all cash spent
    assert check_order(order(ACME, SELL, 100, price="100"), ACME, state, limits, ctx(state)) is None
    denial = check_order(order(ACME, BUY, 1, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


@pytest.mark.parametrize(
    ("quantity", "expected"), [(200, None), (201, "INSUFFICIENT_BUYING_POWER")]
)
def test_buying_power_short_needs_margin_rate(quantity: int, expected: str | None) -> None:
    state, limits = cash_account(short_margin_rate=D("0.5"))
    # A short at the mark needs 0.5 × 100 per unit: 10,000 covers 200.
    denial = check_order(order(ACME, SELL, quantity, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == expected


def test_buying_power_existing_short_ties_up_collateral() -> None:
    state, limits = cash_account(short_margin_rate=D("0.5"))
    hold(state, ACME, "-100", "100")  # cash 20,000; collateral 1.5 × 10,000
    # free = 20,000 - 10,000 - 5,000 = 5,000
    assert check_order(order(ACME, BUY, 150, price="100"), ACME, state, limits, ctx(state)) is None
    # 100 covers the short (releasing margin), the other 51 × 100 need 5,100.
    denial = check_order(order(ACME, BUY, 151, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


def test_buying_power_cover_short_allowed_without_free_margin() -> None:
    state, limits = cash_account("0", short_margin_rate=D("0.5"))
    hold(state, ACME, "-100", "100")  # free = 10,000 - 10,000 - 5,000 < 0
    assert check_order(order(ACME, BUY, 100, price="100"), ACME, state, limits, ctx(state)) is None
    denial = check_order(order(ACME, SELL, 1, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


def test_buying_power_long_margin_rate_below_one_is_leverage() -> None:
    state, limits = cash_account(long_margin_rate=D("0.2"))
    # 10,000 / (0.2 × 100) = 500 units.
    assert check_order(order(ACME, BUY, 500), ACME, state, limits, ctx(state)) is None
    denial = check_order(order(ACME, BUY, 501), ACME, state, limits, ctx(state))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


def test_buying_power_buy_above_mark_charged_the_premium() -> None:
    state, limits = cash_account(long_margin_rate=D("0.5"))
    # Per unit: 0.5 × 100 + (110 - 100) = 60; 10,000 / 60 = 166.67.
    assert check_order(order(ACME, BUY, 166, price="110"), ACME, state, limits, ctx(state)) is None
    denial = check_order(order(ACME, BUY, 167, price="110"), ACME, state, limits, ctx(state))
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"


def test_buying_power_negative_cash_without_rate_denied_unavailable() -> None:
    state = make_state([ACME, EURO], {"USD": D(10_000), "EUR": D(-5)})
    limits = RiskLimits(buying_power=BuyingPowerLimits())
    denial = check_order(order(ACME, BUY, 1, price="100"), ACME, state, limits, ctx(state))
    assert code(denial) == "FX_RATE_UNAVAILABLE"


def test_buying_power_foreign_cash_converted_when_rate_known() -> None:
    state = make_state([ACME, EURO], {"USD": D(0), "EUR": D(10_000)})
    limits = RiskLimits(buying_power=BuyingPowerLimits())
    rates = FxRates()
    rates.update(Currency("EUR"), Currency("USD"), D("1.1"))
    state.marks[ACME.id] = D(100)
    context = RiskContext(now_ns=T0, prices=state.marks, fx=rates.convert)
    assert check_order(order(ACME, BUY, 110, price="100"), ACME, state, limits, context) is None
    denial = check_order(order(ACME, BUY, 111, price="100"), ACME, state, limits, context)
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"
    # Without the rate the EUR cash counts as nothing.
    bare = RiskContext(now_ns=T0, prices=state.marks)
    denial = check_order(order(ACME, BUY, 1, price="100"), ACME, state, limits, bare)
    assert code(denial) == "INSUFFICIENT_BUYING_POWER"
