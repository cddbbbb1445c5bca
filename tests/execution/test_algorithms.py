"""Execution algorithm policies: schedules, profiles, participation sizing and the guard.

The VWAP profile is checked against one computed here from the real SPY minute bars
with the stdlib ``csv`` module, independently of alphintra's loader.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.market import QuoteBar, TradeBar, TradeTick
from alphintra.execution.algorithms import (
    NS_PER_DAY,
    AlgoSpec,
    Due,
    IcebergSpec,
    PovSpec,
    Slice,
    SlicePlan,
    SorSpec,
    TwapSpec,
    VolumeProfile,
    VwapSpec,
    algo_name,
    bar_volume,
    child_limit_price,
    decode_spec,
    encode_spec,
    marketable_price,
    plan_for,
    pov_child_quantity,
    pov_target,
    twap_schedule,
    volume_profile,
    vwap_schedule,
)
from alphintra.execution.routing import CostModel, FailurePolicy
from alphintra.orders.factory import OrderValidationError
from helpers.csv_rows import SPY_TRADE, read_rows, ts_ns
from helpers.sim_harness import load_series

MINUTE = 60 * 1_000_000_000
T0 = ts_ns("2013-10-10T14:00:00Z")
SPY = InstrumentId("SPY")


def _trade_bar(ts: int, close: str, volume: str) -> TradeBar:
    price = Decimal(close)
    return TradeBar(SPY, price, price, price, price, Decimal(volume), ts, MINUTE)


# TWAP ------------------------------------------------------------------------------------


def test_twap_schedule_even_split_equal_buckets_sum_to_quantity() -> None:
    spec = TwapSpec(start_ns=T0, end_ns=T0 + 60 * MINUTE, slices=12)
    slices = twap_schedule(spec, Decimal(1200), Decimal(1), "O-1")
    assert [s.quantity for s in slices] == [Decimal(100)] * 12
    assert [s.start_ns for s in slices] == [T0 + 5 * MINUTE * i for i in range(12)]
    assert [s.send_ns for s in slices] == [s.start_ns for s in slices]
    assert slices[-1].end_ns == T0 + 60 * MINUTE


@settings(max_examples=200)
@given(
    slices=st.integers(min_value=1, max_value=40),
    quantity=st.integers(min_value=1, max_value=10**7),
    size_jitter=st.decimals(min_value=0, max_value="0.99", places=2),
    time_jitter=st.decimals(min_value=0, max_value=1, places=2),
    seed=st.text(min_size=1, max_size=12),
)
def test_twap_schedule_randomised_stays_within_bounds_and_sums_to_quantity(
    slices: int, quantity: int, size_jitter: Decimal, time_jitter: Decimal, seed: str
) -> None:
    spec = TwapSpec(
        start_ns=T0,
        end_ns=T0 + 97 * MINUTE + 13,
        slices=slices,
        size_jitter=size_jitter,
        time_jitter=time_jitter,
    )
    lot = Decimal(1)
    plan = twap_schedule(spec, Decimal(quantity), lot, seed)
    assert sum(s.quantity for s in plan) == quantity
    even = Decimal(quantity) / slices
    for s in plan:
        length = s.end_ns - s.start_ns
        assert s.quantity >= 0
        # Bucket lengths differ by at most 1 ns: the even split is of duration.
        assert abs(s.quantity - even) <= size_jitter * even + 2 * lot + even / length
        assert s.start_ns <= s.send_ns <= s.start_ns + time_jitter * length
        assert s.send_ns < s.end_ns
    assert twap_schedule(spec, Decimal(quantity), lot, seed) == plan  # replay: same plan


def test_twap_schedule_other_seed_draws_other_sizes_and_times() -> None:
    spec = TwapSpec(
        start_ns=T0,
        end_ns=T0 + 60 * MINUTE,
        slices=12,
        size_jitter=Decimal("0.3"),
        time_jitter=Decimal("0.5"),
    )
    first = twap_schedule(spec, Decimal(12000), Decimal(1), "O-1")
    second = twap_schedule(spec, Decimal(12000), Decimal(1), "O-2")
    assert [s.quantity for s in first] != [s.quantity for s in second]
    assert [s.send_ns for s in first] != [s.send_ns for s in second]
    assert len({s.quantity for s in first}) > 1


def test_twap_schedule_interval_last_bucket_ends_at_end() -> None:
    spec = TwapSpec(start_ns=T0, end_ns=T0 + 25 * MINUTE, interval_ns=10 * MINUTE)
    slices = twap_schedule(spec, Decimal("2.5"), Decimal("0.1"), "O-1")
    assert [(s.start_ns - T0) // MINUTE for s in slices] == [0, 10, 20]
    assert slices[-1].end_ns == T0 + 25 * MINUTE
    assert [s.quantity for s in slices] == [Decimal("1.0"), Decimal("1.0"), Decimal("0.5")]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slices": 4, "end_ns": T0}, "not after the start"),
        ({"slices": 4, "interval_ns": MINUTE}, "exactly one of"),
        ({}, "exactly one of"),
        ({"slices": 0}, "slices must be"),
        ({"interval_ns": -1}, "interval_ns must be positive"),
        ({"slices": 4, "size_jitter": Decimal(1)}, "size_jitter"),
        ({"slices": 4, "time_jitter": Decimal("-0.1")}, "time_jitter"),
        ({"slices": 4, "time_jitter": Decimal("1.5")}, r"time_jitter must be in \[0, 1\]"),
    ],
)
def test_twap_spec_invalid_fields_raise_naming_value(
    fields: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"start_ns": T0, "end_ns": T0 + MINUTE, **fields}
    with pytest.raises(OrderValidationError, match=message):
        TwapSpec(**arguments)  # type: ignore[arg-type]


# VWAP ------------------------------------------------------------------------------------


def test_volume_profile_spy_past_days_matches_csv_computation() -> None:
    bars = load_series(SPY_TRADE, "SPY")
    day = ts_ns("2013-10-10T00:00:00Z")
    bucket = 15 * MINUTE
    profile = volume_profile(bars, bucket_ns=bucket, days=2, before_ns=day)
    by_bucket: dict[int, Decimal] = defaultdict(Decimal)
    for row in read_rows(SPY_TRADE):
        if row["timestamp"][:10] in ("2013-10-08", "2013-10-09"):
            by_bucket[(ts_ns(row["timestamp"]) % NS_PER_DAY) // bucket] += Decimal(row["volume"])
    total = sum(by_bucket.values(), Decimal(0))
    assert [index for index, _ in profile.weights] == sorted(by_bucket)
    for index, weight in profile.weights:
        assert abs(weight - by_bucket[index] / total) <= Decimal("1e-12")
    assert abs(sum((w for _, w in profile.weights), Decimal(0)) - 1) <= Decimal("1e-9")


def test_volume_profile_quote_bars_count_one_per_bar() -> None:
    def quote(ts: int) -> QuoteBar:
        one = Decimal(1)
        return QuoteBar(SPY, one, one, one, one, one, one, one, one, Decimal(0), Decimal(0), ts, 1)

    profile = volume_profile(
        [quote(0), quote(MINUTE), quote(16 * MINUTE)], bucket_ns=15 * MINUTE, days=None
    )
    assert profile.weights == ((0, Decimal("0.666666666667")), (1, Decimal("0.333333333333")))
    assert bar_volume(TradeTick(SPY, Decimal(1), Decimal(7), 0)) == 7


def test_volume_profile_without_volume_raises() -> None:
    with pytest.raises(OrderValidationError, match="no volume"):
        volume_profile([_trade_bar(T0, "1", "0")], bucket_ns=MINUTE)
    with pytest.raises(OrderValidationError, match="divide a day"):
        volume_profile([], bucket_ns=7 * 1_000_000_000 + 1)


def test_vwap_schedule_follows_profile_and_prorates_partial_buckets() -> None:
    day = T0 - T0 % NS_PER_DAY
    first = (T0 - day) // (10 * MINUTE)
    profile = VolumeProfile(
        10 * MINUTE, ((first, Decimal("0.1")), (first + 1, Decimal("0.3")), (first + 2, Decimal(1)))
    )
    # The window covers buckets first and first + 1 in full, and half of first + 2.
    spec = VwapSpec(start_ns=T0, end_ns=T0 + 25 * MINUTE, profile=profile, slices_per_bucket=2)
    slices = vwap_schedule(spec, Decimal(900), Decimal(1))
    assert [(s.start_ns - T0) // MINUTE for s in slices] == [0, 5, 10, 15, 20, 22]
    assert [s.quantity for s in slices] == [Decimal(q) for q in (50, 50, 150, 150, 250, 250)]
    assert all(s.send_ns == s.start_ns for s in slices)


def test_vwap_schedule_profile_without_volume_in_window_raises() -> None:
    profile = VolumeProfile(10 * MINUTE, ((0, Decimal(1)),))
    spec = VwapSpec(start_ns=T0, end_ns=T0 + 30 * MINUTE, profile=profile)
    with pytest.raises(OrderValidationError, match="no volume between"):
        vwap_schedule(spec, Decimal(10), Decimal(1))


def test_volume_profile_unsorted_or_out_of_day_index_raises() -> None:
    with pytest.raises(OrderValidationError, match="rise within"):
        VolumeProfile(NS_PER_DAY // 2, ((1, Decimal(1)), (0, Decimal(1))))
    with pytest.raises(OrderValidationError, match="rise within"):
        VolumeProfile(NS_PER_DAY // 2, ((2, Decimal(1)),))


# Slice plans -----------------------------------------------------------------------------


def test_slice_plan_due_waits_for_send_time_and_reports_bucket_start() -> None:
    plan = SlicePlan(
        [Slice(0, 10, 4, Decimal(3)), Slice(10, 20, 15, Decimal(5)), Slice(20, 30, 20, Decimal(2))]
    )
    assert plan.due(-1) == Due(Decimal(0), 0, False)
    assert plan.due(3) == Due(Decimal(0), 0, False)
    assert plan.due(4) == Due(Decimal(3), 0, True)
    assert plan.due(12) == Due(Decimal(3), 10, False)  # waits for the send time, 15
    assert plan.due(15).target == 8
    assert plan.due(30).target == 10 and plan.due(30).fresh_from == 30
    assert plan.index_at(19) == 1 and plan.index_at(30) is None


def test_slice_plan_gap_between_slices_raises() -> None:
    with pytest.raises(OrderValidationError, match="contiguous"):
        SlicePlan([Slice(0, 10, 0, Decimal(1)), Slice(11, 20, 11, Decimal(1))])


# POV -------------------------------------------------------------------------------------


def test_pov_target_rounds_down_to_lot_and_caps_at_quantity() -> None:
    assert pov_target(Decimal("0.1"), Decimal(12345), Decimal(10**6), Decimal(10)) == 1230
    assert pov_target(Decimal("0.5"), Decimal(10**6), Decimal(100), Decimal(1)) == 100


def test_pov_child_quantity_waits_below_minimum_caps_at_maximum_sends_last_piece() -> None:
    spec = PovSpec(
        participation=Decimal("0.1"),
        start_ns=T0,
        min_child_quantity=Decimal(100),
        max_child_quantity=Decimal(500),
    )

    def size(target: int, committed: int, remaining: int) -> Decimal:
        return pov_child_quantity(
            spec,
            target=Decimal(target),
            committed=Decimal(committed),
            remaining=Decimal(remaining),
            lot_size=Decimal(1),
        )

    assert size(1_099, 1_000, 10_000) == 0  # 99 < the minimum: wait for more volume
    assert size(1_100, 1_000, 10_000) == 100
    assert size(9_000, 1_000, 10_000) == 500  # capped
    assert size(9_000, 1_000, 40) == 40  # the parent's last piece goes out below the minimum


def test_pov_spec_participation_out_of_range_raises() -> None:
    with pytest.raises(OrderValidationError, match="participation"):
        PovSpec(participation=Decimal(0), start_ns=T0)
    with pytest.raises(OrderValidationError, match="max_child_quantity"):
        PovSpec(
            participation=Decimal("0.1"),
            start_ns=T0,
            min_child_quantity=Decimal(10),
            max_child_quantity=Decimal(5),
        )


# Guard -----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    marketable=st.one_of(st.none(), st.decimals(min_value="0.001", max_value=1000, places=4)),
    guard=st.one_of(st.none(), st.decimals(min_value="0.01", max_value=1000, places=2)),
    side=st.sampled_from(list(OrderSide)),
)
def test_child_limit_price_never_worse_than_guard_and_on_tick(
    marketable: Decimal | None, guard: Decimal | None, side: OrderSide
) -> None:
    tick = Decimal("0.01")
    price = child_limit_price(side, marketable, guard, tick)
    if price is None:  # no guard, and no market price (or one that rounds to zero)
        assert guard is None
        assert marketable is None or marketable < tick
        return
    assert price % tick == 0
    if guard is not None:
        assert price <= guard if side is OrderSide.BUY else price >= guard
    if marketable is not None and price != guard:
        # The marketable price, put on the tick grid towards the market.
        assert abs(price - marketable) < tick
        assert price >= marketable if side is OrderSide.BUY else price <= marketable


def test_marketable_price_quote_bar_buys_at_ask_sells_at_bid() -> None:
    d = Decimal
    bar = QuoteBar(SPY, d(1), d(1), d(1), d("9.98"), d(1), d(1), d(1), d("10.02"), d(0), d(0), 0, 1)
    assert marketable_price(bar, OrderSide.BUY) == d("10.02")
    assert marketable_price(bar, OrderSide.SELL) == d("9.98")
    assert marketable_price(_trade_bar(0, "10.00", "5"), OrderSide.BUY) == d("10.00")


# Journal encoding ------------------------------------------------------------------------

_SPECS: list[AlgoSpec] = [
    TwapSpec(start_ns=T0, end_ns=T0 + MINUTE, slices=3, size_jitter=Decimal("0.25")),
    TwapSpec(start_ns=T0, end_ns=T0 + MINUTE, interval_ns=7_000_000_000, finish_aggressively=False),
    VwapSpec(
        start_ns=T0,
        end_ns=T0 + 3 * MINUTE,
        profile=VolumeProfile(MINUTE, ((840, Decimal("0.25")), (842, Decimal("0.750000000001")))),
        slices_per_bucket=3,
    ),
    PovSpec(participation=Decimal("0.075"), start_ns=T0),
    PovSpec(
        participation=Decimal(1),
        start_ns=T0,
        end_ns=T0 + 1,
        min_child_quantity=Decimal("0.5"),
        max_child_quantity=Decimal("2.50"),
        finish_aggressively=True,
    ),
    IcebergSpec(display_quantity=Decimal("100.0")),
    SorSpec(),
    SorSpec(
        venues=(VenueId("A"), VenueId("B-2")),
        cost_model=CostModel(
            impact_coefficient=Decimal("0.002"),
            volatility_per_ms=Decimal("1E-7"),
            reroute_cost=Decimal("0.0005"),
        ),
        max_attempts=7,
        policy=FailurePolicy.PENALISE,
    ),
]


@pytest.mark.parametrize("spec", _SPECS, ids=algo_name)
def test_encode_spec_round_trips_through_text(spec: AlgoSpec) -> None:
    name, params = encode_spec(spec)
    assert name == algo_name(spec)
    assert list(params) == sorted(params)
    assert all(isinstance(value, str) for value in params.values())
    assert decode_spec(name, params) == spec


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be in \\[1, 100\\], got 0"),
        ({"venues": (VenueId("A"), VenueId("A"))}, "each venue may be named once"),
        ({"venues": (VenueId("A;B"),)}, "without ';'"),
    ],
)
def test_sor_spec_invalid_field_raises_naming_the_value(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(OrderValidationError, match=message):
        SorSpec(**fields)  # type: ignore[arg-type]


def test_decode_spec_unknown_name_or_field_raises() -> None:
    name, params = encode_spec(_SPECS[0])
    with pytest.raises(ValueError, match="unknown execution algorithm 'SNIPER'"):
        decode_spec("SNIPER", params)
    with pytest.raises(ValueError, match=r"unknown TWAP parameters: \['colour'\]"):
        decode_spec(name, {**params, "colour": "red"})
    with pytest.raises(ValueError, match="lack 'end_ns'"):
        decode_spec(name, {k: v for k, v in params.items() if k != "end_ns"})


def test_plan_for_twap_and_vwap_totals_equal_parent_quantity() -> None:
    twap, _, vwap = _SPECS[0], _SPECS[1], _SPECS[2]
    assert isinstance(twap, TwapSpec) and isinstance(vwap, VwapSpec)
    assert plan_for(twap, Decimal(10), Decimal(1), "O-1").total == 10
    assert plan_for(vwap, Decimal("7.5"), Decimal("0.5"), "O-1").total == Decimal("7.5")
