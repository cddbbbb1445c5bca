"""Tests for best-execution reports and transaction-cost analysis, worked by hand.

Four orders in XYZ (arrival mid 100.00 for all):

- B1 buys 10 of 12: 4 @ 100.05 on V1 at 1 s, 6 @ 100.25 on V2 at 2 s, decision 99.80,
  fees 0.70: spread 0.50, impact 1.20, timing 2.00, shortfall 4.40 (model M1);
- S2 sells 2 @ 99.95 on V1 at 1 s, decision 100.10: spread 0.10, timing 0.20 (model M2);
- B3 buys 2 @ 100.05 on V1 at 1 s, arriving at 0.5 s, no decision price: spread 0.10
  (model M1);
- B4 buys 3 at 5 s and never fills (model M2).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    TradeId,
    VenueId,
)
from alphintra.domain.market import QuoteTick
from alphintra.execution.quality import Execution, OrderQuality, OrderRecord, order_quality
from alphintra.execution.tca import (
    CostFilter,
    Dimension,
    Distribution,
    best_execution_report,
    cost_analysis,
    cost_analysis_by,
    percentile,
)

XYZ = InstrumentId("XYZ")
SEC = 1_000_000_000
D = Decimal


def _close(actual: Decimal | None, expected: Fraction) -> bool:
    assert actual is not None
    return abs(Fraction(actual) - expected) <= abs(expected) * Fraction(1, 10**25)


def _quote(ts: int, bid: str, ask: str) -> QuoteTick:
    return QuoteTick(XYZ, D(bid), D(ask), D(1), D(1), ts)


QUOTES = (
    _quote(0, "99.90", "100.10"),
    _quote(1 * SEC, "99.96", "100.04"),
    _quote(2 * SEC, "100.10", "100.30"),
    _quote(20 * SEC, "100.30", "100.50"),
)
FLAT = (_quote(0, "99.90", "100.10"), _quote(20 * SEC, "99.90", "100.10"))


def _order(
    name: str,
    side: OrderSide,
    quantity: int,
    fills: tuple[Execution, ...],
    *,
    model: str,
    arrival: int = 0,
    decision: str | None = None,
    end: int | None = None,
    currency: str = "USD",
) -> OrderRecord:
    return OrderRecord(
        ClientOrderId(name),
        XYZ,
        side,
        D(quantity),
        arrival,
        fills,
        currency,
        decision_price=None if decision is None else D(decision),
        end_ts=end,
        account_id=AccountId("ACC"),
        model_id=ModelId(model),
        strategy="trend",
    )


def _fill(ts: int, price: str, quantity: int, venue: str, fee: str = "0") -> Execution:
    return Execution(ts, D(price), D(quantity), D(fee), VenueId(venue), TradeId(f"{venue}{ts}"))


def _orders(currency: str = "USD") -> list[OrderQuality]:
    b1 = _order(
        "B1",
        OrderSide.BUY,
        12,
        (_fill(SEC, "100.05", 4, "V1", "0.40"), _fill(2 * SEC, "100.25", 6, "V2", "0.30")),
        model="M1",
        decision="99.80",
        end=3 * SEC,
        currency=currency,
    )
    s2 = _order(
        "S2", OrderSide.SELL, 2, (_fill(SEC, "99.95", 2, "V1"),), model="M2", decision="100.10"
    )
    b3 = _order(
        "B3", OrderSide.BUY, 2, (_fill(SEC, "100.05", 2, "V1"),), model="M1", arrival=SEC // 2
    )
    b4 = _order("B4", OrderSide.BUY, 3, (), model="M2", arrival=5 * SEC, end=5 * SEC)
    return [
        order_quality(b1, QUOTES, horizon_ns=SEC),
        order_quality(s2, FLAT, horizon_ns=SEC),
        order_quality(b3, FLAT, horizon_ns=SEC),
        order_quality(b4, FLAT, horizon_ns=SEC),
    ]


# --- percentiles ------------------------------------------------------------------------------


def test_percentile_five_values_linear_interpolation_hand_computed() -> None:
    values = [D(5), D(1), D(4), D(2), D(3)]

    assert percentile(values, D("0.5")) == D(3)
    assert percentile(values, D("0.9")) == D("4.6")  # h = 4 × 0.9 = 3.6: 4 + 0.6 × 1
    assert percentile(values, D("0.99")) == D("4.96")  # h = 3.96
    assert percentile(values, D(0)) == D(1)
    assert percentile(values, D(1)) == D(5)


def test_percentile_single_value_is_that_value() -> None:
    assert percentile([D("7.5")], D("0.9")) == D("7.5")


def test_percentile_no_values_raises() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], D("0.5"))


def test_percentile_fraction_above_one_raises_with_value() -> None:
    with pytest.raises(ValueError, match="got 90"):
        percentile([D(1)], D(90))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-10_000, 10_000), min_size=1, max_size=30),
    st.sampled_from(["0", "0.25", "0.5", "0.9", "0.99", "1"]),
)
def test_percentile_random_values_matches_numpy_default(values: list[int], fraction: str) -> None:
    expected = float(np.percentile(np.array(values, dtype=float), float(fraction) * 100))

    actual = percentile([D(v) for v in values], D(fraction))

    assert float(actual) == pytest.approx(expected, abs=1e-9)


def test_distribution_of_nothing_is_empty() -> None:
    assert Distribution.of([]) == Distribution(0, None, None, None, None)


# --- best execution ---------------------------------------------------------------------------


def test_best_execution_instrument_row_counts_all_orders_hand_computed() -> None:
    report = best_execution_report(_orders())

    (row,) = report.instruments
    assert row.venue is None
    assert (row.order_count, row.fill_count) == (4, 4)
    assert row.filled_quantity == D(14)
    assert _close(row.fill_rate, Fraction(14, 19))  # ordered 12 + 2 + 2 + 3
    # order slippage 17, 5, 5 bps: p90 h = 1.8 → 5 + 0.8 × 12; p99 h = 1.98
    assert row.slippage_bps == Distribution(3, D(9), D(5), D("14.6"), D("16.76"))
    assert row.execution_time_ns.p50 == D(SEC)  # of 2 s, 1 s, 0.5 s
    assert row.price_improvement_rate == D("0.75")  # 3 of 4 fills beat the arrival quote


def test_best_execution_venue_rows_slice_orders_by_fill_venue() -> None:
    report = best_execution_report(_orders())

    v1, v2 = report.venues
    assert (v1.venue, v1.order_count, v1.fill_count) == ("V1", 3, 3)
    assert v1.filled_quantity == D(8)
    assert v1.filled_notional == D("800.20")  # 400.20 + 199.90 + 200.10
    assert v1.slippage_bps == Distribution(3, D(5), D(5), D(5), D(5))
    times = v1.execution_time_ns  # 1 s, 1 s, 0.5 s
    assert _close(times.mean, Fraction(5 * SEC, 6))
    assert (times.count, times.p50, times.p90, times.p99) == (3, D(SEC), D(SEC), D(SEC))
    assert v1.price_improvement_rate == D(1)
    assert (v2.venue, v2.order_count, v2.filled_quantity) == ("V2", 1, D(6))
    assert v2.slippage_bps.mean == D(25)  # 6 @ 100.25 vs 100.00
    assert v2.execution_time_ns.mean == D(2 * SEC)
    assert v2.price_improvement_rate == D(0)


def test_best_execution_venue_breakdown_shares_of_filled_quantity() -> None:
    breakdown = best_execution_report(_orders()).venue_breakdown(XYZ)

    assert _close(breakdown[VenueId("V1")], Fraction(8, 14))
    assert _close(breakdown[VenueId("V2")], Fraction(6, 14))


def test_best_execution_no_orders_empty_report() -> None:
    report = best_execution_report([])

    assert report.instruments == ()
    assert report.venues == ()


# --- transaction-cost analysis ------------------------------------------------------------------


def test_cost_analysis_all_orders_terms_hand_computed_and_sum_to_shortfall() -> None:
    costs = cost_analysis(_orders())

    assert (costs.order_count, costs.fill_count, costs.currency) == (4, 4, "USD")
    assert costs.spread == D("0.70")  # 0.50 + 0.10 + 0.10
    assert costs.impact == D("1.20")
    assert costs.timing == D("2.20")  # 2.00 + 0.20
    assert costs.fees == D("0.70")
    assert costs.implementation_shortfall == D("4.80")
    assert costs.spread + costs.impact + costs.timing + costs.fees == D("4.80")
    assert costs.decision_notional == D("1398.20")  # 998.00 + 200.20 + 200.00
    assert costs.filled_notional == D("1401.70")  # 1001.70 + 199.90 + 200.10
    assert _close(costs.implementation_shortfall_bps, Fraction(480_000, 13_982))
    assert costs.opportunity_cost == D("0.80")  # B1's 2 unfilled; B4's mid did not move


def test_cost_analysis_by_model_groups_hand_computed() -> None:
    groups = cost_analysis_by(_orders(), Dimension.MODEL)

    assert list(groups) == ["M1", "M2"]
    assert groups["M1"].implementation_shortfall == D("4.50")  # 4.40 + 0.10
    assert groups["M1"].timing == D("2.00")
    assert groups["M2"].implementation_shortfall == D("0.30")
    assert (groups["M2"].order_count, groups["M2"].fill_count) == (2, 1)


def test_cost_analysis_by_venue_splits_orders_by_fill_and_adds_up() -> None:
    groups = cost_analysis_by(_orders(), Dimension.VENUE)

    assert list(groups) == ["V1", "V2", None]
    v1, v2, unfilled = groups["V1"], groups["V2"], groups[None]
    assert (v1.spread, v1.impact, v1.timing, v1.fees) == (D("0.40"), D(0), D("1.00"), D("0.40"))
    assert v1.implementation_shortfall == D("1.80")
    assert (v2.spread, v2.impact, v2.timing, v2.fees) == (
        D("0.30"),
        D("1.20"),
        D("1.20"),
        D("0.30"),
    )
    assert v2.implementation_shortfall == D("3.00")
    assert unfilled.order_count == 1
    assert unfilled.implementation_shortfall == 0
    assert unfilled.implementation_shortfall_bps is None
    total = sum((g.implementation_shortfall for g in groups.values()), D(0))
    assert total == cost_analysis(_orders()).implementation_shortfall


def test_cost_analysis_period_filter_keeps_arrivals_in_window() -> None:
    costs = cost_analysis(_orders(), CostFilter(start_ts=SEC // 2, end_ts=6 * SEC))

    assert costs.order_count == 2  # B3 at 0.5 s and B4 at 5 s
    assert costs.implementation_shortfall == D("0.10")


def test_cost_analysis_account_model_strategy_filters_combine() -> None:
    chosen = CostFilter(account_id=AccountId("ACC"), model_id=ModelId("M2"), strategy="trend")

    assert cost_analysis(_orders(), chosen).implementation_shortfall == D("0.30")
    assert cost_analysis(_orders(), CostFilter(strategy="other")).order_count == 0


def test_cost_analysis_mixed_currencies_raises_naming_them() -> None:
    orders = _orders()[1:] + _orders("EUR")[:1]

    with pytest.raises(ValueError, match=r"one currency; got \['EUR', 'USD'\]"):
        cost_analysis(orders)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(OrderSide),
            st.integers(9_000, 11_000),
            st.integers(1, 500),
            st.integers(0, 99),
            st.sampled_from(["V1", "V2", "V3"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_cost_analysis_random_orders_components_add_up_exactly(
    rows: list[tuple[OrderSide, int, int, int, str]],
) -> None:
    orders = [
        order_quality(
            _order(
                f"R{index}",
                side,
                quantity,
                (_fill(SEC, str(D(price) / 100), quantity, venue, str(D(fee) / 100)),),
                model="M",
                decision=str(D(price + 7) / 100),
            ),
            QUOTES,
            horizon_ns=SEC,
        )
        for index, (side, price, quantity, fee, venue) in enumerate(rows)
    ]

    costs = cost_analysis(orders)

    assert costs.spread + costs.impact + costs.timing + costs.fees == (
        costs.implementation_shortfall
    )
    expected = sum((Fraction(o.implementation_shortfall) for o in orders), Fraction(0))
    assert Fraction(costs.implementation_shortfall) == expected
    by_venue = cost_analysis_by(orders, Dimension.VENUE)
    assert sum((g.implementation_shortfall for g in by_venue.values()), D(0)) == (
        costs.implementation_shortfall
    )
