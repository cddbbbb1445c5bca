"""Portfolio valuation in the account's base currency.

Amounts in a currency with no known rate are reported unconverted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.identifiers import InstrumentId
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


class EquityTracker:
    """``account_equity`` of one account, kept cheap between changes of cash or positions.

    While every non-zero cash amount is in the base currency and at most one position
    is open, in the base currency too, equity depends only on that position's mark:
    the cash sum is kept per ``cash_version`` and each call repeats, for the current
    mark, the very Decimal operations `account_equity` does for the position (so the
    result is the same Decimal, to the exponent, rounding included). Anything else (cash
    or a position in another currency, whose rate can move with any tick; several open
    positions) is valued in full.
    """

    __slots__ = ("_cash", "_held", "_key", "_multiplier", "_quantity", "_simple")

    def __init__(self) -> None:
        self._key: tuple[AccountState, int, Currency] | None = None
        self._simple = False
        self._cash = ZERO
        self._held: InstrumentId | None = None
        self._quantity = ZERO
        self._multiplier = ONE

    def equity(self, state: AccountState, fx: FxRates) -> Decimal:
        """Return ``account_equity(state, fx)``."""
        key = self._key
        if (
            key is None
            or key[1] != state.cash_version
            or key[0] is not state
            or key[2] != state.base_currency
        ):
            self._rebuild(state)
        if not self._simple:
            return account_equity(state, fx)
        held = self._held
        if held is None:
            return self._cash + ZERO  # as `cash + positions_value` with no position
        quantity = self._quantity
        mark = state.marks.get(held)
        if mark is None:
            mark = state.positions[held].open_cost / quantity
        amount = quantity * mark * self._multiplier
        return self._cash + (ZERO + amount * ONE if amount else ZERO + ZERO)

    def _rebuild(self, state: AccountState) -> None:
        base = state.base_currency
        self._key = (state, state.cash_version, base)
        self._simple = False
        cash = ZERO
        for currency, amount in state.cash.items():  # as `account_equity`, in base only
            if not amount:
                cash += ZERO
                continue
            if currency != base:
                return
            cash += amount * ONE
        held: InstrumentId | None = None
        for instrument_id, position in state.positions.items():
            if not position.quantity:
                continue
            if held is not None or position.currency != base:
                return
            held = instrument_id
            self._quantity = position.quantity
            self._multiplier = position.multiplier
        self._cash = cash
        self._held = held
        self._simple = True
