"""TWS reports decoded by ib_async's real Decoder and Wrapper, then translated.

Each test feeds raw TWS field lists (server version 178) through
``ib_async.decoder.Decoder.interpret`` into the ``Wrapper`` of an unconnected ``IB``,
exactly as the socket client does, and translates the objects ib_async builds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from ib_async import BarData, Commodity, Contract, Fill, Forex, Future, Stock, Ticker, Trade
from ib_async.util import UNSET_DOUBLE

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import InstrumentId
from alphintra.venues.ib.order_stream import trade_state
from alphintra.venues.ib.translation import (
    IbTranslationError,
    bar_size_for,
    datetime_from_ns,
    decimal_from_ib,
    duration_for,
    ib_execution_filter_time,
    ib_utc_time,
    ns_from_datetime,
    quote_from_ticker,
    trade_bar,
    venue_fill,
    what_to_show,
)

from . import tws_messages as m
from .decoding import decoding_ib, feed

D = Decimal
AAPL = InstrumentId("AAPL")


def _eurusd() -> Contract:
    return Forex("EURUSD", conId=m.EURUSD.con_id)


def _trade(*messages: list[str]) -> Trade:
    ib = decoding_ib()
    feed(ib, *messages)
    (trade,) = ib.trades()
    return trade


def _fill(side: str = "BOT", liquidity: int = 2, commission: bool = True) -> Fill:
    ib = decoding_ib()  # no trade for the order: ib_async keeps the fill, as after a restart
    feed(
        ib,
        m.exec_details(
            m.AAPL,
            order_id=3,
            exec_id="0000e0d5.1.01.01",
            time="20250115 09:41:07 America/New_York",
            side=side,
            shares="40",
            price="185.27",
            perm_id=77,
            cum_qty="40",
            avg_price="185.27",
            order_ref="cid-1",
            last_liquidity=liquidity,
        ),
    )
    if commission:
        feed(ib, m.commission_report("0000e0d5.1.01.01", "1.0", "USD"))
    (fill,) = ib.fills()
    return fill


def test_venue_fill_from_decoded_execution_carries_exec_id_fee_and_time() -> None:
    fill = venue_fill(_fill(), AAPL, fee_currency="USD")
    assert fill.trade_id == "0000e0d5.1.01.01"
    assert (fill.client_order_id, fill.venue_order_id, fill.instrument_id) == ("cid-1", "77", AAPL)
    assert (fill.side, fill.quantity, fill.price) == (OrderSide.BUY, D(40), D("185.27"))
    assert (fill.fee, fill.fee_currency) == (D("1.0"), "USD")
    assert fill.liquidity is LiquiditySide.TAKER
    assert fill.ts == 1_736_952_067_000_000_000


def test_venue_fill_sold_with_added_liquidity_is_sell_maker() -> None:
    fill = venue_fill(_fill(side="SLD", liquidity=1), AAPL)
    assert (fill.side, fill.liquidity) == (OrderSide.SELL, LiquiditySide.MAKER)


def test_venue_fill_without_commission_report_has_zero_fee_in_given_currency() -> None:
    fill = venue_fill(_fill(commission=False), AAPL, fee_currency="USD")
    assert (fill.fee, fill.fee_currency) == (D(0), "USD")


def test_trade_state_from_decoded_open_order_and_status_is_accepted_limit() -> None:
    trade = _trade(
        m.open_order(
            5,
            m.EURUSD,
            action="SELL",
            quantity="20000",
            order_type="LMT",
            status="Submitted",
            perm_id=555,
            order_ref="cid-2",
            lmt_price="1.0345",
            tif="GTC",
        ),
        m.order_status(5, "Submitted", remaining="20000", perm_id=555),
    )
    state = trade_state(trade, InstrumentId("EURUSD"), ts=9)
    assert state is not None
    assert (state.status, state.side, state.order_type) == (
        OrderStatus.ACCEPTED,
        OrderSide.SELL,
        OrderType.LIMIT,
    )
    assert (state.quantity, state.filled_quantity, state.price, state.trigger_price) == (
        D(20000),
        D(0),
        D("1.0345"),
        None,
    )
    assert (state.client_order_id, state.venue_order_id, state.ts) == ("cid-2", "555", 9)
    assert state.average_price is None


def test_trade_state_partially_filled_has_average_price() -> None:
    trade = _trade(
        m.open_order(
            5,
            m.AAPL,
            action="BUY",
            quantity="100",
            order_type="MKT",
            status="Submitted",
            perm_id=5,
            order_ref="cid-3",
        ),
        m.order_status(
            5,
            "Submitted",
            filled="40",
            remaining="60",
            avg_fill_price="185.27",
            perm_id=5,
        ),
    )
    state = trade_state(trade, AAPL)
    assert state is not None
    assert (state.status, state.filled_quantity, state.average_price, state.price) == (
        OrderStatus.PARTIALLY_FILLED,
        D(40),
        D("185.27"),
        None,
    )


def test_trade_state_stop_limit_reads_limit_and_stop() -> None:
    trade = _trade(
        m.open_order(
            6,
            m.AAPL,
            action="SELL",
            quantity="10",
            order_type="STP LMT",
            status="PreSubmitted",
            perm_id=6,
            order_ref="cid-4",
            lmt_price="179.5",
            aux_price="180.0",
        ),
    )
    state = trade_state(trade, AAPL)
    assert state is not None
    assert (state.order_type, state.price, state.trigger_price, state.status) == (
        OrderType.STOP_LIMIT,
        D("179.5"),
        D("180.0"),
        OrderStatus.ACCEPTED,
    )


def test_trade_state_trailing_stop_trigger_is_trail_stop_price() -> None:
    trade = _trade(
        m.open_order(
            7,
            m.AAPL,
            action="SELL",
            quantity="10",
            order_type="TRAIL",
            status="PreSubmitted",
            perm_id=7,
            order_ref="cid-5",
            aux_price="2.5",
            trail_stop_price="182.75",
        ),
    )
    state = trade_state(trade, AAPL)
    assert state is not None
    assert (state.order_type, state.trigger_price, state.price) == (
        OrderType.TRAILING_STOP,
        D("182.75"),
        None,
    )


def test_trade_state_of_completed_order_uses_filled_quantity() -> None:
    ib = decoding_ib()
    ib.wrapper._results["completedOrders"] = []  # as reqCompletedOrders prepares it
    feed(
        ib,
        m.completed_order(
            m.AAPL,
            action="BUY",
            quantity="50",
            order_type="LMT",
            status="Filled",
            perm_id=88,
            order_ref="cid-6",
            filled="50",
            lmt_price="185.0",
        ),
    )
    (trade,) = ib.trades()
    state = trade_state(trade, AAPL)
    assert state is not None
    assert (state.status, state.filled_quantity, state.venue_order_id) == (
        OrderStatus.FILLED,
        D(50),
        "88",
    )
    assert state.average_price is None  # completed orders do not carry it


def test_trade_state_after_error_201_is_rejected_with_reason() -> None:
    ib = decoding_ib()
    feed(
        ib,
        m.open_order(
            8,
            m.AAPL,
            action="BUY",
            quantity="1",
            order_type="LMT",
            status="PreSubmitted",
            perm_id=8,
            order_ref="cid-7",
            lmt_price="1.0",
        ),
    )
    (trade,) = ib.trades()
    trade.log.clear()  # as placed by this client: nothing acknowledged yet
    feed(ib, m.error(8, 201, "Order rejected - reason:Price too far"))
    state = trade_state(trade, AAPL)
    assert state is not None and state.status is OrderStatus.REJECTED
    assert state.reason is not None and "Price too far" in state.reason


def test_trade_state_after_warning_keeps_the_working_status() -> None:
    trade = _trade(
        m.open_order(
            9,
            m.AAPL,
            action="BUY",
            quantity="1",
            order_type="LMT",
            status="Submitted",
            perm_id=9,
            order_ref="cid-8",
            lmt_price="1.0",
        ),
        m.order_status(9, "Submitted", remaining="1", perm_id=9),
        m.error(9, 399, "Order Message: Warning: your order will not be placed at the exchange"),
    )
    assert trade.orderStatus.status == "ValidationError"  # ib_async's mark
    state = trade_state(trade, AAPL)
    assert state is not None and state.status is OrderStatus.ACCEPTED


def test_quote_from_decoded_ticks_has_exact_bid_ask_and_sizes() -> None:
    ib = decoding_ib()
    ticker = ib.wrapper.startTicker(4, _eurusd(), "mktData")
    feed(ib, m.tick_price(4, 1, "1.0342", "1000000"), m.tick_price(4, 2, "1.03425", "2000000"))
    ticker.time = datetime(2025, 1, 15, 14, 30, tzinfo=UTC)
    quote = quote_from_ticker(ticker, InstrumentId("EURUSD"), now_ns=5)
    assert quote is not None
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        D("1.0342"),
        D("1.03425"),
        D(1000000),
        D(2000000),
    )
    assert quote.ts == 1_736_951_400_000_000_000


def test_quote_from_one_sided_ticker_is_none() -> None:
    ticker = Ticker(contract=_eurusd())
    ticker.bid, ticker.bidSize = 1.1, 1.0
    assert quote_from_ticker(ticker, InstrumentId("EURUSD"), now_ns=5) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (185.27, D("185.27")),
        (0.1, D("0.1")),
        (1e-05, D("0.00001")),
        (UNSET_DOUBLE, None),
        (float("nan"), None),
        (None, None),
        ("", None),
        ("2.5", D("2.5")),
    ],
)
def test_decimal_from_ib_recovers_the_decimal_tws_sent(
    value: float | str | None, expected: Decimal | None
) -> None:
    assert decimal_from_ib(value) == expected


def test_time_helpers_round_trip_and_format_utc() -> None:
    ts = 1_736_952_067_123_456_000
    assert ns_from_datetime(datetime_from_ns(ts)) == ts
    assert ib_utc_time(ts) == "20250115 14:41:07 UTC"
    assert ib_execution_filter_time(ts) == "20250115-14:41:07"


def test_bar_size_for_supported_and_unsupported_intervals() -> None:
    assert (bar_size_for(60), bar_size_for(3600), bar_size_for(86400)) == (
        "1 min",
        "1 hour",
        "1 day",
    )
    with pytest.raises(IbTranslationError, match="7-second"):
        bar_size_for(7)


def test_duration_for_picks_seconds_days_or_years() -> None:
    second = 1_000_000_000
    assert duration_for(0, 3600 * second) == "3600 S"
    assert duration_for(0, 86_401 * second) == "2 D"
    assert duration_for(0, 400 * 86_400 * second) == "2 Y"
    with pytest.raises(IbTranslationError, match="empty"):
        duration_for(5, 5)


def test_what_to_show_is_trades_for_stocks_and_futures_midpoint_elsewhere() -> None:
    assert what_to_show(Stock("AAPL", "SMART", "USD")) == "TRADES"
    assert what_to_show(Future("ES", "202512", "CME")) == "TRADES"
    assert what_to_show(Forex("EURUSD")) == "MIDPOINT"
    assert what_to_show(Commodity("XAUUSD", "SMART", "USD")) == "MIDPOINT"


def test_trade_bar_from_intraday_and_daily_bars() -> None:
    intraday = BarData(
        date=datetime(2025, 1, 15, 14, 30, tzinfo=UTC),
        open=185.1,
        high=185.5,
        low=184.9,
        close=185.27,
        volume=12345.0,
    )
    bar = trade_bar(intraday, AAPL, 60)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        D("185.1"),
        D("185.5"),
        D("184.9"),
        D("185.27"),
        D("12345.0"),
    )
    assert (bar.ts, bar.interval_ns) == (1_736_951_400_000_000_000, 60_000_000_000)
    daily = trade_bar(BarData(date=date(2025, 1, 15), close=1.03, volume=-1.0), AAPL, 86400)
    assert (daily.ts, daily.volume) == (1_736_899_200_000_000_000, D(0))
