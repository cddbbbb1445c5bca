"""Order types emulated by the engine on a venue that only supports MARKET and LIMIT.

Documented behaviour (``alphintra.orders.emulator``): the engine detects the trigger
on a data point it sees, then releases the order as a MARKET (stop, market-if-touched,
trailing stop) or LIMIT (stop-limit, limit-if-touched) order, which reaches the venue
after that data point and so fills on the next one at the earliest.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest

from alphintra.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TrailingOffsetType,
)
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import (
    DE30EUR_QUOTE,
    EURUSD_QUOTE,
    SPY_QUOTE,
    XAUUSD_QUOTE,
    Row,
    d,
    first_at_or_after,
    first_index,
    read_rows,
    ts_ns,
)
from helpers.sim_harness import SimHarness

BUY, SELL = OrderSide.BUY, OrderSide.SELL
EMULATING = SimulatedVenueConfig(
    capabilities=VenueCapabilities(order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}))
)
SPY_SUBMIT = "2013-10-07T13:59:30Z"


def first_touch(relative: str, submit_at: str, column: str, op: str, level: Decimal) -> int:
    rows = read_rows(relative)
    start = first_at_or_after(rows, ts_ns(submit_at))
    if op == "<=":
        return first_index(rows, start, lambda r: d(r, column) <= level)
    return first_index(rows, start, lambda r: d(r, column) >= level)


EMULATED_MARKET_CASES = [
    # symbol, file, submit, side, type, trigger column, op, level, trigger bar
    ("SPY", SPY_QUOTE, SPY_SUBMIT, SELL, OrderType.STOP, "bid_low", "<=", "167.62",
     "2013-10-07T14:01:00Z"),
    ("XAUUSD", XAUUSD_QUOTE, "2014-05-06T05:59:30Z", BUY, OrderType.STOP, "ask_high", ">=",
     "1310.130", "2014-05-06T06:11:00Z"),
    ("SPY", SPY_QUOTE, SPY_SUBMIT, SELL, OrderType.TAKE_PROFIT, "bid_high", ">=", "168.15",
     "2013-10-07T14:12:00Z"),
    ("SPY", SPY_QUOTE, SPY_SUBMIT, BUY, OrderType.TAKE_PROFIT, "ask_low", "<=", "167.61",
     "2013-10-07T14:04:00Z"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("symbol", "relative", "submit_at", "side", "order_type", "column", "op", "level", "bar"),
    EMULATED_MARKET_CASES,
    ids=[f"{c[0]}-{c[4]}-{c[3]}" for c in EMULATED_MARKET_CASES],
)
def test_emulated_trigger_detected_on_bar_releases_market_filled_at_next_bar_open(
    symbol: str,
    relative: str,
    submit_at: str,
    side: OrderSide,
    order_type: OrderType,
    column: str,
    op: str,
    level: str,
    bar: str,
) -> None:
    rows = read_rows(relative)
    i = first_touch(relative, submit_at, column, op, Decimal(level))
    assert rows[i]["timestamp"] == bar
    nxt = rows[i + 1]
    price = d(nxt, "ask_open" if side is BUY else "bid_open")

    h = SimHarness(symbol, relative, EMULATING)
    h.begin(submit_at)
    order = h.submit(side, order_type, "4", trigger_price=Decimal(level))
    assert order.emulated
    assert h.venue.open_order_ids() == []  # held by the engine, not at the venue
    h.run_until_closed(order)

    assert [t.ts_event for t in h.triggers(order)] == [ts_ns(bar)]
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(nxt["timestamp"])
    assert fill.last_price == price
    assert fill.liquidity is LiquiditySide.TAKER
    assert order.status is OrderStatus.FILLED
    assert h.engine.rejected_reports == []


def test_emulated_stop_limit_released_as_limit_fills_from_the_next_bar() -> None:
    stop, limit = Decimal("167.90"), Decimal("167.95")
    rows = read_rows(SPY_QUOTE)
    i = first_touch(SPY_QUOTE, SPY_SUBMIT, "ask_high", ">=", stop)
    assert rows[i]["timestamp"] == "2013-10-07T14:07:00Z"
    j = first_index(rows, i + 1, lambda r: d(r, "ask_low") <= limit)
    assert j == i + 1
    price = min(limit, d(rows[j], "ask_open"))
    # Released after 14:07, the limit's first bar is 14:08, where it is not marketable
    # at the open: it rested first, so it is a maker.
    assert d(rows[j], "ask_open") > limit

    h = SimHarness("SPY", SPY_QUOTE, EMULATING)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.STOP_LIMIT, "100", trigger_price=stop, price=limit)
    h.run_until_closed(order)

    assert [t.ts_event for t in h.triggers(order)] == [ts_ns("2013-10-07T14:07:00Z")]
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(rows[j]["timestamp"])
    assert fill.last_price == price == limit
    assert fill.liquidity is LiquiditySide.MAKER


def test_emulated_limit_if_touched_released_as_limit_rests_until_reached() -> None:
    target, limit = Decimal("167.62"), Decimal("167.61")
    rows = read_rows(SPY_QUOTE)
    i = first_touch(SPY_QUOTE, SPY_SUBMIT, "ask_low", "<=", target)
    assert rows[i]["timestamp"] == "2013-10-07T14:01:00Z"
    j = first_index(rows, i + 1, lambda r: d(r, "ask_low") <= limit)
    assert rows[j]["timestamp"] == "2013-10-07T14:04:00Z"

    h = SimHarness("SPY", SPY_QUOTE, EMULATING)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.TAKE_PROFIT, "100", trigger_price=target, price=limit)
    h.run_until_closed(order)

    assert [t.ts_event for t in h.triggers(order)] == [ts_ns("2013-10-07T14:01:00Z")]
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:04:00Z")
    assert fill.last_price == min(limit, d(rows[j], "ask_open"))


def _to_tick(raw: Decimal, tick: Decimal, buy: bool) -> Decimal:
    steps = (raw / tick).to_integral_value(rounding=ROUND_CEILING if buy else ROUND_FLOOR)
    return (steps * tick).quantize(tick)


def emulated_trail_by_hand(
    rows: Sequence[Row],
    submit_at: str,
    side: OrderSide,
    offset: Decimal,
    percent: bool,
    tick: Decimal,
) -> tuple[str, str, Decimal, list[Decimal]]:
    """Return (trigger bar, fill bar, fill price, stop moves) of an emulated trailing stop.

    The stop starts from the executable open of the first bar the engine sees after
    the order arrives; on every bar (that one included) the stop is first checked
    against the adverse extreme, then moved from the favourable extreme. A triggered
    stop is released as a market order and fills at the next bar's open.
    """
    buy = side is BUY
    prefix = "ask" if buy else "bid"

    def stop_from(extreme: Decimal) -> Decimal:
        distance = extreme * offset / 100 if percent else offset
        return _to_tick(extreme + distance if buy else extreme - distance, tick, buy)

    start = first_at_or_after(rows, ts_ns(submit_at))
    extreme = d(rows[start], f"{prefix}_open")
    stop = stop_from(extreme)
    stops: list[Decimal] = []  # the stop at the end of each bar that changed it
    for i in range(start, len(rows)):
        row = rows[i]
        if (buy and d(row, "ask_high") >= stop) or (not buy and d(row, "bid_low") <= stop):
            nxt = rows[i + 1]
            return row["timestamp"], nxt["timestamp"], d(nxt, f"{prefix}_open"), stops
        best = d(row, "ask_low") if buy else d(row, "bid_high")
        if (buy and best < extreme) or (not buy and best > extreme):
            extreme = best
            moved = stop_from(best)
            if (buy and moved < stop) or (not buy and moved > stop):
                stop = moved
        if not stops or stops[-1] != stop:
            stops.append(stop)
    raise AssertionError("the trailing stop never triggered")


EMULATED_TRAILING_CASES = [
    # symbol, file, submit, side, offset, percent?, tick, trigger bar
    ("SPY", SPY_QUOTE, SPY_SUBMIT, SELL, "0.20", False, "0.01", "2013-10-07T14:35:00Z"),
    # The 14:01 bar opens at 167.73 and trades down to 167.61: the first bar both sets
    # the 167.63 stop and triggers it.
    ("SPY", SPY_QUOTE, "2013-10-07T14:00:30Z", SELL, "0.10", False, "0.01",
     "2013-10-07T14:01:00Z"),
    ("EURUSD", EURUSD_QUOTE, "2014-05-08T13:29:30Z", BUY, "0.00080", False, "0.00001",
     "2014-05-08T14:07:00Z"),
    ("DE30EUR", DE30EUR_QUOTE, "2019-02-21T08:59:30Z", BUY, "0.1", True, "0.1",
     "2019-02-21T09:12:00Z"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("symbol", "relative", "submit_at", "side", "offset", "percent", "tick", "trigger_bar"),
    EMULATED_TRAILING_CASES,
    ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in EMULATED_TRAILING_CASES],
)
def test_emulated_trailing_stop_follows_hand_path_and_fills_at_next_bar_open(
    symbol: str,
    relative: str,
    submit_at: str,
    side: OrderSide,
    offset: str,
    percent: bool,
    tick: str,
    trigger_bar: str,
) -> None:
    rows = read_rows(relative)
    bar, fill_bar, price, stops = emulated_trail_by_hand(
        rows, submit_at, side, Decimal(offset), percent, Decimal(tick)
    )
    assert bar == trigger_bar

    h = SimHarness(symbol, relative, EMULATING)
    h.begin(submit_at)
    order = h.submit(
        side,
        OrderType.TRAILING_STOP,
        "3",
        trailing_offset=Decimal(offset),
        trailing_offset_type=TrailingOffsetType.PERCENT if percent else TrailingOffsetType.PRICE,
    )
    assert order.emulated
    h.run_until_closed(order)

    assert [stop for _, stop in h.trigger_moves(order)] == stops
    assert [t.ts_event for t in h.triggers(order)] == [ts_ns(trigger_bar)]
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(fill_bar)
    assert fill.last_price == price


def test_emulated_bracket_stop_loss_released_at_trigger_fills_next_open_and_cancels_target() -> (
    None
):
    # DE30EUR: the emulated stop-loss (a STOP the venue lacks) triggers at 09:03 when the
    # bid low reaches 11417.0 and fills at the 09:04 bid open; the target is cancelled.
    submit_at = "2019-02-21T08:59:30Z"
    stop, target = Decimal("11417.0"), Decimal("11435.5")
    rows = read_rows(DE30EUR_QUOTE)
    entry_i = first_at_or_after(rows, ts_ns(submit_at))
    exit_i = first_index(
        rows, entry_i + 1, lambda r: d(r, "bid_low") <= stop or d(r, "bid_high") >= target
    )
    assert rows[exit_i]["timestamp"] == "2019-02-21T09:03:00Z"
    assert d(rows[exit_i], "bid_high") < target
    nxt = rows[exit_i + 1]

    h = SimHarness("DE30EUR", DE30EUR_QUOTE, EMULATING)
    h.begin(submit_at)
    entry, stop_loss, take_profit = h.submit_bracket(
        h.request(BUY, OrderType.MARKET, "2"), stop_loss=stop, take_profit=target
    )
    assert stop_loss.emulated and not take_profit.emulated
    h.run_until_closed(stop_loss)

    [entry_fill] = h.fills(entry)
    assert entry_fill.last_price == d(rows[entry_i], "ask_open")
    assert [t.ts_event for t in h.triggers(stop_loss)] == [ts_ns("2019-02-21T09:03:00Z")]
    [stop_fill] = h.fills(stop_loss)
    assert stop_fill.ts_event == ts_ns(nxt["timestamp"])
    assert stop_fill.last_price == d(nxt, "bid_open")
    h.step()
    assert take_profit.status is OrderStatus.CANCELLED
    assert h.fills(take_profit) == []
    assert h.position() == 0
