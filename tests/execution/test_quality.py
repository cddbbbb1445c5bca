"""Tests for execution-quality metrics: hand-computed examples for every measure and sign.

Expected values are written out as arithmetic in exact fractions (the working is in
the comments); where a result divides by a mid other than 100 it is compared to 25
significant digits.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import LiquiditySide, OrderSide
from alphintra.domain.events import OrderFilled
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.market import QuoteTick, TradeBar, TradeTick
from alphintra.domain.values import Quantity
from alphintra.execution.quality import (
    Execution,
    OrderQuality,
    OrderRecord,
    interval_twap,
    interval_vwap,
    order_quality,
)

XYZ = InstrumentId("XYZ")
SEC = 1_000_000_000
HORIZON = 5 * SEC
D = Decimal


def _close(actual: Decimal | None, expected: Fraction) -> bool:
    assert actual is not None
    return abs(Fraction(actual) - expected) <= abs(expected) * Fraction(1, 10**25)


def _quote(ts: int, bid: str, ask: str) -> QuoteTick:
    return QuoteTick(XYZ, D(bid), D(ask), D(1), D(1), ts)


def _bar(ts: int, high: str, low: str, close: str, volume: str) -> TradeBar:
    return TradeBar(XYZ, D(close), D(high), D(low), D(close), D(volume), ts, SEC)


# Mids: 100.00 at 0 and 1 s, 100.20 at 2 s, 100.30 at 6 s, 100.40 from 7 s.
QUOTES = (
    _quote(0, "99.90", "100.10"),
    _quote(1 * SEC, "99.96", "100.04"),
    _quote(2 * SEC, "100.10", "100.30"),
    _quote(6 * SEC, "100.20", "100.40"),
    _quote(7 * SEC, "100.30", "100.50"),
    _quote(20 * SEC, "100.30", "100.50"),
)
# Typical prices (H + L + C) / 3: 100.00, 100.20, 100.40; the 3 s bar is outside [0, 3 s).
BARS = (
    _bar(0, "100.10", "99.90", "100.00", "10"),
    _bar(1 * SEC, "100.30", "100.00", "100.30", "30"),
    _bar(2 * SEC, "100.50", "100.30", "100.40", "60"),
    _bar(3 * SEC, "101.00", "101.00", "101.00", "1000"),
)


def _buy_order(**changes: object) -> OrderRecord:
    fields: dict[str, object] = {
        "client_order_id": ClientOrderId("B1"),
        "instrument_id": XYZ,
        "side": OrderSide.BUY,
        "quantity": D(12),
        "arrival_ts": 0,
        "fills": (
            Execution(1 * SEC, D("100.05"), D(4), D("0.40"), VenueId("V1"), TradeId("t1")),
            Execution(2 * SEC, D("100.25"), D(6), D("0.30"), VenueId("V2"), TradeId("t2")),
        ),
        "currency": "USD",
        "decision_price": D("99.80"),
        "end_ts": 3 * SEC,
    }
    fields.update(changes)
    return OrderRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def buy() -> OrderQuality:
    return order_quality(_buy_order(), QUOTES, BARS, horizon_ns=HORIZON)


# --- sign conventions -----------------------------------------------------------------------


def _single(side: OrderSide, price: str, decision: str | None = None) -> OrderQuality:
    quotes = (
        _quote(0, "99.90", "100.10"),
        _quote(10 * SEC, "99.70", "99.90"),  # mid 99.80 afterwards
    )
    order = OrderRecord(
        ClientOrderId("O"),
        XYZ,
        side,
        D(2),
        0,
        (Execution(1 * SEC, D(price), D(2)),),
        "USD",
        decision_price=None if decision is None else D(decision),
    )
    return order_quality(order, quotes, horizon_ns=9 * SEC)


def test_order_quality_buy_above_arrival_mid_costs_positive_five_bps() -> None:
    quality = _single(OrderSide.BUY, "100.05")

    assert quality.slippage_bps == D(5)
    assert quality.fills[0].slippage_bps == D(5)


def test_order_quality_sell_below_arrival_mid_costs_positive_five_bps() -> None:
    quality = _single(OrderSide.SELL, "99.95")

    assert quality.slippage_bps == D(5)


def test_order_quality_buy_below_arrival_mid_is_negative_cost() -> None:
    assert _single(OrderSide.BUY, "99.95").slippage_bps == D(-5)


def test_order_quality_sell_every_measure_signed_as_cost() -> None:
    quality = _single(OrderSide.SELL, "99.95", decision="100.10")
    fill = quality.fills[0]

    assert fill.effective_spread_bps == D(10)  # 2 × |99.95 - 100| / 100
    assert fill.realised_spread_bps == D(-30)  # 2 × -1 × (99.95 - 99.80) / 100
    assert quality.market_impact_bps == D(20)  # -1 × (99.80 - 100) / 100: price fell after
    assert fill.price_improvement == D("0.05")  # sold above the 99.90 bid
    assert fill.improved
    assert _close(quality.price_improvement_bps, Fraction(5_000, 999))  # 0.05 / 99.90 bid
    assert quality.spread_cost == D("0.10")  # -1 × 2 × (99.95 - 100)
    assert quality.timing_cost == D("0.20")  # -1 × 2 × (100 - 100.10)
    assert quality.impact_cost == D(0)
    assert quality.implementation_shortfall == D("0.30")  # -1 × 2 × (99.95 - 100.10)


# --- the buy scenario, measure by measure ----------------------------------------------------


def test_order_quality_partial_buy_arrival_mid_and_fill_rate_hand_computed(
    buy: OrderQuality,
) -> None:
    assert (buy.arrival_bid, buy.arrival_ask, buy.arrival_mid) == (
        D("99.90"),
        D("100.10"),
        D("100.00"),
    )
    assert buy.filled_quantity == D(10)
    assert _close(buy.fill_rate, Fraction(10, 12))
    assert buy.execution_time_ns == 2 * SEC
    assert buy.venues == ("V1", "V2")


def test_order_quality_partial_buy_average_price_slippage_seventeen_bps(buy: OrderQuality) -> None:
    # (4 × 100.05 + 6 × 100.25) / 10 = 1001.70 / 10
    assert buy.average_price == D("100.17")
    assert buy.slippage_bps == D(17)
    assert [f.slippage_bps for f in buy.fills] == [D(5), D(25)]


def test_order_quality_signal_entry_price_shortfall_measured_from_it(buy: OrderQuality) -> None:
    # 4 × (100.05 - 99.80) + 6 × (100.25 - 99.80) + fees 0.70 = 1.00 + 2.70 + 0.70
    assert buy.decision_from_signal
    assert buy.implementation_shortfall == D("4.40")
    assert buy.decision_notional == D("998.00")
    assert _close(buy.implementation_shortfall_bps, Fraction(44_000, 998))


def test_order_quality_partial_buy_decomposition_terms_sum_to_shortfall(buy: OrderQuality) -> None:
    assert buy.spread_cost == D("0.50")  # 4 × (100.05 - 100.00) + 6 × (100.25 - 100.20)
    assert buy.impact_cost == D("1.20")  # 4 × 0 + 6 × (100.20 - 100.00)
    assert buy.timing_cost == D("2.00")  # 10 × (100.00 - 99.80)
    assert buy.fees == D("0.70")
    assert buy.spread_cost + buy.impact_cost + buy.timing_cost + buy.fees == (
        buy.implementation_shortfall
    )


def test_order_quality_cancelled_remainder_opportunity_cost_from_end_mid(buy: OrderQuality) -> None:
    # 2 unfilled × (mid 100.20 at the 3 s cancel - 99.80)
    assert buy.opportunity_cost == D("0.80")


def test_order_quality_partial_buy_spreads_hand_computed(buy: OrderQuality) -> None:
    first, second = buy.fills
    assert first.effective_spread_bps == D(10)  # 2 × 0.05 / 100.00
    assert _close(second.effective_spread_bps, Fraction(2 * 5 * 10_000, 10_020))
    assert first.mid_after == D("100.30")
    assert first.realised_spread_bps == D(-50)  # 2 × (100.05 - 100.30) / 100
    assert second.mid_after == D("100.40")
    assert _close(second.realised_spread_bps, Fraction(-2 * 15 * 10_000, 10_020))
    assert _close(buy.effective_spread_bps, (4 * Fraction(10) + 6 * Fraction(100_000, 10_020)) / 10)
    assert _close(
        buy.realised_spread_bps, (4 * Fraction(-50) + 6 * Fraction(-300_000, 10_020)) / 10
    )


def test_order_quality_mid_rises_after_buy_impact_forty_bps(buy: OrderQuality) -> None:
    assert buy.market_impact_bps == D(40)  # mid 100.40 at 2 s + 5 s vs 100.00


def test_order_quality_buy_below_arrival_ask_counts_as_improvement(buy: OrderQuality) -> None:
    first, second = buy.fills
    assert first.price_improvement == D("0.05")  # 100.10 ask - 100.05
    assert first.improved
    assert second.price_improvement == D("-0.15")
    assert not second.improved
    assert _close(buy.price_improvement_bps, Fraction(-7 * 10_000, 10_010))  # (100.10-100.17)


def test_order_quality_bars_over_life_vwap_twap_slippage_hand_computed(buy: OrderQuality) -> None:
    # VWAP (100.00 × 10 + 100.20 × 30 + 100.40 × 60) / 100; TWAP mean of 3 full bars.
    assert buy.interval_vwap == D("100.30")
    assert buy.interval_twap == D("100.20")
    assert _close(buy.vwap_slippage_bps, Fraction(-13 * 10_000, 10_030))
    assert _close(buy.twap_slippage_bps, Fraction(-3 * 10_000, 10_020))


def test_order_quality_without_decision_price_uses_arrival_mid() -> None:
    quality = order_quality(_buy_order(decision_price=None), QUOTES, BARS, horizon_ns=HORIZON)

    assert not quality.decision_from_signal
    assert quality.decision_price == D("100.00")
    assert quality.timing_cost == 0
    assert quality.implementation_shortfall == D("2.40")  # 0.50 + 1.20 + 0.70


def test_order_quality_horizon_past_last_quote_leaves_post_trade_measures_none() -> None:
    quality = order_quality(_buy_order(), QUOTES[:4], BARS, horizon_ns=HORIZON)

    assert quality.fills[0].realised_spread_bps == D(-50)  # 6 s is covered
    assert quality.fills[1].realised_spread_bps is None  # 7 s is not
    assert quality.realised_spread_bps is None
    assert quality.market_impact_bps is None


def test_order_quality_no_fills_reports_zero_fill_rate_and_no_prices() -> None:
    quality = order_quality(_buy_order(fills=(), end_ts=SEC), QUOTES, BARS, horizon_ns=HORIZON)

    assert quality.fill_rate == 0
    assert quality.average_price is None
    assert quality.slippage_bps is None
    assert quality.implementation_shortfall == 0
    assert quality.implementation_shortfall_bps is None
    assert quality.execution_time_ns is None
    assert quality.interval_vwap is None
    assert quality.opportunity_cost == D("2.40")  # 12 × (100.00 - 99.80)


def test_order_quality_multiplier_scales_money_not_bps() -> None:
    plain = order_quality(_buy_order(), QUOTES, BARS, horizon_ns=HORIZON)
    scaled = order_quality(_buy_order(multiplier=D(50)), QUOTES, BARS, horizon_ns=HORIZON)

    assert scaled.implementation_shortfall == D("0.50") * 50 + D("1.20") * 50 + D("2.00") * 50 + D(
        "0.70"
    )
    assert scaled.average_price == plain.average_price
    assert scaled.slippage_bps == plain.slippage_bps


# --- VWAP and TWAP ------------------------------------------------------------------------


def test_interval_twap_bars_partly_inside_weighted_by_overlap() -> None:
    # 0.5 s of 100.00, 1 s of 100.20, 0.5 s of 100.40 over [0.5 s, 2.5 s)
    assert interval_twap(BARS, SEC // 2, 5 * SEC // 2) == D("100.20")


def test_interval_vwap_bars_counts_whole_volume_of_overlapping_bars() -> None:
    # bars at 1 s and 2 s overlap [1.5 s, 2.5 s): (100.20 × 30 + 100.40 × 60) / 90
    assert _close(interval_vwap(BARS, 3 * SEC // 2, 5 * SEC // 2), Fraction(9_030, 90))


def test_interval_twap_zero_length_window_is_bar_holding_the_instant() -> None:
    assert interval_twap(BARS, SEC, SEC) == D("100.20")


def test_interval_vwap_and_twap_ticks_hand_computed() -> None:
    ticks = (
        TradeTick(XYZ, D("100"), D("1"), 0),
        TradeTick(XYZ, D("101"), D("3"), SEC),
        TradeTick(XYZ, D("102"), D("1"), 3 * SEC // 2),
        TradeTick(XYZ, D("200"), D("9"), 2 * SEC),
    )
    # TWAP over [0.5 s, 2 s): 100 for 0.5 s, 101 for 0.5 s, 102 for 0.5 s
    assert interval_twap(ticks, SEC // 2, 2 * SEC) == D(101)
    # VWAP of ticks in [0.5 s, 1.5 s]: (101 × 3 + 102 × 1) / 4
    assert interval_vwap(ticks, SEC // 2, 3 * SEC // 2) == D("101.25")


def test_interval_vwap_no_data_in_window_is_none() -> None:
    assert interval_vwap(BARS, 10 * SEC, 11 * SEC) is None
    assert interval_twap((), 0, SEC) is None


def test_interval_vwap_bars_and_ticks_mixed_raises() -> None:
    with pytest.raises(ValueError, match="not a mix"):
        interval_vwap([BARS[0], TradeTick(XYZ, D(1), D(1), 0)], 0, SEC)  # type: ignore[arg-type]


# --- inputs -----------------------------------------------------------------------------------


def test_execution_from_event_copies_price_quantity_fee_and_venue() -> None:
    event = OrderFilled(
        account_id=AccountId("acc"),
        ts_event=5,
        ts_recv=6,
        client_order_id=ClientOrderId("c"),
        venue=VenueId("V"),
        venue_order_id=VenueOrderId("v1"),
        trade_id=TradeId("t"),
        instrument_id=XYZ,
        side=OrderSide.BUY,
        last_quantity=Quantity.of("2", 0),
        last_price=D("100.5"),
        fee=D("0.1"),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )

    fill = Execution.from_event(event)

    assert fill == Execution(5, D("100.5"), D(2), D("0.1"), VenueId("V"), TradeId("t"))
    assert Execution.from_event(event, fee_in_quote=D("0.2")).fee == D("0.2")


def test_order_quality_no_quote_before_arrival_raises() -> None:
    with pytest.raises(ValueError, match="no quote at or before arrival ts 0"):
        order_quality(_buy_order(), QUOTES[1:], horizon_ns=HORIZON)


def test_order_quality_quotes_of_another_instrument_raise() -> None:
    other = (QuoteTick(InstrumentId("ABC"), D(1), D(2), D(1), D(1), 0),)

    with pytest.raises(ValueError, match="for XYZ, got market data for ABC"):
        order_quality(_buy_order(), other, horizon_ns=HORIZON)


def test_order_quality_quotes_out_of_order_raise() -> None:
    with pytest.raises(ValueError, match="quotes must be in time order"):
        order_quality(_buy_order(), (QUOTES[1], QUOTES[0]), horizon_ns=HORIZON)


def test_order_record_overfilled_raises() -> None:
    with pytest.raises(ValueError, match="fills total 10, above ordered 5"):
        _buy_order(quantity=D(5))


def test_order_record_fill_before_arrival_raises() -> None:
    with pytest.raises(ValueError, match="precedes arrival"):
        _buy_order(arrival_ts=5 * SEC, end_ts=None)


# --- property: the decomposition is exact -----------------------------------------------------


@st.composite
def _random_orders(draw: st.DrawFn) -> tuple[OrderRecord, tuple[QuoteTick, ...]]:
    count = draw(st.integers(1, 6))
    quotes = []
    for index in range(count + 2):
        bid = D(draw(st.integers(9_000, 11_000))) / 100
        spread = D(draw(st.integers(1, 50))) / 100
        quotes.append(QuoteTick(XYZ, bid, bid + spread, D(1), D(1), index * SEC))
    fills = tuple(
        Execution(
            (index + 1) * SEC,
            D(draw(st.integers(8_000, 12_000))) / 100,
            D(draw(st.integers(1, 10_000))) / 1000,
            D(draw(st.integers(0, 500))) / 10_000,
            VenueId(draw(st.sampled_from(["A", "B"]))),
        )
        for index in range(count)
    )
    total = sum((f.quantity for f in fills), D(0))
    order = OrderRecord(
        ClientOrderId("R"),
        XYZ,
        draw(st.sampled_from(OrderSide)),
        total + D(draw(st.integers(0, 5))),
        0,
        fills,
        "USD",
        decision_price=draw(st.none() | st.integers(9_000, 11_000).map(lambda n: D(n) / 100)),
        multiplier=D(draw(st.sampled_from([1, 10, 100]))),
    )
    return order, tuple(quotes)


@settings(max_examples=200, deadline=None)
@given(_random_orders())
def test_order_quality_random_orders_terms_sum_exactly_to_shortfall(
    case: tuple[OrderRecord, tuple[QuoteTick, ...]],
) -> None:
    order, quotes = case

    quality = order_quality(order, quotes, horizon_ns=SEC)

    s = order.side.sign
    decision = Fraction(quality.decision_price)
    expected = sum(
        (s * Fraction(f.quantity) * (Fraction(f.price) - decision) for f in order.fills),
        Fraction(0),
    ) * Fraction(order.multiplier) + sum((Fraction(f.fee) for f in order.fills), Fraction(0))
    assert Fraction(quality.implementation_shortfall) == expected
    assert (
        quality.spread_cost + quality.impact_cost + quality.timing_cost + quality.fees
        == quality.implementation_shortfall
    )
    for fill in quality.fills:
        assert fill.effective_spread_bps >= 0
