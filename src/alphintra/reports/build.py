"""The best-execution and transaction-cost reports as typed data (pure: no I/O).

Both reports are built from stored `RecordedOrder` values. Child slices of an algo
order are counted through their parent (the parent is measured on the children's
fills), so no fill counts twice. Every money figure is exact; a report spanning
several quote currencies keeps one cost section per currency, since amounts in
different currencies do not add up.

Charts' data come with the reports:

- the slippage distribution: per-order slippage against the arrival mid, in bps,
  counted in the fixed bins `SLIPPAGE_EDGES` (the first and last bins are open);
- the cost by venue: `alphintra.execution.tca.cost_analysis_by` per venue;
- for each algo order, its schedule (cumulative fraction of the ordered quantity
  executed, at each fill) against the market volume curve (cumulative fraction of
  the volume traded in the market over the order's life, at the end of each bar
  that starts inside it) when bars are given for the instrument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final

from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, ModelId
from alphintra.domain.market import TradeBar
from alphintra.domain.values import Currency
from alphintra.execution.quality import MONEY, RATIO, OrderQuality
from alphintra.execution.tca import (
    BestExecutionReport,
    CostBreakdown,
    CostFilter,
    Dimension,
    best_execution_report,
    cost_analysis,
    cost_analysis_by,
)
from alphintra.reports.records import RecordedOrder

NANOS_PER_DAY: Final = 86_400 * 1_000_000_000
SLIPPAGE_EDGES: Final = tuple(
    Decimal(v) for v in (-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50)
)
"""Bin edges of the slippage distribution, in bps: bins are ``[edge_i, edge_i+1)``."""


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """Orders whose slippage is in ``[low, high)``; None is an open end."""

    low: Decimal | None
    high: Decimal | None
    count: int


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One point of a cumulative curve: the fraction (0..1) reached at ``ts``."""

    ts: int
    fraction: Decimal


@dataclass(frozen=True, slots=True)
class AlgoSchedule:
    """An algo order's executed fraction over time against the market's volume curve."""

    account_id: AccountId | None
    order_id: ClientOrderId
    instrument_id: InstrumentId
    algo: str
    side: str
    quantity: Decimal
    filled_quantity: Decimal
    arrival_ts: int
    end_ts: int
    executed: tuple[CurvePoint, ...]
    market_volume: tuple[CurvePoint, ...]
    """Empty when no market bars were given for the instrument and period."""


@dataclass(frozen=True, slots=True)
class GroupCost:
    """The cost decomposition of one group (None: the value is not set, or unfilled)."""

    key: str | None
    cost: CostBreakdown


@dataclass(frozen=True, slots=True)
class CurrencyCosts:
    """The cost decomposition of the orders in one quote currency, in total and by group."""

    currency: Currency
    total: CostBreakdown
    by_venue: tuple[GroupCost, ...]
    by_model: tuple[GroupCost, ...]
    by_strategy: tuple[GroupCost, ...]
    by_instrument: tuple[GroupCost, ...]


@dataclass(frozen=True, slots=True)
class BestExecutionDay:
    """The best-execution report of one UTC day (orders that arrived in ``[start_ts, end_ts)``)."""

    day: date
    start_ts: int
    end_ts: int
    account_ids: tuple[str, ...]
    order_count: int
    execution: BestExecutionReport
    slippage_histogram: tuple[HistogramBin, ...]
    costs: tuple[CurrencyCosts, ...]
    schedules: tuple[AlgoSchedule, ...]


@dataclass(frozen=True, slots=True)
class TcaReport:
    """Transaction-cost analysis of the orders ``selection`` admits, per quote currency."""

    selection: CostFilter
    account_ids: tuple[str, ...]
    order_count: int
    costs: tuple[CurrencyCosts, ...]
    slippage_histogram: tuple[HistogramBin, ...]
    schedules: tuple[AlgoSchedule, ...]


NANOS_MIN: Final = -(2**63)
NANOS_MAX: Final = 2**63 - 1
"""Times are signed 64-bit nanoseconds since 1970: 1677-09-21 to 2262-04-11."""
_DAY_TEXT: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_nanos(name: str, ns: int, shown: object) -> int:
    """Return ``ns``, or raise ``ValueError`` naming ``name`` and ``shown`` when out of range."""
    if not NANOS_MIN <= ns <= NANOS_MAX:
        raise ValueError(
            f"{name} must be between 1677-09-22 and 2262-04-10 (64-bit nanoseconds), got {shown}"
        )
    return ns


def parse_day(name: str, text: str) -> date:
    """Parse a UTC day written ``YYYY-MM-DD``; raise ``ValueError`` naming ``text`` otherwise."""
    try:
        if not _DAY_TEXT.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, got {text!r}") from None
    start, _ = day_bounds(day)
    check_nanos(name, start, repr(text))
    check_nanos(name, start + NANOS_PER_DAY, repr(text))
    return day


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_bounds(day: date) -> tuple[int, int]:
    """Return the nanosecond bounds ``[start, end)`` of the UTC ``day``."""
    start = (day.toordinal() - _EPOCH_ORDINAL) * NANOS_PER_DAY
    return start, start + NANOS_PER_DAY


