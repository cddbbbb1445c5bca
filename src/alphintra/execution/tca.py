"""Best-execution reports and transaction-cost analysis over `OrderQuality` records.

Best execution
--------------
`best_execution_report` groups orders by instrument and by (venue, instrument). A
venue row covers each order's *slice* on that venue: its fills there. The slice's
slippage is ``s (P_v - A) / A`` in bps (``P_v`` the slice's average price, ``A`` the
order's arrival mid; the quantity-weighted mean of its fills' slippage), and its
execution time runs from the order's arrival to its last fill on the venue. An
instrument row covers whole orders, unfilled ones included (they count in
``order_count`` and ``fill_rate`` and have no slippage). The price improvement rate
is the fraction of fills that beat the far side of the arrival quote. The venue
breakdown is each venue's share of the instrument's filled quantity.

Percentiles interpolate linearly between closest ranks: for sorted ``x_0..x_{n-1}``
and fraction ``p``, ``h = (n - 1) p`` and the percentile is ``x_⌊h⌋ + (h - ⌊h⌋)
(x_⌊h⌋+1 - x_⌊h⌋)`` (numpy's default, Hyndman and Fan type 7).

Transaction-cost analysis
-------------------------
`cost_analysis` sums, over the fills of the selected orders, the decomposition of
`alphintra.execution.quality` (positive = cost)::

    spread  = Σ s q (P - m) x     fill price against the mid prevailing at the fill
    impact  = Σ s q (m - A) x     mid move from the order's arrival to the fill
    timing  = Σ s q (A - D) x     mid move from the decision (signal) to arrival
    fees    = Σ fee
    implementation shortfall = spread + impact + timing + fees = Σ s q (P - D) x + fees

The money sums are exact, so the four terms add up to the shortfall to the last
digit. Basis points are of the decision notional ``Σ D q x`` and are rounded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, VenueId
from alphintra.domain.values import Currency
from alphintra.execution.quality import MONEY, RATIO, FillQuality, OrderQuality

_ZERO: Final = Decimal(0)
_BPS: Final = Decimal(10_000)
P50: Final = Decimal("0.5")
P90: Final = Decimal("0.9")
P99: Final = Decimal("0.99")


def percentile(values: Sequence[Decimal], fraction: Decimal) -> Decimal:
    """Return the ``fraction`` percentile (0..1) by linear interpolation (see module doc)."""
    if not values:
        raise ValueError("percentile of no values is undefined")
    if not 0 <= fraction <= 1:
        raise ValueError(f"percentile fraction must be in [0, 1], got {fraction}")
    ordered = sorted(values)
    rank = RATIO.multiply(Decimal(len(ordered) - 1), fraction)
    low = int(rank)
    if low == len(ordered) - 1:
        return ordered[low]
    weight = RATIO.subtract(rank, Decimal(low))
    step = RATIO.subtract(ordered[low + 1], ordered[low])
    return RATIO.add(ordered[low], RATIO.multiply(weight, step))


def _mean(values: Sequence[Decimal]) -> Decimal:
    total = _ZERO
    for value in values:
        total = RATIO.add(total, value)
    return RATIO.divide(total, Decimal(len(values)))


@dataclass(frozen=True, slots=True)
class Distribution:
    """Count, mean and the 50th, 90th and 99th percentiles of a sample (None when empty)."""

    count: int
    mean: Decimal | None
    p50: Decimal | None
    p90: Decimal | None
    p99: Decimal | None

    @classmethod
    def of(cls, values: Sequence[Decimal]) -> Distribution:
        """Summarise ``values``."""
        if not values:
            return cls(0, None, None, None, None)
        return cls(
            len(values),
            _mean(values),
            percentile(values, P50),
            percentile(values, P90),
            percentile(values, P99),
        )


@dataclass(frozen=True, slots=True)
class ExecutionStats:
    """Best-execution figures for one instrument (``venue`` None) or one venue of it.

    ``slippage_bps`` is vs the arrival mid; ``execution_time_ns`` from arrival to the
    last fill. ``quantity_share`` is the venue's share of the instrument's filled
    quantity (1 on an instrument row). ``fill_rate`` (filled / ordered over all
    orders) is given on instrument rows only.
    """

    instrument_id: InstrumentId
    venue: VenueId | None
    order_count: int
    fill_count: int
    filled_quantity: Decimal
    filled_notional: Decimal
    quantity_share: Decimal | None
    slippage_bps: Distribution
    execution_time_ns: Distribution
    price_improvement_rate: Decimal | None
    fill_rate: Decimal | None


@dataclass(frozen=True, slots=True)
class BestExecutionReport:
    """Instrument rows (all venues) and venue rows, each sorted by instrument then venue."""

    instruments: tuple[ExecutionStats, ...]
    venues: tuple[ExecutionStats, ...]

    def venue_breakdown(self, instrument_id: InstrumentId) -> dict[VenueId, Decimal | None]:
        """Return each venue's share of ``instrument_id``'s filled quantity."""
        return {
            row.venue: row.quantity_share
            for row in self.venues
            if row.instrument_id == instrument_id and row.venue is not None
        }


def _money(values: Iterable[Decimal]) -> Decimal:
    total = _ZERO
    for value in values:
        total = MONEY.add(total, value)
    return total


def _notional(price: Decimal, quantity: Decimal, multiplier: Decimal) -> Decimal:
    return MONEY.multiply(MONEY.multiply(price, quantity), multiplier)


def _improvement_rate(fills: Sequence[FillQuality]) -> Decimal | None:
    if not fills:
        return None
    return RATIO.divide(Decimal(sum(f.improved for f in fills)), Decimal(len(fills)))


def _instrument_row(orders: Sequence[OrderQuality]) -> ExecutionStats:
    fills = [f for order in orders for f in order.fills]
    ordered = _money(o.ordered_quantity for o in orders)
    filled = _money(o.filled_quantity for o in orders)
    return ExecutionStats(
        instrument_id=orders[0].instrument_id,
        venue=None,
        order_count=len(orders),
        fill_count=len(fills),
        filled_quantity=filled,
        filled_notional=_money(o.filled_notional for o in orders),
        quantity_share=Decimal(1) if filled > 0 else None,
        slippage_bps=Distribution.of(
            [o.slippage_bps for o in orders if o.slippage_bps is not None]
        ),
        execution_time_ns=Distribution.of(
            [Decimal(o.execution_time_ns) for o in orders if o.execution_time_ns is not None]
        ),
        price_improvement_rate=_improvement_rate(fills),
        fill_rate=RATIO.divide(filled, ordered),
    )


def _venue_row(
    venue: VenueId, slices: Sequence[tuple[OrderQuality, list[FillQuality]]], total: Decimal
) -> ExecutionStats:
    slippages, times, fills = [], [], []
    for order, own in slices:
        quantity = _money(f.quantity for f in own)
        weighted = _money(MONEY.multiply(f.slippage_bps, f.quantity) for f in own)
        slippages.append(RATIO.divide(weighted, quantity))
        times.append(Decimal(max(f.ts for f in own) - order.arrival_ts))
        fills.extend(own)
    filled = _money(f.quantity for f in fills)
    notional = _money(
        _notional(f.price, f.quantity, order.multiplier) for order, own in slices for f in own
    )
    return ExecutionStats(
        instrument_id=slices[0][0].instrument_id,
        venue=venue,
        order_count=len(slices),
        fill_count=len(fills),
        filled_quantity=filled,
        filled_notional=notional,
        quantity_share=RATIO.divide(filled, total) if total > 0 else None,
        slippage_bps=Distribution.of(slippages),
        execution_time_ns=Distribution.of(times),
        price_improvement_rate=_improvement_rate(fills),
        fill_rate=None,
    )


def best_execution_report(orders: Iterable[OrderQuality]) -> BestExecutionReport:
    """Return best-execution statistics per instrument and per (venue, instrument).

    Fills without a venue are grouped under the venue ``"UNKNOWN"``.
    """
    by_instrument: dict[InstrumentId, list[OrderQuality]] = defaultdict(list)
    for order in orders:
        by_instrument[order.instrument_id].append(order)
    instrument_rows: list[ExecutionStats] = []
    venue_rows: list[ExecutionStats] = []
    for instrument in sorted(by_instrument):
        group = by_instrument[instrument]
        row = _instrument_row(group)
        instrument_rows.append(row)
        slices: dict[VenueId, list[tuple[OrderQuality, list[FillQuality]]]] = defaultdict(list)
        for order in group:
            own: dict[VenueId, list[FillQuality]] = defaultdict(list)
            for fill in order.fills:
                own[fill.venue or VenueId("UNKNOWN")].append(fill)
            for venue, fills in own.items():
                slices[venue].append((order, fills))
        venue_rows.extend(
            _venue_row(venue, slices[venue], row.filled_quantity) for venue in sorted(slices)
        )
    return BestExecutionReport(tuple(instrument_rows), tuple(venue_rows))


# --- transaction-cost analysis ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CostFilter:
    """Which orders a cost analysis covers: arrival in ``[start_ts, end_ts)`` and the rest equal.

    A field left None does not filter.
    """

    start_ts: int | None = None
    end_ts: int | None = None
    account_id: AccountId | None = None
    model_id: ModelId | None = None
    strategy: str | None = None
    instrument_id: InstrumentId | None = None

    def admits(self, order: OrderQuality) -> bool:
        """Return True when ``order`` passes every filter that is set."""
        return (
            (self.start_ts is None or order.arrival_ts >= self.start_ts)
            and (self.end_ts is None or order.arrival_ts < self.end_ts)
            and (self.account_id is None or order.account_id == self.account_id)
            and (self.model_id is None or order.model_id == self.model_id)
            and (self.strategy is None or order.strategy == self.strategy)
            and (self.instrument_id is None or order.instrument_id == self.instrument_id)
        )


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Implementation shortfall and its four terms, in ``currency`` and in bps.

    ``spread + impact + timing + fees == implementation_shortfall`` exactly. Bps are
    of ``decision_notional`` and None when it is zero. ``opportunity_cost`` sums the
    unfilled quantity's cost over the orders where it is known; it is not part of the
    shortfall.
    """

    currency: Currency | None
    order_count: int
    fill_count: int
    filled_notional: Decimal
    decision_notional: Decimal
    spread: Decimal
    impact: Decimal
    timing: Decimal
    fees: Decimal
    implementation_shortfall: Decimal
    opportunity_cost: Decimal
    spread_bps: Decimal | None
    impact_bps: Decimal | None
    timing_bps: Decimal | None
    fees_bps: Decimal | None
    implementation_shortfall_bps: Decimal | None


