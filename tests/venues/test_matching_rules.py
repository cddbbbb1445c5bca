"""MARKET and LIMIT fills of the simulated venue against fills computed by hand.

Every expected price is read from the CSV rows of the real data pack with the
stdlib ``csv`` module and derived from the rule stated in
``alphintra.venues.simulated.matching``; the engine reads the same files through
its own loader.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from alphintra.domain.events import OrderRejected
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import (
    BTCUSD_QUOTE,
    BTCUSD_TRADE,
    DE30EUR_QUOTE,
    EURUSD_QUOTE,
    SPY_QUOTE,
    SPY_TRADE,
    XAUUSD_QUOTE,
    d,
    first_at_or_after,
    first_index,
    index_of,
    read_rows,
    ts_ns,
)
from helpers.sim_harness import SimHarness

BPS = Decimal(10_000)
BUY, SELL = OrderSide.BUY, OrderSide.SELL
TAKER_BPS = Decimal("2.5")
MAKER_BPS = Decimal("0.8")
COMMISSION = Decimal("0.005")
FEES = SimulatedVenueConfig(
    maker_fee_bps=MAKER_BPS, taker_fee_bps=TAKER_BPS, commission_per_unit=COMMISSION
)


def expected_fee(quantity: Decimal, price: Decimal, bps: Decimal) -> Decimal:
    """Notional x bps / 10000 + quantity x per-unit commission (multiplier 1)."""
    return quantity * price * bps / BPS + quantity * COMMISSION


# MARKET on quote bars: all five asset classes ----------------------------------------

MARKET_CASES = [
    # symbol, file, submit time, the bar expected to fill it, quantity
    ("SPY", SPY_QUOTE, "2013-10-07T14:29:30Z", "2013-10-07T14:30:00Z", "100"),
    ("EURUSD", EURUSD_QUOTE, "2014-05-08T13:30:30Z", "2014-05-08T13:31:00Z", "100000"),
    # BTCUSD has no 2018-04-04T23:59 bar: the next bar is the next day's first.
    ("BTCUSD", BTCUSD_QUOTE, "2018-04-04T23:58:30Z", "2018-04-05T00:00:00Z", "0.5"),
    ("XAUUSD", XAUUSD_QUOTE, "2014-05-06T12:00:30Z", "2014-05-06T12:01:00Z", "10"),
    ("DE30EUR", DE30EUR_QUOTE, "2019-02-21T10:40:30Z", "2019-02-21T10:41:00Z", "2.5"),
]


@pytest.mark.parametrize("side", [BUY, SELL], ids=["buy", "sell"])
@pytest.mark.parametrize(
    ("symbol", "relative", "submit_at", "fill_bar", "quantity"),
    MARKET_CASES,
    ids=[case[0] for case in MARKET_CASES],
)
def test_market_order_on_quote_bars_fills_at_side_open_of_first_bar_after_submit(
    symbol: str, relative: str, submit_at: str, fill_bar: str, quantity: str, side: OrderSide
) -> None:
    rows = read_rows(relative)
    row = rows[first_at_or_after(rows, ts_ns(submit_at))]
    assert row["timestamp"] == fill_bar
    price = d(row, "ask_open" if side is BUY else "bid_open")
    qty = Decimal(quantity)

    h = SimHarness(symbol, relative, FEES)
    h.begin(submit_at)
    order = h.submit(side, OrderType.MARKET, quantity)
    h.step()

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(fill_bar)
    assert fill.last_price == price
    assert fill.last_quantity == qty
    assert fill.liquidity is LiquiditySide.TAKER
    assert fill.fee == expected_fee(qty, price, TAKER_BPS)
    assert fill.fee_currency == h.instrument.quote_currency
    assert order.status is OrderStatus.FILLED
    assert h.position() == (qty if side is BUY else -qty)
    assert h.engine.rejected_reports == []


def test_market_order_fee_charged_in_quote_currency_reduces_eur_cash() -> None:
    rows = read_rows(DE30EUR_QUOTE)
    row = rows[index_of(rows, "2019-02-21T10:41:00Z")]
    price = d(row, "ask_open")
    h = SimHarness("DE30EUR", DE30EUR_QUOTE, FEES)
    cash_before = h.engine.state.cash["EUR"]
    h.begin("2019-02-21T10:40:30Z")
    h.submit(BUY, OrderType.MARKET, "2.5")
    h.step()
    fee = expected_fee(Decimal("2.5"), price, TAKER_BPS)
    assert h.engine.state.fees == {"EUR": fee}
    assert h.engine.state.cash["EUR"] == cash_before - Decimal("2.5") * price - fee


# MARKET on trade bars, with and without a half-spread --------------------------------

TRADE_CASES = [
    # SPY trades print at 08:06 and next at 08:09: an order at 08:07 fills at 08:09.
    ("SPY", SPY_TRADE, "2013-10-04T08:07:00Z", "2013-10-04T08:09:00Z", "200", "0"),
    ("SPY", SPY_TRADE, "2013-10-04T08:07:00Z", "2013-10-04T08:09:00Z", "200", "0.01"),
    ("BTCUSD", BTCUSD_TRADE, "2018-04-05T15:37:30Z", "2018-04-05T15:38:00Z", "0.25", "0"),
    ("BTCUSD", BTCUSD_TRADE, "2018-04-05T15:37:30Z", "2018-04-05T15:38:00Z", "0.25", "0.5"),
]


@pytest.mark.parametrize("side", [BUY, SELL], ids=["buy", "sell"])
@pytest.mark.parametrize(
    ("symbol", "relative", "submit_at", "fill_bar", "quantity", "half_spread"),
    TRADE_CASES,
    ids=[f"{case[0]}-half-spread-{case[5]}" for case in TRADE_CASES],
)
def test_market_order_on_trade_bars_fills_at_open_moved_by_half_spread(
    symbol: str,
    relative: str,
    submit_at: str,
    fill_bar: str,
    quantity: str,
    half_spread: str,
    side: OrderSide,
) -> None:
    rows = read_rows(relative)
    row = rows[first_at_or_after(rows, ts_ns(submit_at))]
    assert row["timestamp"] == fill_bar
    spread = Decimal(half_spread)
    price = d(row, "open") + spread if side is BUY else d(row, "open") - spread

    config = SimulatedVenueConfig(taker_fee_bps=TAKER_BPS, trade_half_spread=spread)
    h = SimHarness(symbol, relative, config)
    h.begin(submit_at)
    order = h.submit(side, OrderType.MARKET, quantity)
    h.step()

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(fill_bar)
    assert fill.last_price == price
    assert fill.fee == Decimal(quantity) * price * TAKER_BPS / BPS


# No look-ahead and latency -----------------------------------------------------------


def test_market_order_submitted_mid_bar_skips_the_bar_already_seen() -> None:
    rows = read_rows(SPY_QUOTE)
    seen = rows[index_of(rows, "2013-10-07T14:00:00Z")]
    nxt = rows[first_at_or_after(rows, ts_ns("2013-10-07T14:00:30Z"))]
    assert nxt["timestamp"] == "2013-10-07T14:01:00Z"
    assert d(seen, "ask_open") != d(nxt, "ask_open")

    h = SimHarness("SPY", SPY_QUOTE)
    h.begin("2013-10-07T14:00:30Z")  # the 14:00 bar is processed, then the signal
    order = h.submit(BUY, OrderType.MARKET, "100")
    assert h.fills(order) == []
    h.step()

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:01:00Z")
    assert fill.last_price == d(nxt, "ask_open")


def test_market_order_with_latency_fills_on_first_bar_at_or_after_submit_plus_latency() -> None:
    latency_ns = 95 * 1_000_000_000
    submit_at = "2013-10-07T13:59:30Z"
    rows = read_rows(SPY_QUOTE)
    row = rows[first_at_or_after(rows, ts_ns(submit_at) + latency_ns)]
    assert row["timestamp"] == "2013-10-07T14:02:00Z"  # 14:01:05 is inside the 14:01 bar

    h = SimHarness("SPY", SPY_QUOTE, SimulatedVenueConfig(latency_ns=latency_ns))
    h.begin(submit_at)
    order = h.submit(SELL, OrderType.MARKET, "100")
    h.steps(2)  # 14:00 and 14:01: not yet eligible
    assert h.fills(order) == []
    h.step()

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:02:00Z")
    assert fill.last_price == d(row, "bid_open")


def test_limit_order_with_latency_ignores_bars_before_it_reaches_the_venue() -> None:
    # The 14:00 bar's ask low reaches the limit, but the order is not there yet.
    rows = read_rows(SPY_QUOTE)
    limit = Decimal("167.71")
    start = index_of(rows, "2013-10-07T14:00:00Z")
    assert d(rows[start], "ask_low") <= limit
    eligible = first_at_or_after(rows, ts_ns("2013-10-07T14:01:00Z"))
    i = first_index(rows, eligible, lambda r: d(r, "ask_low") <= limit)
    assert rows[i]["timestamp"] == "2013-10-07T14:01:00Z"

    config = SimulatedVenueConfig(latency_ns=90 * 1_000_000_000)
    h = SimHarness("SPY", SPY_QUOTE, config)
    h.begin("2013-10-07T13:59:30Z")
    order = h.submit(BUY, OrderType.LIMIT, "100", price=limit)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(rows[i]["timestamp"])
    assert fill.last_price == min(limit, d(rows[i], "ask_open"))


# LIMIT ------------------------------------------------------------------------------

LIMIT_SUBMIT = "2013-10-07T13:59:30Z"


def test_limit_buy_resting_fills_at_limit_on_first_bar_whose_ask_low_reaches_it() -> None:
    rows = read_rows(SPY_QUOTE)
    limit = Decimal("167.61")
    start = first_at_or_after(rows, ts_ns(LIMIT_SUBMIT))
    i = first_index(rows, start, lambda r: d(r, "ask_low") <= limit)
    assert rows[i]["timestamp"] == "2013-10-07T14:04:00Z"
    assert i - start == 4  # rested through four bars
    price = min(limit, d(rows[i], "ask_open"))
    assert price == limit

    h = SimHarness("SPY", SPY_QUOTE, FEES)
    h.begin(LIMIT_SUBMIT)
    order = h.submit(BUY, OrderType.LIMIT, "300", price=limit)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:04:00Z")
    assert fill.last_price == price
    assert fill.liquidity is LiquiditySide.MAKER
    assert fill.fee == expected_fee(Decimal(300), price, MAKER_BPS)


def test_limit_sell_resting_many_bars_fills_at_limit_when_bid_high_reaches_it() -> None:
    rows = read_rows(SPY_QUOTE)
    limit = Decimal("168.15")
    start = first_at_or_after(rows, ts_ns(LIMIT_SUBMIT))
    i = first_index(rows, start, lambda r: d(r, "bid_high") >= limit)
    assert rows[i]["timestamp"] == "2013-10-07T14:12:00Z"
    assert i - start == 12
    price = max(limit, d(rows[i], "bid_open"))
    assert price == limit

    h = SimHarness("SPY", SPY_QUOTE, FEES)
    h.begin(LIMIT_SUBMIT)
    order = h.submit(SELL, OrderType.LIMIT, "300", price=limit)
    h.steps(i - start)
    assert h.fills(order) == []
    assert order.status is OrderStatus.ACCEPTED
    h.step()

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2013-10-07T14:12:00Z")
    assert fill.last_price == price
    assert fill.liquidity is LiquiditySide.MAKER
    assert fill.fee == expected_fee(Decimal(300), price, MAKER_BPS)


@pytest.mark.parametrize(
    ("side", "limit", "column"),
    [(BUY, "167.80", "ask_open"), (SELL, "167.60", "bid_open")],
    ids=["buy", "sell"],
)
def test_limit_marketable_on_first_bar_fills_at_open_as_taker(
    side: OrderSide, limit: str, column: str
) -> None:
    rows = read_rows(SPY_QUOTE)
    row = rows[first_at_or_after(rows, ts_ns(LIMIT_SUBMIT))]
    assert row["timestamp"] == "2013-10-07T14:00:00Z"
    level = Decimal(limit)
    open_ = d(row, column)
    if side is BUY:
        assert open_ <= level
        price = min(level, open_)
    else:
        assert open_ >= level
        price = max(level, open_)

    h = SimHarness("SPY", SPY_QUOTE, FEES)
    h.begin(LIMIT_SUBMIT)
    order = h.submit(side, OrderType.LIMIT, "300", price=level)
    h.step()

    [fill] = h.fills(order)
    assert fill.last_price == price == open_
    assert fill.liquidity is LiquiditySide.TAKER
    assert fill.fee == expected_fee(Decimal(300), price, TAKER_BPS)


def test_limit_buy_gapped_through_fills_at_the_better_ask_open() -> None:
    # XAUUSD 2014-05-06: no ask low from 12:00 to 12:10 reaches 1306.185; the 12:11
    # bar opens below it, so the resting buy fills at that open, not at its limit.
    rows = read_rows(XAUUSD_QUOTE)
    limit = Decimal("1306.185")
    submit_at = "2014-05-06T11:59:30Z"
    start = first_at_or_after(rows, ts_ns(submit_at))
    i = first_index(rows, start, lambda r: d(r, "ask_low") <= limit)
    assert rows[i]["timestamp"] == "2014-05-06T12:11:00Z"
    assert d(rows[i], "ask_open") < limit
    price = min(limit, d(rows[i], "ask_open"))

    h = SimHarness("XAUUSD", XAUUSD_QUOTE, FEES)
    h.begin(submit_at)
    order = h.submit(BUY, OrderType.LIMIT, "10", price=limit)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2014-05-06T12:11:00Z")
    assert fill.last_price == price == Decimal("1306.180")
    assert fill.liquidity is LiquiditySide.MAKER
    assert fill.fee == expected_fee(Decimal(10), price, MAKER_BPS)


def test_limit_sell_gapped_through_fills_at_the_better_bid_open() -> None:
    rows = read_rows(XAUUSD_QUOTE)
    limit = Decimal("1307.960")
    submit_at = "2014-05-06T11:59:30Z"
    start = first_at_or_after(rows, ts_ns(submit_at))
    i = first_index(rows, start, lambda r: d(r, "bid_high") >= limit)
    assert rows[i]["timestamp"] == "2014-05-06T12:23:00Z"
    assert d(rows[i], "bid_open") > limit
    price = max(limit, d(rows[i], "bid_open"))

    h = SimHarness("XAUUSD", XAUUSD_QUOTE, FEES)
    h.begin(submit_at)
    order = h.submit(SELL, OrderType.LIMIT, "10", price=limit)
    h.run_until_closed(order)

    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns("2014-05-06T12:23:00Z")
    assert fill.last_price == price == Decimal("1307.982")
    assert fill.liquidity is LiquiditySide.MAKER


def test_limit_post_only_marketable_on_first_bar_is_rejected_without_fill() -> None:
    h = SimHarness("SPY", SPY_QUOTE, FEES)
    h.begin(LIMIT_SUBMIT)
    order = h.submit(BUY, OrderType.LIMIT, "100", price=Decimal("167.80"), post_only=True)
    h.step()
    assert h.fills(order) == []
    assert order.status is OrderStatus.REJECTED
    assert any(type(e) is OrderRejected for e in h.order_events(order))


def test_limit_post_only_resting_fills_as_maker() -> None:
    rows = read_rows(SPY_QUOTE)
    limit = Decimal("167.61")
    i = first_index(
        rows, first_at_or_after(rows, ts_ns(LIMIT_SUBMIT)), lambda r: d(r, "ask_low") <= limit
    )
    h = SimHarness("SPY", SPY_QUOTE, FEES)
    h.begin(LIMIT_SUBMIT)
    order = h.submit(BUY, OrderType.LIMIT, "100", price=limit, post_only=True)
    h.run_until_closed(order)
    [fill] = h.fills(order)
    assert fill.ts_event == ts_ns(rows[i]["timestamp"])
    assert fill.last_price == limit
    assert fill.liquidity is LiquiditySide.MAKER
