"""Position and portfolio checks: position size, gross and net exposure, leverage,
concentration and correlated clusters.

Every figure counts working orders in the worst case (`alphintra.risk.books`). A
check denies only an order that takes a figure beyond its limit *and* makes it worse:
an order that leaves the worst case unchanged or smaller passes even when the figure
is already beyond the limit (after a price move, or a lowered limit), so that risk can
always be reduced.

Instrument positions are valued at their reference price (the mark; else the
position's average price; else the highest working order price). Portfolio figures
are in the base currency; prices are taken as magnitudes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.values import ZERO
from alphintra.risk.books import InstrumentBook, Valuation
from alphintra.risk.denial import (
    CORRELATION_CLUSTER,
    MAX_GROSS_EXPOSURE,
    MAX_LEVERAGE,
    MAX_NET_EXPOSURE,
    MAX_POSITION_NOTIONAL,
    MAX_POSITION_QUANTITY,
    Denial,
)
from alphintra.risk.limits import CorrelationLimits


def check_position_quantity(
    instrument_id: InstrumentId,
    side: OrderSide,
    reach_before: Decimal,
    reach_after: Decimal,
    limit: Decimal,
) -> Denial | None:
    """Deny when the worst absolute position on the order's side (``side_reach``) would
    exceed ``limit``."""
    if reach_after > limit and reach_after > reach_before:
        signed = reach_after if side is OrderSide.BUY else -reach_after
        return Denial(
            MAX_POSITION_QUANTITY,
            f"{instrument_id} position could reach {signed} with the working orders, over "
            f"the limit {limit}",
        )
    return None


def check_position_notional(
    instrument: Instrument,
    side: OrderSide,
    reach_before: Decimal,
    reach_after: Decimal,
    price: Decimal,
    limit: Decimal,
) -> Denial | None:
    """Deny when the worst position's quote-currency notional at ``price`` would exceed
    ``limit``."""
    unit = abs(price) * instrument.multiplier
    notional = reach_after * unit
    if notional > limit and notional > reach_before * unit:
        signed = reach_after if side is OrderSide.BUY else -reach_after
        return Denial(
            MAX_POSITION_NOTIONAL,
            f"{instrument.id} position notional could reach {notional} "
            f"{instrument.quote_currency} (position {signed} with the working orders, at "
            f"{price}), over the limit {limit}",
        )
    return None


def unit_values(
    books: Mapping[InstrumentId, InstrumentBook], valuation: Valuation
) -> dict[InstrumentId, Decimal] | Denial:
    """Return each instrument's base-currency value per unit (a magnitude)."""
    values: dict[InstrumentId, Decimal] = {}
    for instrument_id, book in books.items():
        value = valuation.unit_value(book)
        if isinstance(value, Denial):
            return value
        values[instrument_id] = abs(value)
    return values


@dataclass(frozen=True, slots=True)
class PortfolioExposure:
    """Worst-case exposure in the base currency, without and with the order.

    ``net_high`` is the net exposure if every working buy fills and no sell does;
    ``net_low`` the reverse.
    """

    gross_before: Decimal
    gross_after: Decimal
    net_high_before: Decimal
    net_high_after: Decimal
    net_low_before: Decimal
    net_low_after: Decimal


def gross_by_instrument(
    books: Mapping[InstrumentId, InstrumentBook], values: Mapping[InstrumentId, Decimal]
) -> dict[InstrumentId, Decimal]:
    """Return each instrument's worst-case gross exposure (worst position × unit value)."""
    return {
        instrument_id: book.worst * values[instrument_id] for instrument_id, book in books.items()
    }


def measure_portfolio(
    books: Mapping[InstrumentId, InstrumentBook],
    values: Mapping[InstrumentId, Decimal],
    gross: Mapping[InstrumentId, Decimal],
    own_after: InstrumentBook,
) -> PortfolioExposure:
    """Return the portfolio's worst-case exposure; ``own_after`` replaces its book.

    ``gross`` is `gross_by_instrument` of ``books``.
    """
    high = low = ZERO
    for instrument_id, book in books.items():
        value = values[instrument_id]
        high += book.high * value
        low += book.low * value
    total = sum(gross.values(), ZERO)
    own_id = own_after.instrument_id
    own = books[own_id]
    value = values[own_id]
    return PortfolioExposure(
        total,
        total - gross[own_id] + own_after.worst * value,
        high,
        high + (own_after.high - own.high) * value,
        low,
        low + (own_after.low - own.low) * value,
    )