def _bps(amount: Decimal, notional: Decimal) -> Decimal | None:
    return RATIO.divide(RATIO.multiply(amount, _BPS), notional) if notional else None


def _breakdown(pairs: Sequence[tuple[OrderQuality, FillQuality | None]]) -> CostBreakdown:
    """Sum the terms over (order, fill) pairs; a None fill stands for an unfilled order."""
    currencies = sorted({order.currency for order, _ in pairs})
    if len(currencies) > 1:
        raise ValueError(f"cost analysis needs one currency; got {currencies}: filter or convert")
    fills = [(order, fill) for order, fill in pairs if fill is not None]
    orders = list({id(order): order for order, _ in pairs}.values())
    spread = _money(f.spread_cost for _, f in fills)
    impact = _money(f.impact_cost for _, f in fills)
    timing = _money(f.timing_cost for _, f in fills)
    fees = _money(f.fee for _, f in fills)
    shortfall = _money([spread, impact, timing, fees])
    decision = _money(_notional(o.decision_price, f.quantity, o.multiplier) for o, f in fills)
    filled = _money(_notional(f.price, f.quantity, o.multiplier) for o, f in fills)
    return CostBreakdown(
        currency=currencies[0] if currencies else None,
        order_count=len(orders),
        fill_count=len(fills),
        filled_notional=filled,
        decision_notional=decision,
        spread=spread,
        impact=impact,
        timing=timing,
        fees=fees,
        implementation_shortfall=shortfall,
        opportunity_cost=_money(o.opportunity_cost or _ZERO for o in orders),
        spread_bps=_bps(spread, decision),
        impact_bps=_bps(impact, decision),
        timing_bps=_bps(timing, decision),
        fees_bps=_bps(fees, decision),
        implementation_shortfall_bps=_bps(shortfall, decision),
    )


