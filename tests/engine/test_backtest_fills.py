"""End to end: signals through ``run_backtest`` and the ``alphintra backtest`` CLI.

Expected fills are computed by hand from the CSV rows (stdlib ``csv``) with the rules
of ``alphintra.venues.simulated.matching``; the CLI's ``fills.csv`` is read back with
``csv`` too.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.app.cli import main
from alphintra.backtest.runner import BacktestResult, BacktestSettings, run_backtest
from alphintra.backtest.signal_file import NumberedSignal
from alphintra.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    SignalAction,
)
from alphintra.domain.identifiers import InstrumentId, ModelId, SignalId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import (
    BTCUSD_QUOTE,
    DE30EUR_QUOTE,
    SPY_QUOTE,
    SPY_TRADE,
    Row,
    d,
    first_at_or_after,
    first_index,
    index_of,
    read_rows,
    ts_ns,
)
from helpers.market_data import market_data_dir
from helpers.sim_harness import load_series

BPS = Decimal(10_000)


def signal(
    signal_id: str,
    timestamp: str,
    symbol: str,
    action: SignalAction,
    quantity: str | None = None,
    **fields: Any,
) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("model-1"),
        instrument_id=InstrumentId(symbol),
        action=action,
        confidence=Decimal("0.8"),
        ts=ts_ns(timestamp),
        quantity=Decimal(quantity) if quantity is not None else None,
        **fields,
    )


def backtest(
    symbol: str, relative: str, signals: list[TradingSignal], settings: BacktestSettings
) -> BacktestResult:
    data = {symbol: load_series(relative, symbol)}
    numbered = [NumberedSignal(line, s) for line, s in enumerate(signals, start=1)]
    return run_backtest(data, numbered, InstrumentRegistry(), MemoryJournal(), settings)


# run_backtest -------------------------------------------------------------------------


def test_run_backtest_mid_bar_signal_fills_next_bar_and_bar_start_signal_fills_same_bar() -> None:
    # BUY at 14:00:30 cannot use the 14:00 bar (no look-ahead): it fills at the 14:01
    # ask open. CLOSE_LONG at exactly 15:00 comes before that bar: the 15:00 bid open.
    taker, commission = Decimal(1), Decimal("0.005")
    rows = read_rows(SPY_QUOTE)
    buy_row = rows[first_at_or_after(rows, ts_ns("2013-10-07T14:00:30Z"))]
    assert buy_row["timestamp"] == "2013-10-07T14:01:00Z"
    sell_row = rows[index_of(rows, "2013-10-07T15:00:00Z")]
    buy_price, sell_price = d(buy_row, "ask_open"), d(sell_row, "bid_open")

    def fee(price: Decimal) -> Decimal:
        return 100 * price * taker / BPS + 100 * commission

    settings = BacktestSettings(
        venue=SimulatedVenueConfig(taker_fee_bps=taker, commission_per_unit=commission)
    )
    result = backtest(
        "SPY",
        SPY_QUOTE,
        [
            signal("s1", "2013-10-07T14:00:30Z", "SPY", SignalAction.BUY, "100"),
            signal("s2", "2013-10-07T15:00:00Z", "SPY", SignalAction.CLOSE_LONG),
        ],
        settings,
    )

    buy, sell = result.fills
    assert (buy.ts_event, buy.side, buy.last_quantity, buy.last_price, buy.fee) == (
        ts_ns("2013-10-07T14:01:00Z"), OrderSide.BUY, Decimal(100), buy_price, fee(buy_price),
    )  # fmt: skip
    assert (sell.ts_event, sell.side, sell.last_quantity, sell.last_price, sell.fee) == (
        ts_ns("2013-10-07T15:00:00Z"), OrderSide.SELL, Decimal(100), sell_price,
        fee(sell_price),
    )  # fmt: skip
    value = result.engine.valuation()
    expected_pnl = 100 * (sell_price - buy_price)
    assert value.realized_pnl == expected_pnl
    assert value.cash == settings.starting_cash + expected_pnl - fee(buy_price) - fee(sell_price)


def test_run_backtest_limit_signal_rests_and_fills_at_limit_as_maker() -> None:
    limit = Decimal("167.61")
    rows = read_rows(SPY_QUOTE)
    start = first_at_or_after(rows, ts_ns("2013-10-07T13:59:30Z"))
    i = first_index(rows, start, lambda r: d(r, "ask_low") <= limit)
    assert rows[i]["timestamp"] == "2013-10-07T14:04:00Z"
    settings = BacktestSettings(
        venue=SimulatedVenueConfig(maker_fee_bps=Decimal("0.5"), taker_fee_bps=Decimal(3))
    )
    result = backtest(
        "SPY",
        SPY_QUOTE,
        [
            signal(
                "s1", "2013-10-07T13:59:30Z", "SPY", SignalAction.BUY, "200",
                order_type=OrderType.LIMIT, entry_price=limit,
            )
        ],
        settings,
    )  # fmt: skip
    [fill] = result.fills
    assert fill.ts_event == ts_ns("2013-10-07T14:04:00Z")
    assert fill.last_price == min(limit, d(rows[i], "ask_open")) == limit
    assert fill.liquidity is LiquiditySide.MAKER
    assert fill.fee == 200 * limit * Decimal("0.5") / BPS


def test_run_backtest_bracket_signal_with_both_exits_in_one_bar_takes_stop_loss() -> None:
    stop, target = Decimal("11417.0"), Decimal("11425.5")
    rows = read_rows(DE30EUR_QUOTE)
    # At 09:00:00 the last price is the 08:59 closing mid, between the two exits. (At
    # 08:59:30 it is the 08:58 close, above the take-profit: the bracket was only
    # accepted there while the runner marked a bar at its close from its start.)
    entry_i = first_at_or_after(rows, ts_ns("2019-02-21T09:00:00Z"))
    exit_i = first_index(
        rows, entry_i + 1, lambda r: d(r, "bid_low") <= stop or d(r, "bid_high") >= target
    )
    exit_row = rows[exit_i]
    assert exit_row["timestamp"] == "2019-02-21T09:03:00Z"
    assert d(exit_row, "bid_low") <= stop and d(exit_row, "bid_high") >= target

    result = backtest(
        "DE30EUR",
        DE30EUR_QUOTE,
        [
            signal(
                "s1", "2019-02-21T09:00:00Z", "DE30EUR", SignalAction.BUY, "3",
                stop_loss=stop, take_profit=target,
            )
        ],
        BacktestSettings(currency="EUR"),
    )  # fmt: skip

    entry, exit_ = result.fills
    assert (entry.ts_event, entry.last_price) == (
        ts_ns("2019-02-21T09:00:00Z"), d(rows[entry_i], "ask_open"),
    )  # fmt: skip
    assert (exit_.ts_event, exit_.side, exit_.last_price) == (
        ts_ns("2019-02-21T09:03:00Z"), OrderSide.SELL, min(stop, d(exit_row, "bid_open")),
    )  # fmt: skip
    orders = result.engine.state.orders
    assert orders[exit_.client_order_id].order_type is OrderType.STOP
    [target_order] = [o for o in orders.values() if o.order_type is OrderType.LIMIT]
    assert target_order.status is OrderStatus.CANCELLED
    assert result.engine.state.position_quantity(InstrumentId("DE30EUR")) == 0
    assert result.engine.rejected_reports == []


def test_run_backtest_latency_delays_fill_to_first_bar_after_submit_plus_latency() -> None:
    latency_ns = 95 * 1_000_000_000
    rows = read_rows(SPY_QUOTE)
    row = rows[first_at_or_after(rows, ts_ns("2013-10-07T13:59:30Z") + latency_ns)]
    assert row["timestamp"] == "2013-10-07T14:02:00Z"
    result = backtest(
        "SPY",
        SPY_QUOTE,
        [signal("s1", "2013-10-07T13:59:30Z", "SPY", SignalAction.SELL, "100")],
        BacktestSettings(venue=SimulatedVenueConfig(latency_ns=latency_ns)),
    )
    [fill] = result.fills
    assert fill.ts_event == ts_ns("2013-10-07T14:02:00Z")
    assert fill.last_price == d(row, "bid_open")


# The CLI ------------------------------------------------------------------------------


def write_signals(path: Path, signals: list[dict[str, object]]) -> Path:
    lines = [json.dumps({"modelId": "model-1", "confidence": "0.8", **s}) + "\n" for s in signals]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run_cli(tmp_path: Path, symbol: str, relative: str, *options: str) -> list[Row]:
    out = tmp_path / "out"
    code = main(
        [
            "backtest",
            "--data",
            f"{symbol}={market_data_dir() / relative}",
            "--signals",
            str(tmp_path / "signals.jsonl"),
            "--out",
            str(out),
            "--quiet",
            *options,
        ]
    )
    assert code == 0
    with (out / "fills.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def fill_row(row: Row) -> tuple[str, str, Decimal, Decimal, Decimal, str]:
    return (
        row["timestamp"],
        row["side"],
        Decimal(row["quantity"]),
        Decimal(row["price"]),
        Decimal(row["fee"]),
        row["liquidity"],
    )


def test_cli_fills_csv_matches_hand_computed_taker_and_maker_fills(tmp_path: Path) -> None:
    taker, maker, commission = Decimal(2), Decimal("0.5"), Decimal("0.005")
    limit = Decimal("168.15")
    rows = read_rows(SPY_QUOTE)
    buy_row = rows[first_at_or_after(rows, ts_ns("2013-10-07T14:00:30Z"))]
    # The closing limit is sent at 14:01:30; the first bar after it whose bid high
    # reaches 168.15 fills it at max(168.15, bid open).
    close_from = first_at_or_after(rows, ts_ns("2013-10-07T14:01:30Z"))
    sell_i = first_index(rows, close_from, lambda r: d(r, "bid_high") >= limit)
    sell_row = rows[sell_i]
    assert sell_row["timestamp"] == "2013-10-07T14:12:00Z"
    buy_price = d(buy_row, "ask_open")
    sell_price = max(limit, d(sell_row, "bid_open"))

    write_signals(
        tmp_path / "signals.jsonl",
        [
            {"signalId": "s1", "timestamp": "2013-10-07T14:00:30Z", "symbol": "SPY",
             "action": "BUY", "quantity": 150},
            {"signalId": "s2", "timestamp": "2013-10-07T14:01:30Z", "symbol": "SPY",
             "action": "CLOSE_LONG", "orderType": "LIMIT", "entryPrice": "168.15"},
        ],
    )  # fmt: skip
    fills = run_cli(
        tmp_path, "SPY", SPY_QUOTE,
        "--fees-bps", str(taker), "--maker-fees-bps", str(maker),
        "--commission-per-unit", str(commission),
    )  # fmt: skip

    assert [fill_row(r) for r in fills] == [
        (buy_row["timestamp"], "BUY", Decimal(150), buy_price,
         150 * buy_price * taker / BPS + 150 * commission, "TAKER"),
        (sell_row["timestamp"], "SELL", Decimal(150), sell_price,
         150 * sell_price * maker / BPS + 150 * commission, "MAKER"),
    ]  # fmt: skip
    assert [r["signal_id"] for r in fills] == ["s1", "s2"]


def test_cli_half_spread_moves_trade_bar_fills_against_the_order(tmp_path: Path) -> None:
    spread = Decimal("0.01")
    rows = read_rows(SPY_TRADE)
    buy_row = rows[first_at_or_after(rows, ts_ns("2013-10-04T08:07:00Z"))]
    sell_row = rows[first_at_or_after(rows, ts_ns("2013-10-04T08:11:00Z"))]
    assert (buy_row["timestamp"], sell_row["timestamp"]) == (
        "2013-10-04T08:09:00Z", "2013-10-04T08:12:00Z",
    )  # fmt: skip
    write_signals(
        tmp_path / "signals.jsonl",
        [
            {"signalId": "b", "timestamp": "2013-10-04T08:07:00Z", "symbol": "SPY",
             "action": "BUY", "quantity": 50},
            {"signalId": "c", "timestamp": "2013-10-04T08:11:00Z", "symbol": "SPY",
             "action": "CLOSE_LONG"},
        ],
    )  # fmt: skip
    fills = run_cli(tmp_path, "SPY", SPY_TRADE, "--half-spread", str(spread))
    assert [fill_row(r) for r in fills] == [
        ("2013-10-04T08:09:00Z", "BUY", Decimal(50), d(buy_row, "open") + spread, Decimal(0),
         "TAKER"),
        ("2013-10-04T08:12:00Z", "SELL", Decimal(50), d(sell_row, "open") - spread, Decimal(0),
         "TAKER"),
    ]  # fmt: skip


def test_cli_partial_fills_split_market_order_by_shown_ask_size(tmp_path: Path) -> None:
    lot = Decimal("0.00000001")
    rows = read_rows(BTCUSD_QUOTE)
    expected: list[tuple[str, Decimal, Decimal]] = []
    left = Decimal(40)
    i = first_at_or_after(rows, ts_ns("2018-04-04T23:58:30Z"))
    while left:
        size = (d(rows[i], "ask_size") / lot).to_integral_value(rounding="ROUND_FLOOR") * lot
        take = min(left, size)
        expected.append((rows[i]["timestamp"], take, d(rows[i], "ask_open")))
        left -= take
        i += 1
    assert len(expected) == 3

    write_signals(
        tmp_path / "signals.jsonl",
        [{"signalId": "s1", "timestamp": "2018-04-04T23:58:30Z", "symbol": "BTCUSD",
          "action": "BUY", "quantity": 40}],
    )  # fmt: skip
    fills = run_cli(tmp_path, "BTCUSD", BTCUSD_QUOTE, "--partial-fills")
    assert [(r["timestamp"], Decimal(r["quantity"]), Decimal(r["price"])) for r in fills] == (
        expected
    )


def test_cli_latency_delays_fill_to_first_bar_after_submit_plus_latency(tmp_path: Path) -> None:
    rows = read_rows(SPY_QUOTE)
    row = rows[first_at_or_after(rows, ts_ns("2013-10-07T14:01:05Z"))]
    assert row["timestamp"] == "2013-10-07T14:02:00Z"
    write_signals(
        tmp_path / "signals.jsonl",
        [{"signalId": "s1", "timestamp": "2013-10-07T13:59:30Z", "symbol": "SPY",
          "action": "BUY", "quantity": 10}],
    )  # fmt: skip
    fills = run_cli(tmp_path, "SPY", SPY_QUOTE, "--latency-ms", "95000")
    assert [(r["timestamp"], Decimal(r["price"])) for r in fills] == [
        ("2013-10-07T14:02:00Z", d(row, "ask_open"))
    ]
