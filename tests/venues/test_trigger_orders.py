"""STOP, STOP_LIMIT, TAKE_PROFIT and TRAILING_STOP fills checked against hand computation.

Each expected trigger bar is found by scanning the CSV rows (stdlib ``csv``) for the
first bar that meets the documented condition; each expected price follows the rule
in ``alphintra.venues.simulated.matching``.
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
from alphintra.domain.events import OrderFilled, OrderTriggered
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import (
    BTCUSD_TRADE,
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
SPY_SUBMIT = "2013-10-07T13:59:30Z"


def scan(relative: str, submit_at: str, condition: str, level: str) -> tuple[Row, int]:
    """Return the first row at or after ``submit_at`` where ``column op level`` holds."""
    rows = read_rows(relative)
    column, op = condition.split()
    value = Decimal(level)
    start = first_at_or_after(rows, ts_ns(submit_at))
    if op == "<=":
        i = first_index(rows, start, lambda r: d(r, column) <= value)
    else:
        assert op == ">="
        i = first_index(rows, start, lambda r: d(r, column) >= value)
    return rows[i], i - start


# STOP (stop-market) -----------------------------------------------------------------

STOP_CASES = [
    # symbol, file, submit, side, stop, expected trigger bar, expected price
    # Intrabar: the bar opens on the safe side of the stop and trades through it.
    ("SPY", SPY_QUOTE, SPY_SUBMIT, BUY, "167.90", "2013-10-07T14:07:00Z", "167.90"),
    ("SPY", SPY_QUOTE, SPY_SUBMIT, SELL, "167.62", "2013-10-07T14:01:00Z", "167.62"),
    # Gaps: the bar opens beyond the stop, so the fill is at the (worse) open.
    (
        "XAUUSD", XAUUSD_QUOTE, "2014-05-06T05:59:30Z", BUY, "1310.130",
        "2014-05-06T06:11:00Z", "1310.141",
    ),
    (
        "XAUUSD", XAUUSD_QUOTE, "2014-05-06T17:59:30Z", SELL, "1308.065",
        "2014-05-06T18:17:00Z", "1308.060",
    ),
    (
        "DE30EUR", DE30EUR_QUOTE, "2019-02-21T01:59:30Z", BUY, "11417.2",
        "2019-02-21T02:10:00Z", "11417.4",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("symbol", "relative", "submit_at", "side", "stop", "trigger_bar", "price"),
    STOP_CASES,
    ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in STOP_CASES],
)
def test_stop_market_triggers_on_first_adverse_touch_and_fills_at_stop_or_worse_open(
    symbol: str,
    relative: str,
    submit_at: str,
    side: OrderSide,
    stop: str,
    trigger_bar: str,
    price: str,
) -> None:
    level = Decimal(stop)
    if side is BUY:  # triggers when ask high >= S; fills at max(S, ask open)
        row, _ = scan(relative, submit_at, "ask_high >=", stop)
        expected = max(level, d(row, "ask_open"))
    else:  # triggers when bid low <= S; fills at min(S, bid open)
        row, _ = scan(relative, submit_at, "bid_low <=", stop)
        expected = min(level, d(row, "bid_open"))
    assert row["timestamp"] == trigger_bar
    assert expected == Decimal(price)

    h = SimHarness(symbol, relative)
    h.begin(submit_at)
    order = h.submit(side, OrderType.STOP, "2", trigger_price=level)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(trigger_bar)
    assert fill.last_price == expected
    assert fill.liquidity is LiquiditySide.TAKER
    assert order.status is OrderStatus.FILLED


# STOP_LIMIT -------------------------------------------------------------------------


def test_stop_limit_trigger_price_within_limit_fills_on_the_trigger_bar() -> None:
    stop, limit = Decimal("167.90"), Decimal("167.95")
    row, _ = scan(SPY_QUOTE, SPY_SUBMIT, "ask_high >=", "167.90")
    assert row["timestamp"] == "2013-10-07T14:07:00Z"
    price = max(stop, d(row, "ask_open"))
    assert price <= limit

    h = SimHarness("SPY", SPY_QUOTE)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.STOP_LIMIT, "100", trigger_price=stop, price=limit)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:07:00Z")
    assert fill.last_price == price == stop
    assert fill.liquidity is LiquiditySide.TAKER
    [triggered] = h.triggers(order)
    assert triggered.ts_event == fill.ts_event
    kinds = [type(e) for e in h.order_events(order)]
    assert kinds.index(OrderTriggered) < kinds.index(OrderFilled)


def test_stop_limit_gapping_past_its_limit_triggers_then_rests_as_limit() -> None:
    # XAUUSD 2014-05-06: the 06:11 ask opens at 1310.141, above both the stop and the
    # limit, so the order triggers there but cannot fill; it rests as a buy limit.
    submit_at = "2014-05-06T05:59:30Z"
    stop, limit = Decimal("1310.120"), Decimal("1309.800")
    trigger_row, _ = scan(XAUUSD_QUOTE, submit_at, "ask_high >=", "1310.120")
    assert trigger_row["timestamp"] == "2014-05-06T06:11:00Z"
    assert max(stop, d(trigger_row, "ask_open")) > limit
    rows = read_rows(XAUUSD_QUOTE)
    after = first_at_or_after(rows, ts_ns(trigger_row["timestamp"]) + 1)
    i = first_index(rows, after, lambda r: d(r, "ask_low") <= limit)
    assert rows[i]["timestamp"] == "2014-05-06T06:16:00Z"
    assert i - after == 4  # rested through 06:12 to 06:15
    price = min(limit, d(rows[i], "ask_open"))

    h = SimHarness("XAUUSD", XAUUSD_QUOTE)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.STOP_LIMIT, "5", trigger_price=stop, price=limit)
    h.feed_through("2014-05-06T06:11:00Z")
    assert order.status is OrderStatus.TRIGGERED
    assert h.fills(order) == []
    h.run_until_closed(order)

    [triggered] = h.triggers(order)
    assert triggered.ts_event == ts_ns("2014-05-06T06:11:00Z")
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2014-05-06T06:16:00Z")
    assert fill.last_price == price == limit
    assert fill.liquidity is LiquiditySide.MAKER


# TAKE_PROFIT (market-if-touched and limit-if-touched) -------------------------------


def test_take_profit_sell_market_if_touched_fills_at_target_when_bid_high_reaches_it() -> None:
    target = Decimal("168.15")
    row, waited = scan(SPY_QUOTE, SPY_SUBMIT, "bid_high >=", "168.15")
    assert row["timestamp"] == "2013-10-07T14:12:00Z"
    assert waited == 12
    price = max(target, d(row, "bid_open"))

    h = SimHarness("SPY", SPY_QUOTE)
    h.begin(SPY_SUBMIT)
    order = h.submit(SELL, OrderType.TAKE_PROFIT, "100", trigger_price=target)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:12:00Z")
    assert fill.last_price == price == target


def test_take_profit_buy_market_if_touched_fills_at_target_when_ask_low_reaches_it() -> None:
    target = Decimal("167.61")
    row, _ = scan(SPY_QUOTE, SPY_SUBMIT, "ask_low <=", "167.61")
    assert row["timestamp"] == "2013-10-07T14:04:00Z"
    price = min(target, d(row, "ask_open"))

    h = SimHarness("SPY", SPY_QUOTE)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.TAKE_PROFIT, "100", trigger_price=target)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:04:00Z")
    assert fill.last_price == price == target


def test_take_profit_sell_gapped_through_fills_at_the_better_bid_open() -> None:
    # DE30EUR 2019-02-21: bid highs stay below 11465.2 until the 04:36 bar opens above.
    submit_at = "2019-02-21T03:59:30Z"
    target = Decimal("11465.2")
    row, _ = scan(DE30EUR_QUOTE, submit_at, "bid_high >=", "11465.2")
    assert row["timestamp"] == "2019-02-21T04:36:00Z"
    price = max(target, d(row, "bid_open"))
    assert price == Decimal("11465.4")

    h = SimHarness("DE30EUR", DE30EUR_QUOTE)
    h.begin(submit_at)
    order = h.submit(SELL, OrderType.TAKE_PROFIT, "1.5", trigger_price=target)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2019-02-21T04:36:00Z")
    assert fill.last_price == price


def test_take_profit_limit_if_touched_within_limit_fills_on_the_trigger_bar() -> None:
    submit_at = "2019-02-21T03:59:30Z"
    target, limit = Decimal("11465.2"), Decimal("11465.3")
    row, _ = scan(DE30EUR_QUOTE, submit_at, "bid_high >=", "11465.2")
    price = max(target, d(row, "bid_open"))
    assert price >= limit

    h = SimHarness("DE30EUR", DE30EUR_QUOTE)
    h.begin(submit_at)
    order = h.submit(SELL, OrderType.TAKE_PROFIT, "1.5", trigger_price=target, price=limit)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(row["timestamp"])
    assert fill.last_price == price
    assert [t.ts_event for t in h.triggers(order)] == [fill.ts_event]


def test_take_profit_limit_if_touched_beyond_limit_triggers_then_rests_as_limit() -> None:
    # Touches 167.62 at 14:01 but would fill at 167.62, above the 167.61 limit.
    target, limit = Decimal("167.62"), Decimal("167.61")
    trigger_row, _ = scan(SPY_QUOTE, SPY_SUBMIT, "ask_low <=", "167.62")
    assert trigger_row["timestamp"] == "2013-10-07T14:01:00Z"
    assert min(target, d(trigger_row, "ask_open")) > limit
    rows = read_rows(SPY_QUOTE)
    after = first_at_or_after(rows, ts_ns(trigger_row["timestamp"]) + 1)
    i = first_index(rows, after, lambda r: d(r, "ask_low") <= limit)
    assert rows[i]["timestamp"] == "2013-10-07T14:04:00Z"
    price = min(limit, d(rows[i], "ask_open"))

    h = SimHarness("SPY", SPY_QUOTE)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.TAKE_PROFIT, "100", trigger_price=target, price=limit)
    h.run_until_closed(order)

    assert [t.ts_event for t in h.triggers(order)] == [ts_ns("2013-10-07T14:01:00Z")]
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:04:00Z")
    assert fill.last_price == price == limit
    assert fill.liquidity is LiquiditySide.MAKER


# TRAILING_STOP ----------------------------------------------------------------------


def _to_tick(raw: Decimal, tick: Decimal, buy: bool) -> Decimal:
    """Round a stop away from the market: up for a buy stop, down for a sell stop."""
    steps = (raw / tick).to_integral_value(rounding=ROUND_CEILING if buy else ROUND_FLOOR)
    return (steps * tick).quantize(tick)


def trail_by_hand(
    rows: Sequence[Row],
    submit_at: str,
    side: OrderSide,
    offset: Decimal,
    percent: bool,
    tick: Decimal,
    half_spread: Decimal | None = None,
) -> tuple[str, Decimal, list[Decimal]]:
    """Return (fill bar, fill price, every stop level) of a trailing stop, bar by bar.

    Quote rows use the ask (buy) or bid (sell); with ``half_spread`` set the rows are
    trade bars, whose prices are moved by it against the order.
    """
    buy = side is BUY

    def price(row: Row, name: str) -> Decimal:
        if half_spread is None:
            return d(row, f"{'ask' if buy else 'bid'}_{name}")
        return d(row, name) + half_spread if buy else d(row, name) - half_spread

    def stop_from(extreme: Decimal) -> Decimal:
        distance = extreme * offset / 100 if percent else offset
        return _to_tick(extreme + distance if buy else extreme - distance, tick, buy)

    start = first_at_or_after(rows, ts_ns(submit_at))
    reference = price(rows[start - 1], "open")  # the last data point seen
    extreme, stop = reference, stop_from(reference)
    stops = [stop]
    for row in rows[start:]:
        open_ = price(row, "open")
        # First the current stop against the bar's adverse extreme...
        if buy and price(row, "high") >= stop:
            return row["timestamp"], max(stop, open_), stops
        if not buy and price(row, "low") <= stop:
            return row["timestamp"], min(stop, open_), stops
        # ...then the stop follows the bar's favourable extreme.
        best = price(row, "low") if buy else price(row, "high")
        if (buy and best < extreme) or (not buy and best > extreme):
            extreme = best
            moved = stop_from(best)
            if (buy and moved < stop) or (not buy and moved > stop):
                stop = moved
                stops.append(stop)
    raise AssertionError("the trailing stop never triggered")


TRAILING_CASES = [
    # symbol, file, submit, side, offset, percent?, tick, fill bar, min stop moves, gapped?
    ("SPY", SPY_QUOTE, SPY_SUBMIT, SELL, "0.20", False, "0.01", "2013-10-07T14:35:00Z", 10, False),
    (
        "XAUUSD", XAUUSD_QUOTE, "2014-05-06T05:59:30Z", SELL, "0.04", True, "0.001",
        "2014-05-06T06:25:00Z", 9, False,
    ),
    (
        "EURUSD", EURUSD_QUOTE, "2014-05-08T13:29:30Z", BUY, "0.00080", False, "0.00001",
        "2014-05-08T14:07:00Z", 15, False,
    ),
    # The last bar opens above the final stop: the buy fills at the worse ask open.
    (
        "EURUSD", EURUSD_QUOTE, "2014-05-06T05:59:30Z", BUY, "0.00010", False, "0.00001",
        "2014-05-06T06:08:00Z", 6, True,
    ),
    (
        "DE30EUR", DE30EUR_QUOTE, "2019-02-21T08:59:30Z", BUY, "0.1", True, "0.1",
        "2019-02-21T09:12:00Z", 7, False,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    (
        "symbol", "relative", "submit_at", "side", "offset", "percent", "tick", "fill_bar",
        "min_moves", "gapped",
    ),
    TRAILING_CASES,
    ids=[f"{c[0]}-{c[3]}-{'pct' if c[5] else 'price'}" for c in TRAILING_CASES],
)  # fmt: skip
def test_trailing_stop_follows_hand_computed_path_and_fills_on_its_trigger_bar(
    symbol: str,
    relative: str,
    submit_at: str,
    side: OrderSide,
    offset: str,
    percent: bool,
    tick: str,
    fill_bar: str,
    min_moves: int,
    gapped: bool,
) -> None:
    rows = read_rows(relative)
    bar, price, stops = trail_by_hand(
        rows, submit_at, side, Decimal(offset), percent, Decimal(tick)
    )
    assert bar == fill_bar
    assert len(stops) - 1 >= min_moves  # the stop really trailed
    assert (price != stops[-1]) is gapped

    h = SimHarness(symbol, relative)
    assert h.instrument.tick_size == Decimal(tick)
    h.begin(submit_at)
    order = h.submit(
        side,
        OrderType.TRAILING_STOP,
        "3",
        trailing_offset=Decimal(offset),
        trailing_offset_type=TrailingOffsetType.PERCENT if percent else TrailingOffsetType.PRICE,
    )
    h.run_until_closed(order)

    assert [stop for _, stop in h.trigger_moves(order)] == stops
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(fill_bar)
    assert fill.last_price == price
    assert order.trigger_price == stops[-1]


@pytest.mark.parametrize(
    ("side", "submit_at"),
    [(BUY, "2018-04-06T09:00:30Z"), (SELL, "2018-04-05T15:37:30Z")],
    ids=["buy", "sell"],
)
def test_trailing_stop_on_trade_bars_starts_and_trails_from_half_spread_prices(
    side: OrderSide, submit_at: str
) -> None:
    # BTCUSD trades with a 0.50 half-spread: a sell trails the trade prices less 0.50,
    # a buy the trade prices plus 0.50, from the reference open onwards.
    half_spread, offset, tick = Decimal("0.50"), Decimal("10.00"), Decimal("0.01")
    rows = read_rows(BTCUSD_TRADE)
    bar, price, stops = trail_by_hand(rows, submit_at, side, offset, False, tick, half_spread)
    assert len(stops) >= 5

    config = SimulatedVenueConfig(trade_half_spread=half_spread)
    h = SimHarness("BTCUSD", BTCUSD_TRADE, config)
    h.begin(submit_at)
    order = h.submit(side, OrderType.TRAILING_STOP, "0.5", trailing_offset=offset)
    h.run_until_closed(order)

    assert [stop for _, stop in h.trigger_moves(order)] == stops
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(bar)
    assert fill.last_price == price
