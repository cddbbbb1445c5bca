"""``alphintra report best-execution | tca``: the execution reports from the command line.

The reports are read from the ``execution_quality`` table of the database
(``--database-url``, else ``DATABASE_URL``, else the service's default) and written
as JSON, CSV or HTML to ``--out`` or to standard output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alphintra.api.views import nanos
from alphintra.app.config import ConfigError, load_settings
from alphintra.reports.build import check_nanos, parse_day, previous_day, tca_selection
from alphintra.reports.queries import ReportStore
from alphintra.reports.render import ReportFormat, render
from alphintra.store.journal import redact_url

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def _day(text: str) -> date:
    try:
        return parse_day("--date", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _moment(text: str) -> int:
    """Parse an ISO date or date-time (naive means UTC) into nanoseconds since the epoch."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO date or date-time, got {text!r}"
        ) from None
    ns = nanos(moment)
    try:
        return check_nanos("the time", ns, repr(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_report_parser(commands: Any) -> None:
    """Register ``report`` and its two reports on the CLI's subparsers."""
    report = commands.add_parser(
        "report",
        help="best-execution and transaction-cost reports",
        description="Build an execution report from the execution_quality table.",
    )
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="REPORT")
    best = kinds.add_parser(
        "best-execution",
        help="one UTC day per venue and instrument, with percentiles",
        description="Best execution of one UTC day: order count, slippage and execution "
        "time percentiles, price improvement rate, venue breakdown, costs by venue.",
    )
    best.add_argument("--date", type=_day, help="the UTC day, YYYY-MM-DD (default: yesterday)")
    tca = kinds.add_parser(
        "tca",
        help="transaction-cost analysis of a period, account, model or strategy",
        description="Implementation shortfall split into spread, impact, timing and fees.",
    )
    tca.add_argument("--from", dest="start", type=_moment, help="start (ISO), inclusive")
    tca.add_argument("--to", dest="end", type=_moment, help="end (ISO), exclusive")
    tca.add_argument("--model", help="only orders of this model ID")
    tca.add_argument("--strategy", help="only orders of this strategy (TWAP, MARKET...)")
    tca.add_argument("--symbol", help="only orders of this instrument")
    for sub in (best, tca):
        sub.add_argument("--database-url", default=None, help="default: DATABASE_URL")
        sub.add_argument(
            "--account", action="append", help="only this account (repeatable; default: all)"
        )
        sub.add_argument(
            "--format", choices=[f.value for f in ReportFormat], default="json", dest="form"
        )
        sub.add_argument("--out", type=Path, help="output file (default: standard output)")
        sub.add_argument(
            "--json", action="store_true", help="print what was written as one JSON line"
        )


def _sqlite_missing(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///").partition("?")[0])
    return None if path.exists() else path


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    """Write ``message`` as one error line (and as JSON on stdout under --json)."""
    sys.stderr.write(f"error: {message}\n")
    if args.json:
        sys.stdout.write(json.dumps({"error": message, "exitCode": code}) + "\n")
    return code


def run_report_command(args: argparse.Namespace) -> int:
    """Run ``alphintra report`` with parsed arguments; return the exit code."""
    try:
        url = load_settings(None, database_url=args.database_url).database_url
    except ConfigError as exc:
        return _fail(args, EXIT_BAD_INPUT, str(exc))
    shown = redact_url(url)
    missing = _sqlite_missing(url)
    if missing is not None:
        return _fail(args, EXIT_BAD_INPUT, f"no database at {missing} (from {shown!r})")
    form = ReportFormat(args.form)
    accounts = set(args.account) if args.account else None
    try:
        store = ReportStore.open(url)
    except sa.exc.ArgumentError as exc:
        return _fail(args, EXIT_BAD_INPUT, f"bad database URL {shown!r}: {exc}")
    try:
        if args.report_kind == "best-execution":
            day = args.date or previous_day(time.time_ns())
            report: Any = store.best_execution(day, accounts)
            name = f"best-execution {day.isoformat()}"
        else:
            try:
                selection = tca_selection(
                    start_ts=args.start,
                    end_ts=args.end,
                    account_id=args.account[0] if args.account and len(args.account) == 1 else None,
                    model_id=args.model,
                    strategy=args.strategy,
                    instrument_id=args.symbol.upper() if args.symbol else None,
                )
            except ValueError as exc:
                return _fail(args, EXIT_BAD_INPUT, f"--from/--to: {exc}")
            report = store.tca(selection, accounts)
            name = "tca"
    except sa.exc.SQLAlchemyError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return _fail(
            args,
            EXIT_FAILURE,
            f"cannot read execution_quality at {shown!r} (run alphintra migrate?): "
            f"{type(exc).__name__}: {detail}",
        )
    finally:
        store.close()
    body = render(report, form)
    if args.out is None:
        sys.stdout.write(body)
    else:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(body, encoding="utf-8")
        except OSError as exc:
            return _fail(args, EXIT_FAILURE, f"cannot write {args.out}: {exc}")
    if args.json:
        summary = {
            "report": name,
            "format": form.value,
            "orders": report.order_count,
            "out": str(args.out) if args.out is not None else None,
        }
        stream = sys.stdout if args.out is not None else sys.stderr
        stream.write(json.dumps(summary) + "\n")
    elif args.out is not None:
        print(f"{name}: {report.order_count} orders -> {args.out}")
    return EXIT_OK
