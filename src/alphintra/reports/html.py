"""The reports as one self-contained HTML page with inline SVG charts.

No script and no external resource: the page opens offline and renders the same in
any browser. Charts: the slippage distribution (orders per bps bin), the cost by
venue (spread, impact, timing and fees in bps of the decision notional), and each
algo order's schedule against the market volume curve. Chart geometry is computed in
decimals and rounded to a tenth of a pixel; tables show the exact figures.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from alphintra.execution.tca import CostBreakdown, Distribution, ExecutionStats
from alphintra.reports.build import (
    AlgoSchedule,
    BestExecutionDay,
    CurrencyCosts,
    CurvePoint,
    HistogramBin,
    TcaReport,
)

_STYLE: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #1f2933; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px 0; }
h2 { font-size: 1.2em; margin: 28px 0 8px 0; }
h3 { font-size: 1em; margin: 16px 0 6px 0; }
.meta, .note { color: #616e7c; margin: 0 0 16px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-bottom: 12px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 4px 10px; text-align: left; }
th { background: #f5f7fa; font-weight: 600; }
td.num { text-align: right; }
svg { display: block; margin: 8px 0 16px 0; font-size: 11px; }
svg text { fill: #3e4c59; }
"""
_W: Final = Decimal(720)
_H: Final = Decimal(260)
_LEFT: Final = Decimal(56)
_RIGHT: Final = Decimal(16)
_TOP: Final = Decimal(16)
_BOTTOM: Final = Decimal(40)
_COST_COLOURS: Final = (
    ("spread", "#3e7cb1"),
    ("impact", "#e07a5f"),
    ("timing", "#81b29a"),
    ("fees", "#8d6a9f"),
)
_TENTH: Final = Decimal("0.1")
_NS: Final = Decimal(1_000_000_000)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _px(value: Decimal) -> str:
    return format(value.quantize(_TENTH, rounding=ROUND_HALF_EVEN), "f")