def previous_day(now_ns: int) -> date:
    """Return the UTC day before the one holding ``now_ns``."""
    today = datetime.fromtimestamp(now_ns // 1_000_000_000, tz=UTC).date()
    return today - timedelta(days=1)


def reported(orders: Iterable[RecordedOrder]) -> list[RecordedOrder]:
    """Return the orders the reports count: all but the child slices of algo orders."""
    return [order for order in orders if not order.is_algo_child]


def slippage_histogram(orders: Sequence[OrderQuality]) -> tuple[HistogramBin, ...]:
    """Count the orders' slippage (vs arrival, bps) in the bins of `SLIPPAGE_EDGES`."""
    lows: list[Decimal | None] = [None, *SLIPPAGE_EDGES]
    highs: list[Decimal | None] = [*SLIPPAGE_EDGES, None]
    counts = [0] * len(lows)
    for order in orders:
        value = order.slippage_bps
        if value is None:
            continue
        counts[sum(1 for edge in SLIPPAGE_EDGES if value >= edge)] += 1
    return tuple(HistogramBin(lo, hi, n) for lo, hi, n in zip(lows, highs, counts, strict=True))


def _groups(qualities: Sequence[OrderQuality], dimension: Dimension) -> tuple[GroupCost, ...]:
    return tuple(GroupCost(k, v) for k, v in cost_analysis_by(qualities, dimension).items())


def currency_costs(qualities: Sequence[OrderQuality]) -> tuple[CurrencyCosts, ...]:
    """Return one cost section per quote currency of ``qualities``, sorted by currency."""
    sections = []
    for currency in sorted({q.currency for q in qualities}):
        own = [q for q in qualities if q.currency == currency]
        sections.append(
            CurrencyCosts(
                currency=currency,
                total=cost_analysis(own),
                by_venue=_groups(own, Dimension.VENUE),
                by_model=_groups(own, Dimension.MODEL),
                by_strategy=_groups(own, Dimension.STRATEGY),
                by_instrument=_groups(own, Dimension.INSTRUMENT),
            )
        )
    return tuple(sections)


def _market_curve(bars: Sequence[TradeBar], start: int, end: int) -> tuple[CurvePoint, ...]:
    inside = sorted((b for b in bars if start <= b.ts < end), key=lambda b: b.ts)
    total = sum((b.volume for b in inside), Decimal(0))
    if total <= 0:
        return ()
    points, running = [CurvePoint(start, Decimal(0))], Decimal(0)
    for bar in inside:
        running = MONEY.add(running, bar.volume)
        points.append(CurvePoint(bar.ts + bar.interval_ns, RATIO.divide(running, total)))
    return tuple(points)


def algo_schedules(
    orders: Sequence[RecordedOrder], bars: Mapping[InstrumentId, Sequence[TradeBar]]
) -> tuple[AlgoSchedule, ...]:
    """Return the schedule of every algo parent among ``orders`` (see the module docstring)."""
    schedules = []
    for record in orders:
        q = record.quality
        if record.algo is None or record.parent_id is not None:
            continue
        points, running = [CurvePoint(q.arrival_ts, Decimal(0))], Decimal(0)
        for fill in q.fills:
            running = MONEY.add(running, fill.quantity)
            points.append(CurvePoint(fill.ts, RATIO.divide(running, q.ordered_quantity)))
        schedules.append(
            AlgoSchedule(
                account_id=q.account_id,
                order_id=q.client_order_id,
                instrument_id=q.instrument_id,
                algo=record.algo,
                side=q.side.value,
                quantity=q.ordered_quantity,
                filled_quantity=q.filled_quantity,
                arrival_ts=q.arrival_ts,
                end_ts=record.end_ts,
                executed=tuple(points),
                market_volume=_market_curve(
                    bars.get(q.instrument_id, ()), q.arrival_ts, max(record.end_ts, q.arrival_ts)
                ),
            )
        )
    return tuple(schedules)


def _accounts(orders: Sequence[RecordedOrder]) -> tuple[str, ...]:
    return tuple(sorted({o.quality.account_id or "" for o in orders}))


def best_execution_day(
    day: date,
    orders: Iterable[RecordedOrder],
    bars: Mapping[InstrumentId, Sequence[TradeBar]] | None = None,
) -> BestExecutionDay:
    """Return the best-execution report of the orders that arrived on the UTC ``day``."""
    start, end = day_bounds(day)
    chosen = [o for o in reported(orders) if start <= o.quality.arrival_ts < end]
    qualities = [o.quality for o in chosen]
    return BestExecutionDay(
        day=day,
        start_ts=start,
        end_ts=end,
        account_ids=_accounts(chosen),
        order_count=len(chosen),
        execution=best_execution_report(qualities),
        slippage_histogram=slippage_histogram(qualities),
        costs=currency_costs(qualities),
        schedules=algo_schedules(chosen, bars or {}),
    )


def tca_report(
    orders: Iterable[RecordedOrder],
    selection: CostFilter,
    bars: Mapping[InstrumentId, Sequence[TradeBar]] | None = None,
) -> TcaReport:
    """Return the transaction-cost analysis of the orders ``selection`` admits."""
    chosen = [o for o in reported(orders) if selection.admits(o.quality)]
    qualities = [o.quality for o in chosen]
    return TcaReport(
        selection=selection,
        account_ids=_accounts(chosen),
        order_count=len(chosen),
        costs=currency_costs(qualities),
        slippage_histogram=slippage_histogram(qualities),
        schedules=algo_schedules(chosen, bars or {}),
    )


def tca_selection(
    *,
    start_ts: int | None = None,
    end_ts: int | None = None,
    account_id: str | None = None,
    model_id: str | None = None,
    strategy: str | None = None,
    instrument_id: str | None = None,
) -> CostFilter:
    """Return a `CostFilter` from plain values (None: no filter on that field)."""
    if start_ts is not None and end_ts is not None and end_ts <= start_ts:
        raise ValueError(f"the period must end after it starts, got {start_ts} to {end_ts}")
    return CostFilter(
        start_ts=start_ts,
        end_ts=end_ts,
        account_id=AccountId(account_id) if account_id is not None else None,
        model_id=ModelId(model_id) if model_id is not None else None,
        strategy=strategy,
        instrument_id=InstrumentId(instrument_id) if instrument_id is not None else None,
    )