def _pairs(orders: Iterable[OrderQuality]) -> list[tuple[OrderQuality, FillQuality | None]]:
    result: list[tuple[OrderQuality, FillQuality | None]] = []
    for order in orders:
        if order.fills:
            result.extend((order, fill) for fill in order.fills)
        else:
            result.append((order, None))
    return result


def cost_analysis(
    orders: Iterable[OrderQuality], selection: CostFilter | None = None
) -> CostBreakdown:
    """Return the cost decomposition of the orders ``selection`` admits (all by default).

    Raise ``ValueError`` when the selected orders are in more than one currency.
    """
    chosen = selection or CostFilter()
    return _breakdown(_pairs(order for order in orders if chosen.admits(order)))


class Dimension(StrEnum):
    """What `cost_analysis_by` groups by."""

    ACCOUNT = "ACCOUNT"
    MODEL = "MODEL"
    STRATEGY = "STRATEGY"
    INSTRUMENT = "INSTRUMENT"
    VENUE = "VENUE"
    """By the venue of each fill: a split order counts under every venue that filled it."""


_KEYS: Final[dict[Dimension, Callable[[OrderQuality, FillQuality | None], str | None]]] = {
    Dimension.ACCOUNT: lambda order, _: order.account_id,
    Dimension.MODEL: lambda order, _: order.model_id,
    Dimension.STRATEGY: lambda order, _: order.strategy,
    Dimension.INSTRUMENT: lambda order, _: order.instrument_id,
    Dimension.VENUE: lambda _, fill: None if fill is None else fill.venue,
}


def cost_analysis_by(
    orders: Iterable[OrderQuality], dimension: Dimension, selection: CostFilter | None = None
) -> dict[str | None, CostBreakdown]:
    """Return one cost decomposition per value of ``dimension`` (None: not set / unfilled).

    The groups' money amounts add up to `cost_analysis` over the same selection.
    """
    chosen = selection or CostFilter()
    groups: dict[str | None, list[tuple[OrderQuality, FillQuality | None]]] = defaultdict(list)
    for order, fill in _pairs(order for order in orders if chosen.admits(order)):
        groups[_KEYS[dimension](order, fill)].append((order, fill))
    ordered = sorted(groups, key=lambda key: (key is None, key or ""))
    return {key: _breakdown(groups[key]) for key in ordered}
