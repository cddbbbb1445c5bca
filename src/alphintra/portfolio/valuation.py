"""Portfolio valuation in the account's base currency.

Amounts in a currency with no known rate are reported unconverted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.values import ONE, ZERO, Currency
from alphintra.portfolio.fx import FxRates


@dataclass(frozen=True, slots=True)
class PortfolioValue:
    """A valuation at one instant. Base-currency totals exclude ``unconverted`` amounts."""

    currency: Currency
    cash: Decimal
    positions_value: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    unconverted: dict[Currency, Decimal] = field(default_factory=dict)
    """Per currency: amounts (cash plus position value) that could not be converted."""

    @property
    def total(self) -> Decimal:
        """Return cash plus positions value, in the base currency."""
        return self.cash + self.positions_value


def value_account(state: AccountState, fx: FxRates) -> PortfolioValue:
    """Value ``state`` at its current marks; positions without a mark use their cost."""
    base = state.base_currency
    unconverted: dict[Currency, Decimal] = {}

    def to_base(amount: Decimal, currency: Currency) -> Decimal:
        if not amount:
            return ZERO
        converted = fx.convert(amount, currency, base)
        if converted is None:
            unconverted[currency] = unconverted.get(currency, ZERO) + amount
            return ZERO
        return converted

    cash = sum((to_base(a, c) for c, a in state.cash.items()), ZERO)
    positions_value = realized = unrealized = ZERO
    for instrument_id, position in state.positions.items():
        currency = position.currency
        realized += fx.convert(position.realized_pnl, currency, base) or ZERO
        if not position.quantity:
            continue
        mark = state.marks.get(instrument_id)
        if mark is None:
            mark = position.open_cost / position.quantity
        positions_value += to_base(position.market_value(mark), currency)
        unrealized += fx.convert(position.unrealized_pnl(mark), currency, base) or ZERO
    fees = ZERO
    for currency, amount in state.fees.items():
        converted = fx.convert(amount, currency, base)
        if converted is not None:
            fees += converted
    return PortfolioValue(
        currency=base,
        cash=cash,
        positions_value=positions_value,
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        fees=fees,
        unconverted=unconverted,
    )


def account_equity(state: AccountState, fx: FxRates) -> Decimal:
    """Return ``value_account(state, fx).total``, computed without the P&L breakdown.

    The same conversions and additions in the same order, so the result is the same
    Decimal; only the realised and unrealised P&L and the fees are not worked out.
    """
    base = state.base_currency
    rates: dict[Currency, Decimal | None] | None = None  # other currencies' (fx.rate)
    cash = ZERO
    for currency, amount in state.cash.items():
        if not amount:
            cash += ZERO
            continue
        if currency == base:
            rate: Decimal | None = ONE  # fx.rate(base, base) is ONE
        else:
            if rates is None:
                rates = {}
            rate = rates.get(currency, _UNKNOWN)
            if rate is _UNKNOWN:
                rate = rates[currency] = fx.rate(currency, base)
        cash += ZERO if rate is None else amount * rate
    positions_value = ZERO
    marks = state.marks
    for instrument_id, position in state.positions.items():
        quantity = position.quantity
        if not quantity:
            continue
        mark = marks.get(instrument_id)
        if mark is None:
            mark = position.open_cost / quantity
        amount = quantity * mark * position.multiplier
        if not amount:
            positions_value += ZERO
            continue
        currency = position.currency
        if currency == base:
            rate = ONE
        else:
            if rates is None:
                rates = {}
            rate = rates.get(currency, _UNKNOWN)
            if rate is _UNKNOWN:
                rate = rates[currency] = fx.rate(currency, base)
        positions_value += ZERO if rate is None else amount * rate
    return cash + positions_value


_UNKNOWN: Final = Decimal("NaN")
"""A marker: no rate looked up yet (NaN is never a rate)."""
