"""The ``alphintra`` command line.

Exit codes: 0 success, 1 unexpected failure, 2 bad usage or bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from alphintra import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _data_spec(text: str) -> tuple[str, Path]:
    symbol, sep, path = text.partition("=")
    if not sep or not symbol or not path:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=PATH, got {text!r}")
    return symbol.strip().upper(), Path(path)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="alphintra", description="Alphintra trading engine: backtests and the service."
    )
    parser.add_argument("--version", action="version", version=f"alphintra {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    backtest = commands.add_parser(
        "backtest",
        help="run signals against historical data on the simulated venue",
        description=(
            "Run a JSON Lines signal file against CSV market data on the simulated venue "
            "and write orders.csv, fills.csv, positions.csv, equity.csv, summary.json "
            "and report.html into the output folder."
        ),
    )
    backtest.add_argument(
        "--data",
        action="append",
        type=_data_spec,
        required=True,
        metavar="SYMBOL=PATH",
        help="market data CSV for a symbol (repeatable)",
    )
    backtest.add_argument("--signals", type=Path, required=True, help="JSON Lines signal file")
    backtest.add_argument("--out", type=Path, required=True, help="output folder")
    backtest.add_argument("--starting-cash", type=_decimal, default=Decimal(1_000_000))
    backtest.add_argument("--currency", default="USD", help="account base currency")
    backtest.add_argument(
        "--fees-bps",
        type=_decimal,
        default=Decimal(0),
        help="taker fee in basis points of notional (also the maker fee unless given)",
    )
    backtest.add_argument("--maker-fees-bps", type=_decimal, default=None)
    backtest.add_argument("--commission-per-unit", type=_decimal, default=Decimal(0))
    backtest.add_argument(
        "--half-spread",
        type=_decimal,
        default=Decimal(0),
        help="price added for buys and subtracted for sells on trade bars",
    )
    backtest.add_argument(
        "--partial-fills",
        action="store_true",
        help="limit each fill to the size shown in the data",
    )
    backtest.add_argument(
        "--latency-ms", type=int, default=0, help="simulated delay before an order can fill"
    )
    backtest.add_argument("--instruments", type=Path, help="instrument file (YAML or JSON)")
    backtest.add_argument(
        "--journal",
        default="memory://",
        help="journal URL: memory:// (default), sqlite:///path.db or postgresql://...",
    )
    backtest.add_argument("--json", action="store_true", help="print the summary as JSON")
    backtest.add_argument("--quiet", action="store_true", help="no progress bar")
    serve = commands.add_parser(
        "serve",
        help="run the trading service (REST, WebSocket, metrics)",
        description="Run the trading service. Settings come from ALPHINTRA_* variables, "
        "DATABASE_URL and an optional --config file.",
    )
    serve.add_argument("--config", type=Path, help="settings file (JSON or YAML)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="demo mode: default secrets, demo user, key and account",
    )
    from alphintra.app.admin_commands import add_admin_parsers

    add_admin_parsers(commands)
    from alphintra.app.report_command import add_report_parser

    add_report_parser(commands)
    return parser


EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C): 128 + SIGINT, as shells report it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"error: interrupted ({args.command} did not finish)\n")
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    if args.command == "backtest":
        from alphintra.app.backtest_command import run_backtest_command

        return run_backtest_command(args)
    if args.command == "serve":
        import os

        from alphintra.app.admin_commands import DATABASE_ERRORS, database_error
        from alphintra.app.config import ConfigError, load_settings
        from alphintra.app.server import serve

        try:
            settings = load_settings(args.config, host=args.host, port=args.port, demo=args.demo)
        except ConfigError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_BAD_INPUT
        try:
            return serve(settings, dict(os.environ))
        except ConfigError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_BAD_INPUT
        except DATABASE_ERRORS as exc:  # at start-up: the database cannot be opened
            code, message = database_error(exc, settings.database_url)
            sys.stderr.write(f"error: {message}\n")
            return code
        except OSError as exc:  # at start-up: a folder or file it cannot create or read
            sys.stderr.write(f"error: cannot start the service: {exc}\n")
            return EXIT_FAILURE
    if args.command == "report":
        from alphintra.app.report_command import run_report_command

        return run_report_command(args)
    from alphintra.app.admin_commands import run_admin_command

    return run_admin_command(args)


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "build_parser",
    "json",
    "main",
]
