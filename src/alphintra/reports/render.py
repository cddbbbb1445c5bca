"""The reports as JSON-ready data and as CSV.

JSON keys are camelCase; decimals are strings of their exact value (never floats),
nanosecond times are integers, a day is ISO text. The CSV has one line per report
row (see `best_execution_csv` and `tca_csv`), decimals as exact text, empty cells
for values that are not defined.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Final

from alphintra.execution.tca import CostBreakdown, Distribution, ExecutionStats
from alphintra.reports.build import BestExecutionDay, CurrencyCosts, TcaReport
from alphintra.reports.html import best_execution_html, tca_html


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def jsonable(value: object) -> Any:
    """Return ``value`` as JSON-ready data (camelCase keys, decimals as exact strings)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [jsonable(item) for item in value]
    raise TypeError(f"cannot render a {type(value).__name__} as JSON: {value!r}")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _distribution(d: Distribution) -> list[object]:
    return [d.mean, d.p50, d.p90, d.p99]


BEST_EXECUTION_HEADER: Final = (
    "date",
    "instrument",
    "venue",
    "order_count",
    "fill_count",
    "filled_quantity",
    "filled_notional",
    "quantity_share",
    "fill_rate",
    "slippage_bps_mean",
    "slippage_bps_p50",
    "slippage_bps_p90",
    "slippage_bps_p99",
    "execution_time_ns_mean",
    "execution_time_ns_p50",
    "execution_time_ns_p90",
    "execution_time_ns_p99",
    "price_improvement_rate",
)
"""Columns of the best-execution CSV; ``venue`` is ``ALL`` on an instrument's row."""


def _stats_row(day: date, row: ExecutionStats) -> list[object]:
    return [
        day.isoformat(),
        row.instrument_id,
        row.venue or "ALL",
        row.order_count,
        row.fill_count,
        row.filled_quantity,
        row.filled_notional,
        row.quantity_share,
        row.fill_rate,
        *_distribution(row.slippage_bps),
        *_distribution(row.execution_time_ns),
        row.price_improvement_rate,
    ]


def best_execution_csv(report: BestExecutionDay) -> str:
    """Return one CSV line per instrument (venue ``ALL``) followed by its venues' lines."""
    rows: list[list[object]] = []
    for instrument in report.execution.instruments:
        rows.append(_stats_row(report.day, instrument))
        rows.extend(
            _stats_row(report.day, v)
            for v in report.execution.venues
            if v.instrument_id == instrument.instrument_id
        )
    return _csv(BEST_EXECUTION_HEADER, rows)


TCA_HEADER: Final = (
    "currency",
    "dimension",
    "key",
    "order_count",
    "fill_count",
    "filled_notional",
    "decision_notional",
    "spread",
    "impact",
    "timing",
    "fees",
    "implementation_shortfall",
    "opportunity_cost",
    "spread_bps",
    "impact_bps",
    "timing_bps",
    "fees_bps",
    "implementation_shortfall_bps",
)
"""Columns of the TCA CSV; ``dimension`` is TOTAL, VENUE, MODEL, STRATEGY or INSTRUMENT."""


def _cost_row(currency: str, dimension: str, key: str | None, c: CostBreakdown) -> list[object]:
    return [
        currency,
        dimension,
        key,
        c.order_count,
        c.fill_count,
        c.filled_notional,
        c.decision_notional,
        c.spread,
        c.impact,
        c.timing,
        c.fees,
        c.implementation_shortfall,
        c.opportunity_cost,
        c.spread_bps,
        c.impact_bps,
        c.timing_bps,
        c.fees_bps,
        c.implementation_shortfall_bps,
    ]


def _section_rows(section: CurrencyCosts) -> list[list[object]]:
    rows = [_cost_row(section.currency, "TOTAL", None, section.total)]
    for dimension, groups in (
        ("VENUE", section.by_venue),
        ("MODEL", section.by_model),
        ("STRATEGY", section.by_strategy),
        ("INSTRUMENT", section.by_instrument),
    ):
        rows.extend(_cost_row(section.currency, dimension, g.key, g.cost) for g in groups)
    return rows


def tca_csv(report: TcaReport) -> str:
    """Return the cost decomposition per currency: the total, then each group."""
    return _csv(TCA_HEADER, [row for s in report.costs for row in _section_rows(s)])


class ReportFormat(StrEnum):
    """The forms a report comes in."""

    JSON = "json"
    CSV = "csv"
    HTML = "html"

    @property
    def media_type(self) -> str:
        """Return the HTTP media type of this form."""
        return _MEDIA_TYPES[self]


_MEDIA_TYPES: Final = {
    ReportFormat.JSON: "application/json",
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.HTML: "text/html; charset=utf-8",
}


def render(report: BestExecutionDay | TcaReport, form: ReportFormat) -> str:
    """Return ``report`` as JSON text, CSV or an HTML page."""
    if form is ReportFormat.JSON:
        return json.dumps(jsonable(report), indent=2) + "\n"
    if isinstance(report, BestExecutionDay):
        return (
            best_execution_csv(report) if form is ReportFormat.CSV else best_execution_html(report)
        )
    return tca_csv(report) if form is ReportFormat.CSV else tca_html(report)
