"""Write a backtest's results: CSV files, summary.json and the HTML report."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.backtest.report import write_report
from alphintra.backtest.runner import BacktestResult
from alphintra.portfolio.statistics import choose_period, drawdown_series, summarize


def iso(ts_ns: int) -> str:
    """Format nanoseconds since the epoch as ISO 8601 UTC with microseconds."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)
    return moment.isoformat().replace("+00:00", "Z")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def summarize_result(result: BacktestResult) -> dict[str, Any]:
    """Return the figures written to summary.json."""
    engine = result.engine
    curve = [(ts, equity) for ts, equity, _ in result.equity]
    start = result.starting_equity
    if curve:
        period_ns, per_year = choose_period(curve[0][0], curve[-1][0])
    else:
        period_ns, per_year = 86_400 * 10**9, 365.0
    stats = summarize(curve, start, per_year, period_ns)
    value = engine.valuation()
    orders = engine.state.orders
    return {
        "startingEquity": str(start),
        "finalEquity": str(stats.final_equity),
        "currency": value.currency,
        "realizedPnL": str(value.realized_pnl),
        "unrealizedPnL": str(value.unrealized_pnl),
        "fees": str(value.fees),
        "orders": len(orders),
        "fills": len(result.fills),
        "deniedOrders": len(result.denials),
        "refusedSignals": len(result.refused),
        "totalReturn": str(stats.total_return),
        "sharpeRatio": stats.sharpe_ratio,
        "sortinoRatio": stats.sortino_ratio,
        "maxDrawdown": str(stats.max_drawdown),
        "returnPeriodSeconds": period_ns // 1_000_000_000,
        "periodsPerYear": per_year,
        "unconverted": {k: str(v) for k, v in value.unconverted.items()},
        "rejectedVenueReports": len(engine.rejected_reports),
    }


def write_outputs(result: BacktestResult, out_dir: Path, title: str) -> dict[str, Any]:
    """Write every output file into ``out_dir`` and return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    engine = result.engine
    _write_csv(
        out_dir / "orders.csv",
        [
            "timestamp",
            "order_id",
            "signal_id",
            "symbol",
            "side",
            "type",
            "quantity",
            "price",
            "trigger_price",
            "status",
            "filled_quantity",
            "average_price",
            "parent_id",
            "time_in_force",
        ],
        [
            [
                iso(o.ts_init),
                o.client_order_id,
                o.signal_id or "",
                o.instrument_id,
                o.side,
                o.order_type,
                o.quantity,
                o.price or "",
                o.trigger_price or "",
                o.status,
                o.filled_quantity,
                o.average_price if o.average_price is not None else "",
                o.parent_id or "",
                o.time_in_force,
            ]
            for o in engine.state.orders.values()
        ],
    )
    orders = engine.state.orders
    fill_rows = [
        [
            iso(f.ts_event),
            f.client_order_id,
            orders[f.client_order_id].signal_id or "",
            f.instrument_id,
            f.side,
            f.last_quantity,
            f.last_price,
            f.fee,
            f.liquidity,
        ]
        for f in result.fills
    ]
    _write_csv(
        out_dir / "fills.csv",
        [
            "timestamp",
            "order_id",
            "signal_id",
            "symbol",
            "side",
            "quantity",
            "price",
            "fee",
            "liquidity",
        ],
        fill_rows,
    )
    _write_csv(
        out_dir / "refused_signals.csv",
        ["timestamp", "line", "signal_id", "symbol", "action", "code", "reason"],
        [
            [
                iso(r.signal.ts),
                r.line,
                r.signal.signal_id,
                r.signal.instrument_id,
                r.signal.action,
                r.code,
                r.reason,
            ]
            for r in result.refused
        ],
    )
    marks = engine.state.marks
    _write_csv(
        out_dir / "positions.csv",
        [
            "symbol",
            "side",
            "quantity",
            "average_price",
            "mark",
            "market_value",
            "unrealized_pnl",
            "realized_pnl",
            "currency",
        ],
        [
            [
                p.instrument_id,
                "LONG" if p.quantity > 0 else "SHORT" if p.quantity < 0 else "FLAT",
                abs(p.quantity),
                p.average_price if p.average_price is not None else "",
                marks.get(p.instrument_id, ""),
                p.market_value(marks[p.instrument_id]) if p.instrument_id in marks else "",
                p.unrealized_pnl(marks[p.instrument_id]) if p.instrument_id in marks else "",
                p.realized_pnl,
                p.currency,
            ]
            for p in engine.state.positions.values()
        ],
    )
    curve = [(ts, equity) for ts, equity, _ in result.equity]
    drawdowns = drawdown_series(curve, opening_equity=result.starting_equity) if curve else []
    _write_csv(
        out_dir / "equity.csv",
        ["timestamp", "equity", "cash", "drawdown"],
        [
            [iso(ts), equity, cash, dd]
            for (ts, equity, cash), dd in zip(result.equity, drawdowns, strict=True)
        ],
    )
    summary = summarize_result(result)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    write_report(
        out_dir / "report.html",
        title=title,
        summary={
            "starting_equity": Decimal(summary["startingEquity"]),
            "final_equity": Decimal(summary["finalEquity"]),
            "total_return": Decimal(summary["totalReturn"]),
            "realized_pnl": Decimal(summary["realizedPnL"]),
            "fees": Decimal(summary["fees"]),
            "orders": summary["orders"],
            "fills": summary["fills"],
            "sharpe_ratio": summary["sharpeRatio"],
            "max_drawdown": Decimal(summary["maxDrawdown"]),
        },
        equity=curve,
        drawdown=drawdowns,
        fills=[
            {
                "ts_ns": f.ts_event,
                "symbol": f.instrument_id,
                "side": str(f.side),
                "qty": f.last_quantity,
                "price": f.last_price,
                "fee": f.fee,
            }
            for f in result.fills[:200]
        ],
    )
    return summary
