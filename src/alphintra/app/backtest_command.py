"""``alphintra backtest``: load inputs, run with a progress bar, write the outputs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from alphintra.backtest.output import write_outputs
from alphintra.backtest.runner import (
    BACKTEST_ACCOUNT,
    BacktestInputError,
    BacktestSettings,
    run_backtest,
    validate_signals,
)
from alphintra.backtest.signal_file import SignalFileError, load_signals
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import MarketData, QuoteBar, TradeBar
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import ValueRangeError
from alphintra.marketdata.csv_bars import MarketDataFileError, load_bars
from alphintra.store.journal import JournalError, JournalUrlError, open_journal, redact_url
from alphintra.venues.simulated.matching import SimulatedVenueConfig

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def load_registry(path: Path | None) -> InstrumentRegistry:
    """Load an instrument file (YAML or JSON), or return the defaults-only registry."""
    if path is None:
        return InstrumentRegistry()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BacktestInputError(f"{path}: cannot read the instrument file: {exc}") from None
    try:
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise BacktestInputError(f"{path}: not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BacktestInputError(f"{path}: expected a mapping with an 'instruments' key")
    try:
        return InstrumentRegistry.from_mapping(data)
    except ValueRangeError as exc:
        raise BacktestInputError(f"{path}: {exc}") from None


_COST_OPTIONS = {
    "taker_fee_bps": "--fees-bps",
    "maker_fee_bps": "--maker-fees-bps",
    "commission_per_unit": "--commission-per-unit",
    "trade_half_spread": "--half-spread",
}


def _venue_config(args: argparse.Namespace) -> SimulatedVenueConfig:
    """Return the simulated venue the options describe; its own checks refuse costs that
    would pay the trader for every fill, and the error names the option."""
    try:
        return SimulatedVenueConfig(
            taker_fee_bps=args.fees_bps,
            maker_fee_bps=args.maker_fees_bps if args.maker_fees_bps is not None else args.fees_bps,
            commission_per_unit=args.commission_per_unit,
            trade_half_spread=args.half_spread,
            partial_fills=args.partial_fills,
            latency_ns=args.latency_ms * 1_000_000,
        )
    except ValueError as exc:
        message = str(exc)
        for name, option in _COST_OPTIONS.items():
            message = message.replace(f"SimulatedVenueConfig.{name}", option)
        raise BacktestInputError(message) from None


def _fail(err: Console, args: argparse.Namespace, code: int, message: str) -> int:
    """Print ``message`` as an error (verbatim: no markup), and as JSON under --json."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if args.json:
        sys.stdout.write(json.dumps({"error": message, "exitCode": code}) + "\n")
    return code


def _inputs(data: dict[str, list[MarketData]], signals: int) -> int:
    """Return how many inputs the run reports as progress: a bar counts twice (its start
    for the venue, its end for the engine), a tick and a signal once."""
    bars = sum(isinstance(p, TradeBar | QuoteBar) for series in data.values() for p in series)
    return sum(len(series) for series in data.values()) + bars + signals


def run_backtest_command(args: argparse.Namespace) -> int:
    """Run ``alphintra backtest`` with parsed arguments; return the exit code."""
    err = Console(stderr=True)
    try:
        registry = load_registry(args.instruments)
        data: dict[str, list[MarketData]] = {}
        for symbol, path in args.data:
            if symbol in data:
                raise BacktestInputError(f"--data: symbol {symbol} is given twice")
            if not path.is_file():
                raise BacktestInputError(f"{path}: no such data file (for {symbol})")
            registry.get(symbol)
            data[symbol] = list(load_bars(path, InstrumentId(symbol)))
        if not args.signals.is_file():
            raise BacktestInputError(f"{args.signals}: no such signal file")
        if args.starting_cash <= 0:
            raise BacktestInputError(f"--starting-cash must be positive, got {args.starting_cash}")
        if args.latency_ms < 0:
            raise BacktestInputError(f"--latency-ms must not be negative, got {args.latency_ms}")
        venue = _venue_config(args)
        signals = load_signals(args.signals)
        validate_signals(
            signals, data, registry, str(args.signals), latency_ns=args.latency_ms * 1_000_000
        )
        journal = open_journal(args.journal)
        held = journal.head(BACKTEST_ACCOUNT).seq
        if held:
            journal.close()
            raise BacktestInputError(
                f"--journal {redact_url(args.journal)} already holds a backtest ({held} events "
                f"of account {BACKTEST_ACCOUNT}); give a new file, or memory://"
            )
    except (
        BacktestInputError,
        SignalFileError,
        MarketDataFileError,
        JournalUrlError,
        ValueRangeError,
        KeyError,
    ) as exc:
        return _fail(err, args, EXIT_BAD_INPUT, str(exc))
    except JournalError as exc:  # a journal that cannot be opened or read
        return _fail(err, args, EXIT_FAILURE, str(exc))
    settings = BacktestSettings(
        starting_cash=args.starting_cash,
        currency=args.currency.upper(),
        venue=venue,
    )
    total = _inputs(data, len(signals))
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=args.quiet or args.json,
        transient=False,
    ) as progress:
        task = progress.add_task("backtest", total=total)
        try:
            result = run_backtest(
                data,
                signals,
                registry,
                journal,
                settings,
                progress=lambda n: progress.advance(task, n),
            )
        except JournalError as exc:  # the journal failed under the run (a full disk...)
            return _fail(err, args, EXIT_FAILURE, f"--journal {redact_url(args.journal)}: {exc}")
    try:
        summary = write_outputs(result, args.out, title=f"Backtest: {', '.join(sorted(data))}")
    except OSError as exc:
        return _fail(err, args, EXIT_FAILURE, f"cannot write the outputs to {args.out}: {exc}")
    for refused in result.refused:
        err.print(
            f"warning: {args.signals}:{refused.line}: signal {refused.signal.signal_id} "
            f"refused at its time: {refused.reason} ({refused.code}); see refused_signals.csv",
            highlight=False,
            markup=False,
        )
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        err.print(
            f"final equity {summary['finalEquity']} {summary['currency']}, "
            f"return {float(summary['totalReturn']) * 100:.3f}%, "
            f"{summary['orders']} orders, {summary['fills']} fills -> {args.out}",
            highlight=False,
            markup=False,
        )
    return EXIT_OK
