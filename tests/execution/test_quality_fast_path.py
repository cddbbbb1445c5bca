"""Differential tests: the one-fill fast paths of `measure` and `horizon_measures`.

`measure` measures an order with one fill and no trades with `_measure_one`, every other
order with `_measure_any`; `horizon_measures` has its one-fill path inline and
`_horizon_any` for the rest. Both paths must give the same numbers written the same way (the
rows store the decimal text), so the comparison is of ``repr``: ``Decimal('1.0')`` and
``Decimal('1')``, or ``0`` and ``-0``, count as different.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueId
from alphintra.domain.market import QuoteTick
from alphintra.execution import quality as q
from alphintra.execution.quality import Execution, OrderRecord
from alphintra.execution.quality_benchmarks import _at

XYZ = InstrumentId("XYZ")
SEC = 1_000_000_000
D = Decimal

# Numbers written many ways: trailing zeros, positive exponents, many digits.
_PRICES = st.sampled_from(
    ["100", "100.0", "99.95", "1E+2", "100.00000", "0.0001", "12345.6789", "101.5", "98"]
)
_QUANTITIES = st.sampled_from(["1", "1000", "1E+3", "0.01", "2.50", "7", "1.23456789"])
_FEES = st.sampled_from(["0", "0.00000", "0E-8", "0.25", "1E+1", "3"])
_MULTIPLIERS = st.sampled_from(["1", "10", "1E+2", "0.5", "1.0"])


@st.composite
def _one_fill_orders(draw: st.DrawFn) -> tuple[OrderRecord, list[QuoteTick], int]:
    quotes = []
    for index in range(draw(st.integers(1, 5))):
        bid = D(draw(_PRICES))
        ask = bid + D(draw(st.sampled_from(["0", "0.1", "0.05", "1E+1", "0.00"])))
        quotes.append(QuoteTick(XYZ, bid, ask, D(1), D(1), index * SEC))
    arrival = draw(st.integers(0, len(quotes) - 1)) * SEC + draw(st.sampled_from([0, 1]))
    fill_ts = arrival + draw(st.sampled_from([0, 1, SEC, 2 * SEC]))
    quantity = D(draw(_QUANTITIES))
    fill = Execution(
        fill_ts,
        D(draw(_PRICES)),
        quantity,
        D(draw(_FEES)),
        VenueId("V"),
        draw(st.none() | st.just(TradeId("t1"))),
    )
    extra = D(draw(st.sampled_from(["0", "1", "0.5", "1E+1"])))
    end = draw(st.none() | st.sampled_from([0, 1, 3 * SEC]).map(lambda d: fill_ts + d))
    order = OrderRecord(
        ClientOrderId("O"),
        XYZ,
        draw(st.sampled_from(OrderSide)),
        quantity + extra,
        arrival,
        (fill,),
        "USD",
        decision_price=draw(st.none() | _PRICES.map(D)),
        end_ts=end,
        multiplier=D(draw(_MULTIPLIERS)),
    )
    return order, quotes, draw(st.sampled_from([0, 1, SEC, 10 * SEC]))


@settings(max_examples=400, deadline=None)
@given(_one_fill_orders())
def test_measure_one_fill_fast_path_equals_general_path_written_the_same(
    case: tuple[OrderRecord, list[QuoteTick], int],
) -> None:
    order, quotes, horizon = case
    times = [quote.ts for quote in quotes]
    arrival = _at(quotes, times, order.arrival_ts)
    assert arrival is not None

    fast = q.measure(order, quotes, times, horizon_ns=horizon)
    general = q._measure_any(order, arrival, quotes, times, (), horizon)

    assert repr(fast) == repr(general)


def test_measure_one_fill_fast_path_sell_zero_costs_keep_their_signs() -> None:
    # A sell filled at the mid: the fill's spread cost is -1 x 0 = -0, the order's 0 + -0 = 0.
    quotes = [QuoteTick(XYZ, D("99.9"), D("100.1"), D(1), D(1), 0)]
    order = OrderRecord(
        ClientOrderId("S"), XYZ, OrderSide.SELL, D(2), 0, (Execution(0, D(100), D(2)),), "USD"
    )

    fast = q.measure(order, quotes, [0], horizon_ns=0)
    general = q._measure_any(order, quotes[0], quotes, [0], (), 0)

    assert repr(fast.fills[0].spread_cost) == "Decimal('-0.0')"
    assert repr(fast.spread_cost) == "Decimal('0.0')"
    assert repr(fast) == repr(general)


@settings(max_examples=300, deadline=None)
@given(_one_fill_orders(), st.sampled_from([0, 1, SEC, 5 * SEC]), _PRICES)
def test_horizon_measures_one_fill_fast_path_equals_general_path_written_the_same(
    case: tuple[OrderRecord, list[QuoteTick], int], later_by: int, later_bid: str
) -> None:
    order, quotes, horizon = case
    quality = q.measure(order, quotes, [quote.ts for quote in quotes], horizon_ns=horizon)
    bid = D(later_bid)
    quotes = [*quotes, QuoteTick(XYZ, bid, bid + D("0.3"), D(1), D(1), quotes[-1].ts + later_by)]
    times = [quote.ts for quote in quotes]

    fast = q.horizon_measures(quality, quotes, times, horizon)
    general = q._horizon_any(quality, quotes, times, horizon)

    assert repr(fast) == repr(general)
