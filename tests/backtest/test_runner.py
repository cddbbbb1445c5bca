"""Tests for ``alphintra.backtest.runner``: input checks and the timeline of a run.

Data are the real minute bars of the shared market data pack; expected prices are
read from its CSV rows with the stdlib ``csv`` module.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from alphintra.app.backtest_command import EXIT_BAD_INPUT
from alphintra.app.cli import main
from alphintra.backtest.runner import (
    BacktestInputError,
    BacktestSettings,
    run_backtest,
    validate_signals,
)
from alphintra.backtest.signal_file import NumberedSignal
from alphintra.domain.enums import SignalAction
from alphintra.domain.identifiers import InstrumentId, ModelId, SignalId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import SPY_QUOTE, index_of, read_rows, ts_ns
from helpers.market_data import market_data_dir
from helpers.sim_harness import load_series


def _buy(signal_id: str, ts: int, quantity: str = "10") -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("model-1"),
        instrument_id=InstrumentId("SPY"),
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=ts,
        quantity=Decimal(quantity),
    )


def _numbered(*signals: TradingSignal) -> list[NumberedSignal]:
    return [NumberedSignal(line, s) for line, s in enumerate(signals, start=1)]


def test_validate_signals_latency_past_last_data_raises_naming_line() -> None:
    # The last bar's start is data at the signal's own time, but with latency the order
    # could only fill on later data, which does not exist: the order would stay open
    # and the signal would be dropped without a word.
    last = ts_ns(read_rows(SPY_QUOTE)[-1]["timestamp"])
    data = {"SPY": load_series(SPY_QUOTE, "SPY")}
    signals = _numbered(_buy("early", last - 60 * 10**9), _buy("late", last))

    validate_signals(signals, data, InstrumentRegistry(), "signals.jsonl")  # no latency: fine
    with pytest.raises(BacktestInputError) as info:
        validate_signals(signals, data, InstrumentRegistry(), "signals.jsonl", latency_ns=1)

    text = str(info.value)
    assert text.startswith("signals.jsonl:2: signal late ")
    assert f"at {last} ns" in text
    assert "plus the 1 ns latency" in text
    assert f"the last is at {last} ns" in text


def test_run_backtest_with_latency_fills_every_validated_signal() -> None:
    rows = read_rows(SPY_QUOTE)
    data = {"SPY": load_series(SPY_QUOTE, "SPY")}
    latency = 60 * 10**9
    signals = _numbered(_buy("a", ts_ns(rows[-2]["timestamp"])))
    validate_signals(signals, data, InstrumentRegistry(), "signals.jsonl", latency_ns=latency)
    settings = BacktestSettings(venue=SimulatedVenueConfig(latency_ns=latency))

    result = run_backtest(data, signals, InstrumentRegistry(), MemoryJournal(), settings)

    (fill,) = result.fills
    assert fill.ts_event == ts_ns(rows[-1]["timestamp"])
    assert fill.last_price == Decimal(rows[-1]["ask_open"])


def test_backtest_cli_signal_at_last_bar_with_latency_exits_with_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    last = read_rows(SPY_QUOTE)[-1]["timestamp"]
    signals = tmp_path / "signals.jsonl"
    signals.write_text(
        json.dumps(
            {
                "signalId": "late",
                "modelId": "model-1",
                "timestamp": last,
                "symbol": "SPY",
                "action": "BUY",
                "confidence": 0.5,
                "quantity": 10,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    argv = [
        "backtest",
        "--data",
        f"SPY={market_data_dir() / SPY_QUOTE}",
        "--signals",
        str(signals),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--latency-ms",
        "5",
    ]

    assert main(argv) == EXIT_BAD_INPUT

    error = " ".join(capsys.readouterr().err.split())
    assert f"{signals}:1: signal late" in error
    assert "plus the 5000000 ns latency" in error
    assert not (tmp_path / "out").exists()


def _mid_close(row: dict[str, str]) -> Decimal:
    return (Decimal(row["bid_close"]) + Decimal(row["ask_close"])) / 2


def test_run_backtest_bracket_exit_on_wrong_side_of_last_price_is_refused_and_run_goes_on() -> None:
    # At 14:01:00 the last price is the 14:00 bar's closing mid; a SELL whose stop-loss
    # is below it cannot become a bracket. That is known only during the run, so it
    # must be reported, not raised out of run_backtest (which lost the whole run).
    rows = read_rows(SPY_QUOTE)
    last_bar = rows[index_of(rows, "2013-10-07T14:00:00Z")]
    last_mid, stop = _mid_close(last_bar), Decimal(last_bar["bid_close"])
    assert stop < last_mid
    refused_signal = msgspec.structs.replace(
        _buy("bracket", ts_ns("2013-10-07T14:01:00Z")),
        action=SignalAction.SELL,
        stop_loss=stop,
    )
    later = _buy("later", ts_ns("2013-10-07T14:05:00Z"))
    data = {"SPY": load_series(SPY_QUOTE, "SPY")}

    result = run_backtest(
        data,
        _numbered(refused_signal, later),
        InstrumentRegistry(),
        MemoryJournal(),
        BacktestSettings(),
    )

    (refused,) = result.refused
    assert (refused.line, refused.signal, refused.code) == (
        1, refused_signal, "STOP_LOSS_WRONG_SIDE",
    )  # fmt: skip
    assert str(stop) in refused.reason and str(last_mid) in refused.reason
    (fill,) = result.fills
    buy_row = rows[index_of(rows, "2013-10-07T14:05:00Z")]
    assert (fill.ts_event, fill.last_price) == (
        ts_ns("2013-10-07T14:05:00Z"), Decimal(buy_row["ask_open"]),
    )  # fmt: skip
    assert result.engine.state.orders[fill.client_order_id].signal_id == "later"


def test_backtest_cli_refused_signal_is_listed_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = read_rows(SPY_QUOTE)
    stop = Decimal(rows[index_of(rows, "2013-10-07T14:00:00Z")]["bid_close"])
    signals = tmp_path / "signals.jsonl"
    signals.write_text(
        '{"signalId": "bracket", "modelId": "m", "timestamp": "2013-10-07T14:01:00Z", '
        f'"symbol": "SPY", "action": "SELL", "confidence": 0.5, "quantity": 10, '
        f'"stopLoss": {stop}}}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    argv = ["backtest", "--data", f"SPY={market_data_dir() / SPY_QUOTE}"]
    argv += ["--signals", str(signals), "--out", str(out), "--quiet"]

    assert main(argv) == 0

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["refusedSignals"], summary["orders"], summary["fills"]) == (1, 0, 0)
    with (out / "refused_signals.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["timestamp"], row["line"], row["signal_id"], row["code"]) == (
        "2013-10-07T14:01:00Z", "1", "bracket", "STOP_LOSS_WRONG_SIDE",
    )  # fmt: skip
    error = " ".join(capsys.readouterr().err.split())
    assert f"{signals}:1: signal bracket refused" in error


def test_run_backtest_signal_inside_a_bar_is_judged_at_the_previous_close() -> None:
    # A SELL at 14:00:30 with its stop-loss between the 13:59 closing mid (the last
    # price known at 14:00:30) and the 14:00 closing mid (known only at 14:01). Judged
    # at the 14:00 close, a price from the future, the bracket was refused; judged at
    # the 13:59 close it is valid and fills at the 14:01 bid open.
    rows = read_rows(SPY_QUOTE)
    known = _mid_close(rows[index_of(rows, "2013-10-07T13:59:00Z")])
    future = _mid_close(rows[index_of(rows, "2013-10-07T14:00:00Z")])
    stop = Decimal("167.72")
    assert known < stop < future
    sell = msgspec.structs.replace(
        _buy("bracket", ts_ns("2013-10-07T14:00:30Z")), action=SignalAction.SELL, stop_loss=stop
    )
    data = {"SPY": load_series(SPY_QUOTE, "SPY")}

    result = run_backtest(
        data, _numbered(sell), InstrumentRegistry(), MemoryJournal(), BacktestSettings()
    )

    assert result.refused == []
    entry = result.fills[0]
    next_bar = rows[index_of(rows, "2013-10-07T14:01:00Z")]
    assert (entry.ts_event, entry.last_price) == (
        ts_ns("2013-10-07T14:01:00Z"), Decimal(next_bar["bid_open"]),
    )  # fmt: skip


def test_run_backtest_equity_point_values_a_bar_at_its_close_from_its_end() -> None:
    # An equity point stamped t may use only prices known at t: a bar's close counts
    # from the bar's end, not from its start.
    rows = read_rows(SPY_QUOTE)
    data = {"SPY": load_series(SPY_QUOTE, "SPY")}
    buy = _buy("a", ts_ns("2013-10-07T14:00:00Z"), quantity="100")

    result = run_backtest(
        data, _numbered(buy), InstrumentRegistry(), MemoryJournal(), BacktestSettings()
    )

    (fill,) = result.fills
    points = {ts: (equity, cash) for ts, equity, cash in result.equity}
    for stamp, closing in (
        ("2013-10-07T14:01:00Z", "2013-10-07T14:00:00Z"),
        ("2013-10-07T14:02:00Z", "2013-10-07T14:01:00Z"),
    ):
        equity, cash = points[ts_ns(stamp)]
        mark = _mid_close(rows[index_of(rows, closing)])
        assert cash == BacktestSettings().starting_cash - 100 * fill.last_price - fill.fee
        assert equity == cash + 100 * mark
