"""Write a backtest's results as one self-contained HTML file that opens offline.

The page has a header, a summary table, an equity-curve chart, a drawdown chart
and, when fills are given, a table of the first fills. plotly.js is embedded inline
once (no CDN), so the file works on a machine without internet access; that makes
it about 5 MB. Charts are downsampled for plotting only; the summary table shows the
numbers exactly as given.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

MAX_PLOT_POINTS: Final = 5_000
"""Most points drawn per chart; longer series keep each bucket's minimum and maximum."""
MAX_FILL_ROWS: Final = 200
"""Most fills listed in the fills table."""

PERCENT_KEYS: Final = frozenset({"total_return", "max_drawdown"})
"""Summary keys whose values are fractions, shown as percentages (0.12 -> 12.00%)."""

SUMMARY_LABELS: Final[Mapping[str, str]] = {
    "starting_equity": "Starting equity",
    "final_equity": "Final equity",
    "total_return": "Total return",
    "realized_pnl": "Realised P&L",
    "realised_pnl": "Realised P&L",
    "fees": "Fees",
    "orders": "Orders",
    "fills": "Fills",
    "sharpe_ratio": "Sharpe ratio",
    "sortino_ratio": "Sortino ratio",
    "max_drawdown": "Max drawdown",
    "return_count": "Returns measured",
    "period_ns": "Return period",
    "periods_per_year": "Periods per year",
}
"""Labels of the well-known summary keys, in the order they are listed."""

_FILL_COLUMNS: Final = ("timestamp", "symbol", "side", "qty", "price", "fee")
_FILL_HEADERS: Final = ("Time (UTC)", "Symbol", "Side", "Quantity", "Price", "Fee")
_NS_PER_SECOND: Final = 1_000_000_000

