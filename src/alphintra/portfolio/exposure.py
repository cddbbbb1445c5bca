"""Exposure of an account's positions by sector and asset class, and its leverage.

Every amount is an exact ``Decimal`` in the account's base currency. A position's
exposure is its signed market value, quantity × mark × multiplier (negative when
short), converted from the instrument's quote currency with the caller's fx
conversion. Gross exposure sums absolute values, net exposure sums signed values.
Equity is cash plus net exposure, exactly as `alphintra.portfolio.valuation` values an
account. Leverage is gross exposure / equity.

Every function here is pure: no I/O, no clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Final, TypeVar

from alphintra.domain.account import AccountState
from alphintra.domain.enums import AssetClass
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.values import ZERO, Currency

FxConvert = Callable[[Decimal, Currency, Currency], Decimal | None]
"""Convert ``(amount, source, target)``; return None when no rate is known.

`alphintra.portfolio.fx.FxRates.convert` has this shape.
"""

InstrumentLookup = Callable[[InstrumentId], Instrument]
"""Return the instrument (asset class, sector) for an id, for example ``registry.get``."""

UNCLASSIFIED_SECTOR: Final = "UNCLASSIFIED"
"""The sector key of instruments whose metadata names no sector."""

G = TypeVar("G", bound=Hashable)

_CONTEXT: Final = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class MissingFxRateError(ValueError):
    """An amount could not be converted into the base currency: no rate is known."""


@dataclass(frozen=True, slots=True)
class Exposure:
    """Gross (sum of absolute values) and net (signed sum) exposure, base currency."""

    gross: Decimal
    net: Decimal

    @property
    def long(self) -> Decimal:
        """Return the exposure of the long positions (non-negative)."""
        return (self.gross + self.net) / 2

    @property
    def short(self) -> Decimal:
        """Return the absolute exposure of the short positions (non-negative)."""
        return (self.gross - self.net) / 2


@dataclass(frozen=True, slots=True)
class PositionExposure:
    """One open position's exposure.

    ``mark`` is None when the account has no mark for the instrument; the position is
    then valued at cost (its signed open cost × multiplier), as the valuation does.
    """

    instrument_id: InstrumentId
    asset_class: AssetClass
    sector: str
    quantity: Decimal
    mark: Decimal | None
    quote_currency: Currency
    quote_value: Decimal
    """Signed market value in the quote currency."""
    value: Decimal
    """Signed market value in the base currency."""


@dataclass(frozen=True, slots=True)
class AccountExposure:
    """Exposure of all open positions, with the equity and leverage they imply.

    ``leverage`` is ``total.gross / equity`` rounded to 34 significant digits (exact
    whenever the quotient fits), or None when equity is not positive.
    """

    currency: Currency
    positions: tuple[PositionExposure, ...]
    """Open positions, ordered by instrument id."""
    total: Exposure
    by_sector: Mapping[str, Exposure]
    by_asset_class: Mapping[AssetClass, Exposure]
    cash: Decimal
    equity: Decimal
    leverage: Decimal | None

    def weights(self) -> dict[InstrumentId, Decimal] | None:
        """Return each position's signed value / equity (34 digits), or None unless equity > 0."""
        if self.equity <= ZERO:
            return None
        return {p.instrument_id: _CONTEXT.divide(p.value, self.equity) for p in self.positions}


def account_exposure(
    state: AccountState, instrument_of: InstrumentLookup, convert: FxConvert
) -> AccountExposure:
    """Return the exposure, equity and leverage of ``state`` at its current marks.

    Sectors come from ``Instrument.sector`` (`UNCLASSIFIED_SECTOR` when None) and asset
    classes from ``Instrument.asset_class``. Flat positions are left out. Raise
    `MissingFxRateError` when a cash balance or a position's value cannot be converted
    into the base currency: a risk figure that silently dropped an amount would
    understate the risk.
    """
    base = state.base_currency
    positions: list[PositionExposure] = []
    for instrument_id in sorted(state.positions):
        position = state.positions[instrument_id]
        if not position.quantity:
            continue
        instrument = instrument_of(instrument_id)
        mark = state.marks.get(instrument_id)
        quote_value = (
            position.market_value(mark)
            if mark is not None
            else position.open_cost * position.multiplier
        )
        value = _to_base(quote_value, position.currency, base, convert, f"position {instrument_id}")
        positions.append(
            PositionExposure(
                instrument_id=instrument_id,
                asset_class=instrument.asset_class,
                sector=instrument.sector if instrument.sector is not None else UNCLASSIFIED_SECTOR,
                quantity=position.quantity,
                mark=mark,
                quote_currency=position.currency,
                quote_value=quote_value,
                value=value,
            )
        )
    cash = sum(
        (
            _to_base(amount, currency, base, convert, f"cash in {currency}")
            for currency, amount in sorted(state.cash.items())
        ),
        ZERO,
    )
    total = _sum_exposure(p.value for p in positions)
    equity = cash + total.net
    return AccountExposure(
        currency=base,
        positions=tuple(positions),
        total=total,
        by_sector=_group(positions, lambda p: p.sector),
        by_asset_class=_group(positions, lambda p: p.asset_class),
        cash=cash,
        equity=equity,
        leverage=leverage(total.gross, equity),
    )


def leverage(gross_exposure: Decimal, equity: Decimal) -> Decimal | None:
    """Return ``gross_exposure / equity`` to 34 significant digits; None unless equity > 0."""
    if equity <= ZERO:
        return None
    return _CONTEXT.divide(gross_exposure, equity)


def _to_base(
    amount: Decimal, currency: Currency, base: Currency, convert: FxConvert, what: str
) -> Decimal:
    if currency == base:
        return amount
    if not amount:
        return ZERO
    converted = convert(amount, currency, base)
    if converted is None:
        raise MissingFxRateError(
            f"{what}: no fx rate from {currency} to the base currency {base} "
            f"(amount {amount} {currency})"
        )
    return converted


def _sum_exposure(values: Iterable[Decimal]) -> Exposure:
    gross = net = ZERO
    for value in values:
        gross += abs(value)
        net += value
    return Exposure(gross=gross, net=net)


def _group(
    positions: list[PositionExposure], key: Callable[[PositionExposure], G]
) -> dict[G, Exposure]:
    values: dict[G, list[Decimal]] = {}
    for position in positions:
        values.setdefault(key(position), []).append(position.value)
    return {group: _sum_exposure(values[group]) for group in sorted(values, key=str)}