def group_exposure(
    gross: Mapping[InstrumentId, Decimal],
    own_id: InstrumentId,
    own_after: Decimal,
    member: Callable[[InstrumentId], bool],
) -> tuple[Decimal, Decimal]:
    """Return the worst-case gross exposure of the instruments ``member`` selects, without
    and with the order; ``own_after`` is the order instrument's gross with the order (the
    instrument must be a member)."""
    total = ZERO
    for instrument_id, amount in gross.items():
        if member(instrument_id):
            total += amount
    return total, total - gross[own_id] + own_after


def check_gross_exposure(exposure: PortfolioExposure, limit: Decimal) -> Denial | None:
    """Deny when worst-case gross exposure would exceed ``limit``."""
    after = exposure.gross_after
    if after > limit and after > exposure.gross_before:
        return Denial(
            MAX_GROSS_EXPOSURE,
            f"gross exposure could reach {after} (from {exposure.gross_before}) with working "
            f"orders, over the limit {limit}",
        )
    return None


def check_net_exposure(
    exposure: PortfolioExposure, side: OrderSide, limit: Decimal
) -> Denial | None:
    """Deny when worst-case net exposure, on the order's side, would exceed ``limit``."""
    if side is OrderSide.BUY:
        after, before = exposure.net_high_after, exposure.net_high_before
    else:
        after, before = -exposure.net_low_after, -exposure.net_low_before
    if after > limit and after > before:
        return Denial(
            MAX_NET_EXPOSURE,
            f"net {'long' if side is OrderSide.BUY else 'short'} exposure could reach {after} "
            f"(from {before}) with working orders, over the limit {limit}",
        )
    return None


def check_leverage(exposure: PortfolioExposure, equity: Decimal, limit: Decimal) -> Denial | None:
    """Deny when worst-case gross exposure / equity would exceed ``limit``."""
    after = exposure.gross_after
    if after <= exposure.gross_before:
        return None
    if equity <= 0:
        return Denial(
            MAX_LEVERAGE,
            f"equity {equity} is not positive: exposure may not grow (gross exposure could "
            f"reach {after})",
        )
    if after > limit * equity:
        return Denial(
            MAX_LEVERAGE,
            f"leverage could reach {after / equity:.6f} (gross exposure {after}, equity "
            f"{equity}), over the limit {limit}",
        )
    return None


def check_concentration(
    code: str, group: str, before: Decimal, after: Decimal, equity: Decimal, limit: Decimal
) -> Denial | None:
    """Deny when a group's worst-case gross exposure would exceed ``limit`` × equity."""
    if after <= before:
        return None
    if equity <= 0:
        return Denial(
            code, f"equity {equity} is not positive: exposure to {group} may not grow to {after}"
        )
    if after > equity * limit:
        return Denial(
            code,
            f"exposure to {group} could reach {after}, {after / equity:.6f} of equity {equity}, "
            f"over the limit {limit}",
        )
    return None


def check_cluster(
    cluster: frozenset[InstrumentId],
    threshold: float,
    before: Decimal,
    after: Decimal,
    limits: CorrelationLimits,
    equity: Decimal | None,
) -> Denial | None:
    """Deny when a correlated cluster's worst-case gross exposure would exceed its cap.

    ``equity`` is needed only for ``max_cluster_fraction``.
    """
    if after <= before:
        return None
    names = ", ".join(sorted(cluster))
    cap = limits.max_cluster_exposure
    if cap is not None and after > cap:
        return Denial(
            CORRELATION_CLUSTER,
            f"exposure to the cluster {{{names}}} (correlation >= {threshold}) could reach "
            f"{after}, over the limit {cap}",
        )
    fraction = limits.max_cluster_fraction
    if fraction is not None and equity is not None and (equity <= 0 or after > equity * fraction):
        return Denial(
            CORRELATION_CLUSTER,
            f"exposure to the cluster {{{names}}} (correlation >= {threshold}) could reach "
            f"{after}, over the limit of {fraction} of equity {equity}",
        )
    return None