_STYLE: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #1f2933; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px 0; }
h2 { font-size: 1.2em; margin: 28px 0 8px 0; }
.meta { color: #616e7c; margin: 0 0 16px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 4px 12px; text-align: left; }
td.num { text-align: right; }
table.summary th { font-weight: 600; background: #f5f7fa; }
table.fills th { background: #f5f7fa; position: sticky; top: 0; }
.chart { max-width: 1200px; }
"""


def write_report(
    path: Path,
    *,
    title: str,
    summary: Mapping[str, object],
    equity: Sequence[tuple[int, Decimal]],
    drawdown: Sequence[Decimal],
    fills: Sequence[Mapping[str, object]] | None = None,
) -> None:
    """Write the HTML report of one backtest to ``path``, creating parent folders.

    ``summary`` maps keys to values; the keys in `SUMMARY_LABELS` come first, in that
    order, with their labels, then any other keys in the mapping's order. Values of
    `PERCENT_KEYS` are fractions and are shown as percentages; ``period_ns`` is shown
    as a duration; decimals are shown exactly; ``None`` is shown as "n/a". A
    `PerformanceSummary` fits through ``dataclasses.asdict``. ``equity`` holds
    ``(ts_ns, equity)`` points and ``drawdown`` the matching non-positive fractions,
    one per point. Each fill may carry ``ts_ns`` (nanoseconds, UTC) or ``timestamp``,
    plus ``symbol``, ``side``, ``qty``, ``price`` and ``fee``; missing fields are left
    blank.

    Raise ``ValueError`` when ``drawdown`` and ``equity`` differ in length.
    """
    if len(drawdown) != len(equity):
        raise ValueError(
            f"drawdown must have one value per equity point: got {len(drawdown)} drawdown "
            f"values for {len(equity)} equity points"
        )
    timestamps = np.fromiter((ts for ts, _ in equity), dtype=np.int64, count=len(equity))
    equity_values = np.fromiter(
        (float(value) for _, value in equity), dtype=np.float64, count=len(equity)
    )
    drawdown_pct = np.fromiter(
        (float(value) * 100.0 for value in drawdown), dtype=np.float64, count=len(drawdown)
    )
    equity_chart = _chart_html(
        _equity_figure(timestamps, equity_values), include_plotlyjs=True, div_id="equity-chart"
    )
    drawdown_chart = _chart_html(
        _drawdown_figure(timestamps, drawdown_pct), include_plotlyjs=False, div_id="drawdown-chart"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">{_esc(_period_text(equity))}</p>',
        "<h2>Summary</h2>",
        _summary_table(summary),
        "<h2>Equity</h2>",
        f'<div class="chart">{equity_chart}</div>',
        "<h2>Drawdown</h2>",
        f'<div class="chart">{drawdown_chart}</div>',
    ]
    if fills is not None:
        parts.extend(_fills_section(fills))
    parts.extend(["</body>", "</html>", ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")


def downsample_indices(
    values: npt.NDArray[np.float64], max_points: int = MAX_PLOT_POINTS
) -> npt.NDArray[np.intp]:
    """Return sorted indices of at most ``max_points`` points that keep the series' shape.

    Short series keep every point. Longer ones are cut into ``max_points // 2``
    equal buckets, and each bucket keeps the index of its minimum and its maximum,
    so peaks and troughs (drawdowns) stay visible. The first and last points are
    always kept, which can add up to two indices beyond ``max_points``.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    count = len(values)
    if count <= max_points:
        return np.arange(count, dtype=np.intp)
    edges = [int(edge) for edge in np.linspace(0, count, max_points // 2 + 1)]
    kept: list[int] = [0, count - 1]
    for start, stop in itertools.pairwise(edges):
        if stop > start:
            bucket = values[start:stop]
            kept.append(start + int(np.argmin(bucket)))
            kept.append(start + int(np.argmax(bucket)))
    return np.unique(np.asarray(kept, dtype=np.intp))


def _equity_figure(timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> go.Figure:
    keep = downsample_indices(values)
    figure = go.Figure(
        go.Scatter(
            x=_iso_times(timestamps[keep]),
            y=values[keep],
            mode="lines",
            name="Equity",
            line={"color": "#1f77b4", "width": 1.5},
            hovertemplate="%{x}<br>%{y:,.2f}<extra></extra>",
        )
    )
    figure.update_layout(
        template="plotly_white",
        height=420,
        margin={"l": 60, "r": 20, "t": 36, "b": 40},
        yaxis_title="Equity",
        xaxis_title="Time (UTC)",
        showlegend=False,
    )
    return figure


def _drawdown_figure(
    timestamps: npt.NDArray[np.int64], drawdown_pct: npt.NDArray[np.float64]
) -> go.Figure:
    keep = downsample_indices(drawdown_pct)
    figure = go.Figure(
        go.Scatter(
            x=_iso_times(timestamps[keep]),
            y=drawdown_pct[keep],
            mode="lines",
            fill="tozeroy",
            name="Drawdown",
            line={"color": "#c0392b", "width": 1},
            fillcolor="rgba(192, 57, 43, 0.35)",
            hovertemplate="%{x}<br>%{y:.2f} %<extra></extra>",
        )
    )
    figure.update_layout(
        template="plotly_white",
        height=300,
        margin={"l": 60, "r": 20, "t": 36, "b": 40},
        yaxis_title="Drawdown (%)",
        yaxis_ticksuffix=" %",
        yaxis_rangemode="tozero",
        xaxis_title="Time (UTC)",
        showlegend=False,
    )
    return figure


def _chart_html(figure: go.Figure, *, include_plotlyjs: bool, div_id: str) -> str:
    return str(
        figure.to_html(
            full_html=False,
            include_plotlyjs=include_plotlyjs,
            include_mathjax=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def _iso_times(timestamps: npt.NDArray[np.int64]) -> list[str]:
    return [str(text) for text in np.datetime_as_string(timestamps.astype("datetime64[ns]"))]


def _summary_table(summary: Mapping[str, object]) -> str:
    known = [key for key in SUMMARY_LABELS if key in summary]
    others = [key for key in summary if key not in SUMMARY_LABELS]
    rows = []
    for key in known + others:
        label = SUMMARY_LABELS.get(key) or key.replace("_", " ").capitalize()
        value = summary[key]
        if key in PERCENT_KEYS:
            text = _percent(value)
        elif key == "period_ns":
            text = _duration(value)
        else:
            text = _format_value(value)
        rows.append(f'<tr><th scope="row">{_esc(label)}</th><td class="num">{_esc(text)}</td></tr>')
    return '<table class="summary">\n' + "\n".join(rows) + "\n</table>"


def _fills_section(fills: Sequence[Mapping[str, object]]) -> list[str]:
    shown = fills[:MAX_FILL_ROWS]
    if len(fills) > len(shown):
        caption = f"First {len(shown):,} of {len(fills):,} fills"
    else:
        caption = f"{len(fills):,} fill" + ("" if len(fills) == 1 else "s")
    header = "".join(f"<th>{_esc(label)}</th>" for label in _FILL_HEADERS)
    rows = []
    for fill in shown:
        text = [_esc(_fill_cell(fill.get(column))) for column in _FILL_COLUMNS[1:]]
        symbol, side, qty, price, fee = text
        rows.append(
            f"<tr><td>{_esc(_fill_timestamp(fill))}</td><td>{symbol}</td><td>{side}</td>"
            f'<td class="num">{qty}</td><td class="num">{price}</td><td class="num">{fee}</td></tr>'
        )
    return [
        "<h2>Fills</h2>",
        f'<p class="meta">{_esc(caption)}</p>',
        f'<table class="fills">\n<thead><tr>{header}</tr></thead>\n<tbody>',
        *rows,
        "</tbody>\n</table>",
    ]


def _fill_timestamp(fill: Mapping[str, object]) -> str:
    value = fill.get("ts_ns", fill.get("timestamp"))
    if isinstance(value, int) and not isinstance(value, bool):
        return _format_ns(value)
    return "" if value is None else str(value)


def _fill_cell(value: object) -> str:
    return "" if value is None else _format_value(value)


def _period_text(equity: Sequence[tuple[int, Decimal]]) -> str:
    if not equity:
        return "No equity points recorded."
    first, last = equity[0][0], equity[-1][0]
    return f"{_format_ns(first)} to {_format_ns(last)} (UTC), {len(equity):,} equity points"


def _format_ns(ts_ns: int) -> str:
    seconds, nanos = divmod(ts_ns, _NS_PER_SECOND)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{nanos // 1_000_000:03d}" if nanos else text


def _format_value(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:,f}" if value.is_finite() else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.4g}"
    return str(value)


def _percent(value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return f"{value:,.2%}"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.2%}"
    return _format_value(value)


def _duration(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return _format_value(value)
    for unit_ns, unit in ((86_400 * _NS_PER_SECOND, "day"), (3_600 * _NS_PER_SECOND, "hour")):
        if value % unit_ns == 0:
            count = value // unit_ns
            return f"{count:,} {unit}" + ("" if count == 1 else "s")
    return f"{value / _NS_PER_SECOND:,g} s"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
