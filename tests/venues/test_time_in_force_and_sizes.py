"""Times in force (DAY, GTD, IOC, FOK) and partial fills limited by the displayed size."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from alphintra.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import (
    BTCUSD_QUOTE,
    EURUSD_QUOTE,
    SPY_QUOTE,
    SPY_TRADE,
    XAUUSD_QUOTE,
    Row,
    d,
    first_at_or_after,
    first_index,
    index_of,
    read_rows,
    ts_ns,
)
from helpers.sim_harness import SimHarness

BUY, SELL = OrderSide.BUY, OrderSide.SELL
BTC_LOT = Decimal("0.00000001")
PARTIAL = SimulatedVenueConfig(partial_fills=True)


def shown(row: Row, column: str, lot: Decimal = BTC_LOT) -> Decimal:
    """The size shown in a row, rounded down to the lot (fills are on the lot grid)."""
    return (d(row, column) / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


# DAY and GTD ------------------------------------------------------------------------


def test_day_limit_unfilled_by_end_of_utc_day_expires_before_next_day_bar_could_fill() -> None:
    # SPY: from 2013-10-04 20:00 to the day's last bar no ask low reaches 168.59; the
    # next data, 2013-10-07 08:00, gaps down through it.
    submit_at = "2013-10-04T19:59:30Z"
    limit = Decimal("168.59")
    rows = read_rows(SPY_QUOTE)
    start = first_at_or_after(rows, ts_ns(submit_at))
    next_day = index_of(rows, "2013-10-07T08:00:00Z")
    assert rows[next_day - 1]["timestamp"].startswith("2013-10-04")
    assert all(d(r, "ask_low") > limit for r in rows[start:next_day])
    i = first_index(rows, start, lambda r: d(r, "ask_low") <= limit)
    assert i == next_day
    gtc_price = min(limit, d(rows[i], "ask_open"))

    day = SimHarness("SPY", SPY_QUOTE)
    day.begin(submit_at)
    order = day.submit(BUY, OrderType.LIMIT, "100", price=limit, time_in_force=TimeInForce.DAY)
    day.run_until_closed(order)
    assert order.status is OrderStatus.EXPIRED
    assert [e.ts_event for e in day.expiries(order)] == [ts_ns("2013-10-07T08:00:00Z")]
    assert day.fills(order) == []

    gtc = SimHarness("SPY", SPY_QUOTE)
    gtc.begin(submit_at)
    twin = gtc.submit(BUY, OrderType.LIMIT, "100", price=limit)
    gtc.run_until_closed(twin)
    [fill] = gtc.fills(twin)
    assert fill.ts_event == ts_ns("2013-10-07T08:00:00Z")
    assert fill.last_price == gtc_price == Decimal("168.00")


def test_gtd_limit_expires_on_the_bar_stamped_at_its_expire_time_without_filling() -> None:
    # XAUUSD: the first bar whose ask low reaches 1306.185 is 12:11; expiring at 12:11
    # the order never sees it, expiring 30 seconds later it fills there.
    submit_at = "2014-05-06T11:59:30Z"
    limit = Decimal("1306.185")
    rows = read_rows(XAUUSD_QUOTE)
    i = first_index(
        rows, first_at_or_after(rows, ts_ns(submit_at)), lambda r: d(r, "ask_low") <= limit
    )
    assert rows[i]["timestamp"] == "2014-05-06T12:11:00Z"

    h = SimHarness("XAUUSD", XAUUSD_QUOTE)
    h.begin(submit_at)
    order = h.submit(
        BUY,
        OrderType.LIMIT,
        "10",
        price=limit,
        time_in_force=TimeInForce.GTD,
        expire_ts=ts_ns("2014-05-06T12:11:00Z"),
    )
    h.run_until_closed(order)
    assert order.status is OrderStatus.EXPIRED
    assert [e.ts_event for e in h.expiries(order)] == [ts_ns("2014-05-06T12:11:00Z")]
    assert h.fills(order) == []

    later = SimHarness("XAUUSD", XAUUSD_QUOTE)
    later.begin(submit_at)
    filled = later.submit(
        BUY,
        OrderType.LIMIT,
        "10",
        price=limit,
        time_in_force=TimeInForce.GTD,
        expire_ts=ts_ns("2014-05-06T12:11:30Z"),
    )
    later.run_until_closed(filled)
    [fill] = later.fills(filled)
    assert fill.ts_event == ts_ns("2014-05-06T12:11:00Z")
    assert fill.last_price == min(limit, d(rows[i], "ask_open"))


# IOC and FOK ------------------------------------------------------------------------

SPY_SUBMIT = "2013-10-07T13:59:30Z"


def test_ioc_limit_not_reachable_on_first_eligible_bar_is_cancelled_unfilled() -> None:
    limit = Decimal("167.61")  # first reached at 14:04, long after the first bar
    rows = read_rows(SPY_QUOTE)
    first = rows[first_at_or_after(rows, ts_ns(SPY_SUBMIT))]
    assert d(first, "ask_low") > limit

    h = SimHarness("SPY", SPY_QUOTE)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.LIMIT, "100", price=limit, time_in_force=TimeInForce.IOC)
    h.step()
    assert order.status is OrderStatus.CANCELLED
    assert [c.ts_event for c in h.cancels(order)] == [ts_ns(first["timestamp"])]
    h.steps(10)
    assert h.fills(order) == []


def test_ioc_limit_marketable_on_first_bar_fills_at_open() -> None:
    limit = Decimal("167.80")
    rows = read_rows(SPY_QUOTE)
    first = rows[first_at_or_after(rows, ts_ns(SPY_SUBMIT))]
    h = SimHarness("SPY", SPY_QUOTE)
    h.begin(SPY_SUBMIT)
    order = h.submit(BUY, OrderType.LIMIT, "100", price=limit, time_in_force=TimeInForce.IOC)
    h.step()
    [fill] = h.fills(order)
    assert fill.last_price == min(limit, d(first, "ask_open"))
    assert fill.liquidity is LiquiditySide.TAKER
    assert order.status is OrderStatus.FILLED


def test_ioc_market_larger_than_shown_size_fills_the_size_and_cancels_the_rest() -> None:
    submit_at = "2018-04-04T23:58:30Z"
    rows = read_rows(BTCUSD_QUOTE)
    first = rows[first_at_or_after(rows, ts_ns(submit_at))]
    size = shown(first, "ask_size")
    assert size < Decimal(50)

    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.MARKET, "50", time_in_force=TimeInForce.IOC)
    h.steps(3)
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(first["timestamp"])
    assert fill.last_quantity == size == Decimal("24.42695766")
    assert fill.last_price == d(first, "ask_open")
    assert order.status is OrderStatus.CANCELLED
    assert h.position() == size


def test_fok_market_larger_than_shown_size_is_cancelled_without_any_fill() -> None:
    submit_at = "2018-04-04T23:58:30Z"
    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.MARKET, "50", time_in_force=TimeInForce.FOK)
    h.steps(3)
    assert h.fills(order) == []
    assert order.status is OrderStatus.CANCELLED
    assert h.position() == 0


def test_fok_market_within_shown_size_fills_in_full_at_open() -> None:
    submit_at = "2018-04-04T23:58:30Z"
    rows = read_rows(BTCUSD_QUOTE)
    first = rows[first_at_or_after(rows, ts_ns(submit_at))]
    assert shown(first, "ask_size") >= Decimal(20)
    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.MARKET, "20", time_in_force=TimeInForce.FOK)
    h.step()
    [fill] = h.fills(order)
    assert fill.last_quantity == Decimal(20)
    assert fill.last_price == d(first, "ask_open")
    assert order.status is OrderStatus.FILLED


# Partial fills ------------------------------------------------------------------------


def test_partial_market_buy_fills_across_bars_limited_by_ask_size_rounded_to_lot() -> None:
    submit_at = "2018-04-04T23:58:30Z"
    quantity = Decimal(50)
    rows = read_rows(BTCUSD_QUOTE)
    expected: list[tuple[int, Decimal, Decimal]] = []
    left = quantity
    i = first_at_or_after(rows, ts_ns(submit_at))
    while left:
        take = min(left, shown(rows[i], "ask_size"))
        expected.append((ts_ns(rows[i]["timestamp"]), take, d(rows[i], "ask_open")))
        left -= take
        i += 1
    assert len(expected) == 4

    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.MARKET, "50")
    h.run_until_closed(order)

    fills = h.fills(order)
    assert [(f.ts_event, f.last_quantity, f.last_price) for f in fills] == expected
    for fill in fills:  # every fill is on the instrument's lot grid
        assert fill.last_quantity == fill.last_quantity.quantize(BTC_LOT)
    assert order.filled_quantity == quantity
    assert h.position() == quantity


def test_partial_orders_on_one_bar_share_the_shown_size_in_time_priority() -> None:
    submit_at = "2018-04-04T23:58:30Z"
    rows = read_rows(BTCUSD_QUOTE)
    i = first_at_or_after(rows, ts_ns(submit_at))
    size = shown(rows[i], "ask_size")  # 24.42695766
    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    first = h.submit(BUY, OrderType.MARKET, "20")
    second = h.submit(BUY, OrderType.MARKET, "20")
    h.step()
    assert [f.last_quantity for f in h.fills(first)] == [Decimal(20)]
    assert [f.last_quantity for f in h.fills(second)] == [size - 20]
    h.step()
    then = min(40 - size, shown(rows[i + 1], "ask_size"))
    assert [f.last_quantity for f in h.fills(second)] == [size - 20, then]
    assert h.fills(second)[1].last_price == d(rows[i + 1], "ask_open")


def test_partial_limit_sell_fills_over_bars_whose_bid_high_reaches_it() -> None:
    submit_at = "2018-04-05T00:27:30Z"
    limit = Decimal("6805.00")
    quantity = Decimal(60)
    rows = read_rows(BTCUSD_QUOTE)
    expected: list[tuple[int, Decimal, Decimal]] = []
    left = quantity
    i = first_at_or_after(rows, ts_ns(submit_at))
    while left:
        row = rows[i]
        if d(row, "bid_high") >= limit:
            take = min(left, shown(row, "bid_size"))
            expected.append((ts_ns(row["timestamp"]), take, max(limit, d(row, "bid_open"))))
            left -= take
        i += 1
    assert len(expected) >= 3

    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(SELL, OrderType.LIMIT, "60", price=limit)
    h.run_until_closed(order)
    assert [(f.ts_event, f.last_quantity, f.last_price) for f in h.fills(order)] == expected
    assert h.position() == -quantity


def test_partial_stop_remainder_fills_at_next_open_once_triggered() -> None:
    # BTCUSD: the 00:04 bid (6771.95) is the first at or below the 6773.00 stop, but
    # shows only 3.23054342; the remainder is a market order from then on and fills at
    # the 00:05 bid open even though that bar stays above the stop.
    submit_at = "2018-04-04T23:58:30Z"
    stop = Decimal("6773.00")
    rows = read_rows(BTCUSD_QUOTE)
    i = first_index(
        rows, first_at_or_after(rows, ts_ns(submit_at)), lambda r: d(r, "bid_low") <= stop
    )
    assert rows[i]["timestamp"] == "2018-04-05T00:04:00Z"
    first_take = shown(rows[i], "bid_size")
    nxt = rows[i + 1]
    assert d(nxt, "bid_low") > stop
    assert shown(nxt, "bid_size") >= 5 - first_take

    h = SimHarness("BTCUSD", BTCUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(SELL, OrderType.STOP, "5", trigger_price=stop)
    h.run_until_closed(order, max_bars=20)
    assert [(f.ts_event, f.last_quantity, f.last_price) for f in h.fills(order)] == [
        (ts_ns(rows[i]["timestamp"]), first_take, min(stop, d(rows[i], "bid_open"))),
        (ts_ns(nxt["timestamp"]), 5 - first_take, d(nxt, "bid_open")),
    ]


def test_partial_market_on_trade_bars_fills_limited_by_volume() -> None:
    # SPY trades: 300 shares print in the 08:09 bar and 600 in the 08:10 bar.
    submit_at = "2013-10-04T08:07:00Z"
    rows = read_rows(SPY_TRADE)
    i = first_at_or_after(rows, ts_ns(submit_at))
    first, second = rows[i], rows[i + 1]
    assert d(first, "volume") < 500
    h = SimHarness("SPY", SPY_TRADE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.MARKET, "500")
    h.run_until_closed(order)
    assert [(f.ts_event, f.last_quantity, f.last_price) for f in h.fills(order)] == [
        (ts_ns(first["timestamp"]), d(first, "volume"), d(first, "open")),
        (ts_ns(second["timestamp"]), 500 - d(first, "volume"), d(second, "open")),
    ]


def test_partial_zero_shown_size_means_unlimited() -> None:
    submit_at = "2014-05-08T13:30:30Z"
    rows = read_rows(EURUSD_QUOTE)
    row = rows[first_at_or_after(rows, ts_ns(submit_at))]
    assert d(row, "ask_size") == 0
    h = SimHarness("EURUSD", EURUSD_QUOTE, PARTIAL)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.MARKET, "5000000")
    h.step()
    [fill] = h.fills(order)
    assert fill.last_quantity == Decimal(5_000_000)
    assert fill.last_price == d(row, "ask_open")