def _num(value: Decimal | int | None, places: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")


def _seconds(ns: Decimal | None) -> str:
    return "–" if ns is None else _num(ns / _NS, 3) + " s"


def _iso(ts_ns: int) -> str:
    moment = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if i >= numeric_from else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _svg(title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_px(_W)}" '
        f'height="{_px(_H)}" viewBox="0 0 {_px(_W)} {_px(_H)}"><title>{_e(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _bin_label(b: HistogramBin) -> str:
    if b.low is None:
        return f"<{b.high}"
    if b.high is None:
        return f"≥{b.low}"
    return f"{b.low}…{b.high}"


def histogram_svg(bins: Sequence[HistogramBin]) -> str:
    """Return the slippage distribution as an SVG bar chart."""
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    top = max((b.count for b in bins), default=0) or 1
    step = plot_w / len(bins)
    body = [
        f'<line x1="{_px(_LEFT)}" y1="{_px(_TOP + plot_h)}" x2="{_px(_W - _RIGHT)}" '
        f'y2="{_px(_TOP + plot_h)}" stroke="#9aa5b1"/>',
        f'<text x="{_px(_LEFT - 8)}" y="{_px(_TOP + 8)}" text-anchor="end">{top}</text>',
        f'<text x="{_px(_LEFT - 8)}" y="{_px(_TOP + plot_h)}" text-anchor="end">0</text>',
    ]
    for i, b in enumerate(bins):
        height = plot_h * b.count / top
        x = _LEFT + step * i
        body.append(
            f'<rect class="bar" x="{_px(x + 2)}" y="{_px(_TOP + plot_h - height)}" '
            f'width="{_px(step - 4)}" height="{_px(height)}" fill="#3e7cb1">'
            f"<title>{_e(_bin_label(b))} bps: {b.count}</title></rect>"
        )
        body.append(
            f'<text x="{_px(x + step / 2)}" y="{_px(_TOP + plot_h + 14)}" '
            f'text-anchor="middle">{_e(_bin_label(b))}</text>'
        )
    body.append(
        f'<text x="{_px(_W / 2)}" y="{_px(_H - 6)}" text-anchor="middle">'
        "slippage vs arrival mid (bps), orders per bin</text>"
    )
    return _svg("Slippage distribution", body)


def venue_cost_svg(section: CurrencyCosts) -> str:
    """Return the cost by venue of one currency section as grouped SVG bars, in bps."""
    groups = [(g.key or "none", g.cost) for g in section.by_venue]
    values = [
        getattr(cost, f"{name}_bps") or Decimal(0)
        for _, cost in groups
        for name, _ in _COST_COLOURS
    ]
    high = max([*values, Decimal(0)])
    low = min([*values, Decimal(0)])
    span = (high - low) or Decimal(1)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    zero_y = _TOP + plot_h * high / span
    body = [
        f'<line x1="{_px(_LEFT)}" y1="{_px(zero_y)}" x2="{_px(_W - _RIGHT)}" '
        f'y2="{_px(zero_y)}" stroke="#9aa5b1"/>',
        f'<text x="{_px(_LEFT - 8)}" y="{_px(_TOP + 8)}" text-anchor="end">{_num(high, 1)}</text>',
        f'<text x="{_px(_LEFT - 8)}" y="{_px(_TOP + plot_h)}" text-anchor="end">'
        f"{_num(low, 1)}</text>",
    ]
    step = plot_w / max(len(groups), 1)
    bar_w = step / (len(_COST_COLOURS) + 1)
    for i, (venue, cost) in enumerate(groups):
        for j, (name, colour) in enumerate(_COST_COLOURS):
            value = getattr(cost, f"{name}_bps") or Decimal(0)
            height = plot_h * abs(value) / span
            y = zero_y - height if value > 0 else zero_y
            x = _LEFT + step * i + bar_w * (j + Decimal("0.5"))
            body.append(
                f'<rect class="bar" x="{_px(x)}" y="{_px(y)}" width="{_px(bar_w - 2)}" '
                f'height="{_px(height)}" fill="{colour}"><title>{_e(venue)} {name}: '
                f"{_num(value)} bps</title></rect>"
            )
        body.append(
            f'<text x="{_px(_LEFT + step * i + step / 2)}" y="{_px(_TOP + plot_h + 14)}" '
            f'text-anchor="middle">{_e(venue)}</text>'
        )
    legend = " ".join(f'<tspan fill="{colour}">■ {name}</tspan>' for name, colour in _COST_COLOURS)
    body.append(
        f'<text x="{_px(_W / 2)}" y="{_px(_H - 6)}" text-anchor="middle">'
        f"cost by venue, bps of decision notional ({_e(section.currency)}): {legend}</text>"
    )
    return _svg(f"Cost by venue ({section.currency})", body)


def _polyline(points: Sequence[CurvePoint], start: int, end: int, colour: str) -> str:
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    span = Decimal(max(end - start, 1))
    coords = []
    for p in points:
        x = _LEFT + plot_w * Decimal(min(max(p.ts, start), end) - start) / span
        coords.append(f"{_px(x)},{_px(_TOP + plot_h * (1 - p.fraction))}")
    return (
        f'<polyline class="curve" points="{" ".join(coords)}" fill="none" '
        f'stroke="{colour}" stroke-width="2"/>'
    )


def schedule_svg(schedule: AlgoSchedule) -> str:
    """Return an algo order's executed fraction against the market volume curve."""
    start = schedule.arrival_ts
    end = max(
        [schedule.end_ts, start + 1]
        + [p.ts for p in schedule.executed]
        + [p.ts for p in schedule.market_volume]
    )
    plot_h = _H - _TOP - _BOTTOM
    body = [
        f'<line x1="{_px(_LEFT)}" y1="{_px(_TOP + plot_h)}" x2="{_px(_W - _RIGHT)}" '
        f'y2="{_px(_TOP + plot_h)}" stroke="#9aa5b1"/>',
        f'<text x="{_px(_LEFT - 8)}" y="{_px(_TOP + 8)}" text-anchor="end">100%</text>',
        f'<text x="{_px(_LEFT - 8)}" y="{_px(_TOP + plot_h)}" text-anchor="end">0%</text>',
        _polyline(schedule.executed, start, end, "#3e7cb1"),
    ]
    if schedule.market_volume:
        body.append(_polyline(schedule.market_volume, start, end, "#e07a5f"))
    body.append(
        f'<text x="{_px(_W / 2)}" y="{_px(_H - 6)}" text-anchor="middle">'
        f"{_e(_iso(start))} → {_e(_iso(end))}: executed (blue) vs market volume (orange)</text>"
    )
    return _svg(f"Schedule of {schedule.order_id}", body)


def _schedules_section(schedules: Sequence[AlgoSchedule]) -> list[str]:
    parts = ["<h2>Algo orders: schedule against the market volume curve</h2>"]
    if not schedules:
        parts.append('<p class="note">No algo orders in this report.</p>')
    for s in schedules:
        parts.append(
            f"<h3>{_e(s.algo)} {_e(s.side)} {_e(s.quantity)} {_e(s.instrument_id)} "
            f"({_e(s.order_id)}, filled {_e(s.filled_quantity)})</h3>"
        )
        if not s.market_volume:
            parts.append('<p class="note">No market volume bars for this period.</p>')
        parts.append(schedule_svg(s))
    return parts


_COST_HEADER: Final = (
    "Group",
    "Orders",
    "Fills",
    "Spread",
    "Impact",
    "Timing",
    "Fees",
    "Shortfall",
    "Shortfall bps",
    "Opportunity",
)


def _cost_cells(key: str, c: CostBreakdown) -> list[str]:
    return [
        key,
        str(c.order_count),
        str(c.fill_count),
        _num(c.spread),
        _num(c.impact),
        _num(c.timing),
        _num(c.fees),
        _num(c.implementation_shortfall),
        _num(c.implementation_shortfall_bps),
        _num(c.opportunity_cost),
    ]


def _costs_section(costs: Sequence[CurrencyCosts]) -> list[str]:
    parts = ["<h2>Cost decomposition</h2>"]
    if not costs:
        parts.append('<p class="note">No orders in this report.</p>')
    for section in costs:
        rows = [_cost_cells("Total", section.total)]
        for label, groups in (
            ("venue", section.by_venue),
            ("model", section.by_model),
            ("strategy", section.by_strategy),
            ("instrument", section.by_instrument),
        ):
            rows.extend(_cost_cells(f"{label}: {g.key or 'none'}", g.cost) for g in groups)
        parts.append(f"<h3>In {_e(section.currency)}</h3>")
        parts.append(_table(_COST_HEADER, rows, numeric_from=1))
        parts.append(venue_cost_svg(section))
    return parts


def _page(title: str, meta: str, parts: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="meta">{_e(meta)}</p>' + "".join(parts) + "</body></html>\n"
    )


def _dist(d: Distribution, render: str = "bps") -> list[str]:
    values = [d.mean, d.p50, d.p90, d.p99]
    if render == "time":
        return [_seconds(v) for v in values]
    return [_num(v) for v in values]


def _stats_cells(row: ExecutionStats) -> list[str]:
    return [
        row.instrument_id,
        row.venue or "all venues",
        str(row.order_count),
        str(row.fill_count),
        _num(row.filled_quantity, 8),
        _num(row.quantity_share, 4),
        _num(row.fill_rate, 4),
        *_dist(row.slippage_bps),
        *_dist(row.execution_time_ns, "time"),
        _num(row.price_improvement_rate, 4),
    ]


_STATS_HEADER: Final = (
    "Instrument",
    "Venue",
    "Orders",
    "Fills",
    "Filled qty",
    "Qty share",
    "Fill rate",
    "Slip mean",
    "Slip p50",
    "Slip p90",
    "Slip p99",
    "Time mean",
    "Time p50",
    "Time p90",
    "Time p99",
    "Improved",
)


def best_execution_html(report: BestExecutionDay) -> str:
    """Return the best-execution report of one day as an HTML page."""
    rows = []
    for instrument in report.execution.instruments:
        rows.append(_stats_cells(instrument))
        rows.extend(
            _stats_cells(v)
            for v in report.execution.venues
            if v.instrument_id == instrument.instrument_id
        )
    parts = [
        "<h2>Per instrument and venue</h2>",
        '<p class="note">Slippage against the arrival mid in bps (positive = cost); '
        "execution time from arrival to the last fill; improved = share of fills better "
        "than the far side of the arrival quote.</p>",
        _table(_STATS_HEADER, rows, numeric_from=2)
        if rows
        else '<p class="note">No orders arrived on this day.</p>',
        "<h2>Slippage distribution</h2>",
        histogram_svg(report.slippage_histogram),
        *_costs_section(report.costs),
        *_schedules_section(report.schedules),
    ]
    meta = (
        f"{report.day.isoformat()} (UTC) · {report.order_count} orders · accounts: "
        f"{', '.join(report.account_ids) or 'none'}"
    )
    return _page(f"Best execution {report.day.isoformat()}", meta, parts)


def tca_html(report: TcaReport) -> str:
    """Return the transaction-cost analysis as an HTML page."""
    s = report.selection
    period = (
        f"{_iso(s.start_ts) if s.start_ts is not None else 'beginning'} to "
        f"{_iso(s.end_ts) if s.end_ts is not None else 'now'}"
    )
    filters = [
        f"{name} {value}"
        for name, value in (
            ("account", s.account_id),
            ("model", s.model_id),
            ("strategy", s.strategy),
            ("instrument", s.instrument_id),
        )
        if value is not None
    ]
    meta = f"{period} · {report.order_count} orders · " + (", ".join(filters) or "no filter")
    parts = [
        '<p class="note">Implementation shortfall = spread + impact + timing + fees, in the '
        "quote currency, against the decision price (the signal's entry price, else the "
        "arrival mid); positive = cost.</p>",
        *_costs_section(report.costs),
        "<h2>Slippage distribution</h2>",
        histogram_svg(report.slippage_histogram),
        *_schedules_section(report.schedules),
    ]
    return _page("Transaction cost analysis", meta, parts)
