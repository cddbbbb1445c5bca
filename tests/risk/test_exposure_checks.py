"""Position and portfolio checks: thresholds, working orders, and missing inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.account import AccountState
from alphintra.domain.enums import AssetClass, OrderSide, OrderType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import ClientOrderId
from alphintra.domain.values import Currency, Price, Quantity
from alphintra.portfolio.fx import FxRates
from alphintra.risk.context import RiskContext
from alphintra.risk.correlation import view_from_clusters
from alphintra.risk.limits import (
    ConcentrationLimits,
    CorrelationLimits,
    ExposureLimits,
    RiskLimits,
    ScopeLimits,
)
from alphintra.risk.pretrade import check_order
from risk.builders import (
    ACCOUNT,
    T0,
    USDJPY,
    D,
    cancel,
    deny,
    equity,
    fill,
    hold,
    make_state,
    order,
    release,
    work,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
AAA = equity("AAA", sector="TECH", venue="XNAS")
BBB = equity("BBB", sector="TECH", venue="XNYS")
CCC = equity("CCC", sector="ENERGY", venue="XNYS")
GOLD = equity("GOLD", asset_class=AssetClass.COMMODITY, multiplier=D(10))
ALL = {i.id: i for i in (AAA, BBB, CCC, GOLD)}
MARKS = {AAA.id: D(100), BBB.id: D(50), CCC.id: D(20), GOLD.id: D(2000)}


def code(denial: object) -> str | None:
    return getattr(denial, "code", None)


def context(
    state: AccountState, equity_value: Decimal | None = None, **extra: object
) -> RiskContext:
    state.marks.update(MARKS)
    return RiskContext(
        now_ns=T0,
        prices=state.marks,
        instruments=ALL.get,
        equity=equity_value,
        **extra,  # type: ignore[arg-type]
    )


# Position quantity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"), [(2, None), (3, None), (4, "MAX_POSITION_QUANTITY")]
)
def test_position_quantity_counts_position_and_working_buys(
    quantity: int, expected: str | None
) -> None:
    state = make_state([AAA])
    hold(state, AAA, "4", "100")
    work(state, order(AAA, BUY, 3, price="99"))
    limits = RiskLimits(max_position_quantity=D(10))
    denial = check_order(order(AAA, BUY, quantity, price="99"), AAA, state, limits, context(state))
    assert code(denial) == expected


def test_position_quantity_burst_of_working_orders_cannot_overshoot() -> None:
    state = make_state([AAA])
    limits = RiskLimits(max_position_quantity=D(10))
    accepted = 0
    for _ in range(5):
        init = order(AAA, BUY, 3, price="90")
        state.apply(init)
        if check_order(init, AAA, state, limits, context(state)) is None:
            accepted += 1
            release(state, init)
        else:
            deny(state, init)
    assert accepted == 3  # 9 working; a fourth would reach 12


@pytest.mark.parametrize(
    ("quantity", "expected"), [(9, None), (10, None), (11, "MAX_POSITION_QUANTITY")]
)
def test_position_quantity_short_side_through_long_position(
    quantity: int, expected: str | None
) -> None:
    # Long 10 with a plain sell of 10 working: a sell of q could reach -q.
    state = make_state([AAA])
    hold(state, AAA, "10", "100")
    work(state, order(AAA, SELL, 10, price="101"))
    limits = RiskLimits(max_position_quantity=D(10))
    denial = check_order(order(AAA, SELL, quantity, price="101"), AAA, state, limits)
    assert code(denial) == expected


def test_position_quantity_reduce_only_working_order_counts_up_to_position() -> None:
    # Long 10, reduce-only sell 10 working: it may close the long first, so a plain
    # sell of 10 could end at -10; the reduce-only part never goes below zero itself.
    state = make_state([AAA])
    hold(state, AAA, "10", "100")
    work(state, order(AAA, SELL, 10, trigger="90", reduce_only=True))
    work(state, order(AAA, SELL, 5, trigger="80", reduce_only=True))
    assert check_order(order(AAA, SELL, 10, price="101"), AAA, state, limit(10)) is None
    assert code(check_order(order(AAA, SELL, 10, price="101"), AAA, state, limit(9))) == (
        "MAX_POSITION_QUANTITY"
    )


def limit(quantity: int) -> RiskLimits:
    return RiskLimits(max_position_quantity=D(quantity))


def test_position_quantity_oco_members_count_once() -> None:
    state = make_state([AAA])
    work(state, order(AAA, BUY, 6, price="90", oco_list="L1"))
    work(state, order(AAA, BUY, 6, price="80", oco_list="L1"))
    assert check_order(order(AAA, BUY, 4, price="90"), AAA, state, limit(10)) is None
    assert code(check_order(order(AAA, BUY, 5, price="90"), AAA, state, limit(10))) == (
        "MAX_POSITION_QUANTITY"
    )
    # A third member larger than the others adds only the difference.
    member = order(AAA, BUY, 10, price="70", oco_list="L1")
    assert check_order(member, AAA, state, limit(10)) is None


def test_position_quantity_filled_and_cancelled_orders_release_capacity() -> None:
    state = make_state([AAA])
    working = work(state, order(AAA, BUY, 10, price="90"))
    assert code(check_order(order(AAA, BUY, 1, price="90"), AAA, state, limit(10))) == (
        "MAX_POSITION_QUANTITY"
    )
    fill(state, working, D(4), D(90))
    assert code(check_order(order(AAA, BUY, 1, price="90"), AAA, state, limit(10))) == (
        "MAX_POSITION_QUANTITY"
    )
    cancel(state, working)
    assert check_order(order(AAA, BUY, 6, price="90"), AAA, state, limit(10)) is None


def test_position_quantity_reducing_order_allowed_while_over_limit() -> None:
    state = make_state([AAA])
    hold(state, AAA, "50", "100")
    assert check_order(order(AAA, SELL, 10, price="100"), AAA, state, limit(20)) is None
    assert code(check_order(order(AAA, BUY, 1, price="100"), AAA, state, limit(20))) == (
        "MAX_POSITION_QUANTITY"
    )


def test_position_quantity_order_already_recorded_not_counted_twice() -> None:
    state = make_state([AAA])
    init = order(AAA, BUY, 10, price="90")
    state.apply(init)
    assert check_order(init, AAA, state, limit(10)) is None


def test_position_quantity_iceberg_slice_counted_through_parent() -> None:
    state = make_state([AAA])
    parent = OrderInitialized(
        account_id=ACCOUNT,
        client_order_id=ClientOrderId("ICE"),
        ts_event=T0,
        ts_recv=T0,
        instrument_id=AAA.id,
        side=BUY,
        order_type=OrderType.ICEBERG,
        quantity=Quantity(D(10)),
        price=Price(D(100)),
        display_quantity=Quantity(D(2)),
        emulated=True,
    )
    state.apply(parent)
    assert check_order(parent, AAA, state, limit(10), D(100)) is None
    release(state, parent)
    slice_ = order(AAA, BUY, 2, price="100", parent_id="ICE")
    state.apply(slice_)
    assert check_order(slice_, AAA, state, limit(10), D(100)) is None
    assert code(check_order(order(AAA, BUY, 1, price="100"), AAA, state, limit(10))) == (
        "MAX_POSITION_QUANTITY"
    )


# Position notional ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"), [(4, None), (5, None), (6, "MAX_POSITION_NOTIONAL")]
)
def test_position_notional_at_mark_with_multiplier(quantity: int, expected: str | None) -> None:
    state = make_state([GOLD])
    hold(state, GOLD, "5", "1900")
    limits = RiskLimits(max_position_notional=D(200_000))
    denial = check_order(
        order(GOLD, BUY, quantity, price="1990"), GOLD, state, limits, context(state)
    )
    assert code(denial) == expected


def test_position_notional_without_mark_uses_order_price() -> None:
    state = make_state([AAA])
    limits = RiskLimits(max_position_notional=D(1000))
    assert check_order(order(AAA, BUY, 10, price="100"), AAA, state, limits, None) is None
    denial = check_order(order(AAA, BUY, 10, price="100.01"), AAA, state, limits, None)
    assert code(denial) == "MAX_POSITION_NOTIONAL"


def test_position_notional_market_order_without_any_price_denied() -> None:
    state = make_state([AAA])
    limits = RiskLimits(max_position_notional=D(1000))
    denial = check_order(order(AAA, BUY, 1), AAA, state, limits, None)
    assert code(denial) == "PRICE_UNAVAILABLE"


def test_position_limits_per_asset_class_scope() -> None:
    state = make_state([GOLD, AAA])
    limits = RiskLimits(
        asset_classes={AssetClass.COMMODITY: ScopeLimits(max_position_quantity=D(3))}
    )
    assert code(check_order(order(GOLD, BUY, 4, price="2000"), GOLD, state, limits)) == (
        "MAX_POSITION_QUANTITY"
    )
    assert check_order(order(AAA, BUY, 400, price="100"), AAA, state, limits) is None


# Gross, net, leverage -------------------------------------------------------------------


def _book(state: AccountState) -> None:
    hold(state, AAA, "100", "100")  # 10,000
    hold(state, BBB, "-100", "50")  # -5,000
    work(state, order(CCC, BUY, 100, price="20"))  # working 2,000


@pytest.mark.parametrize(
    ("quantity", "expected"), [(149, None), (150, None), (151, "MAX_GROSS_EXPOSURE")]
)
def test_gross_exposure_counts_longs_shorts_and_working(
    quantity: int, expected: str | None
) -> None:
    state = make_state([AAA, BBB, CCC])
    _book(state)
    limits = RiskLimits(exposure=ExposureLimits(max_gross_exposure=D(20_000)))
    # 10,000 + 5,000 + 2,000 + 20 × q  <= 20,000  <=>  q <= 150
    denial = check_order(order(CCC, BUY, quantity, price="20"), CCC, state, limits, context(state))
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(150, None), (151, "MAX_NET_EXPOSURE")])
def test_net_exposure_long_side_assumes_all_buys_fill(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, BBB, CCC])
    _book(state)
    limits = RiskLimits(exposure=ExposureLimits(max_net_exposure=D(10_000)))
    # 10,000 - 5,000 + 2,000 + 20 × q <= 10,000  <=>  q <= 150
    denial = check_order(order(CCC, BUY, quantity, price="20"), CCC, state, limits, context(state))
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(300, None), (301, "MAX_NET_EXPOSURE")])
def test_net_exposure_short_side_assumes_no_buys_fill(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, BBB, CCC])
    _book(state)
    limits = RiskLimits(exposure=ExposureLimits(max_net_exposure=D(10_000)))
    # 10,000 - 5,000 - 50 × q >= -10,000  <=>  q <= 300 (the working CCC buy may not fill)
    denial = check_order(order(BBB, SELL, quantity, price="50"), BBB, state, limits, context(state))
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(650, None), (651, "MAX_LEVERAGE")])
def test_leverage_gross_over_equity(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, BBB, CCC])
    _book(state)
    limits = RiskLimits(exposure=ExposureLimits(max_leverage=D(2)))
    # 17,000 + 20 × q <= 2 × 15,000  <=>  q <= 650
    ctx = context(state, D(15_000))
    denial = check_order(order(CCC, BUY, quantity, price="20"), CCC, state, limits, ctx)
    assert code(denial) == expected


def test_leverage_non_positive_equity_denies_growth_allows_reduction() -> None:
    state = make_state([AAA])
    hold(state, AAA, "10", "100")
    limits = RiskLimits(exposure=ExposureLimits(max_leverage=D(5)))
    ctx = context(state, D(0))
    assert code(check_order(order(AAA, BUY, 1, price="100"), AAA, state, limits, ctx)) == (
        "MAX_LEVERAGE"
    )
    assert check_order(order(AAA, SELL, 10, price="100"), AAA, state, limits, ctx) is None


def test_leverage_without_equity_denied_unavailable() -> None:
    state = make_state([AAA])
    limits = RiskLimits(exposure=ExposureLimits(max_leverage=D(5)))
    denial = check_order(order(AAA, BUY, 1, price="100"), AAA, state, limits, context(state))
    assert code(denial) == "EQUITY_UNAVAILABLE"


def test_gross_exposure_foreign_quote_needs_fx_rate() -> None:
    state = make_state([USDJPY, AAA])
    state.marks[USDJPY.id] = D("150.000")
    hold(state, USDJPY, "1000", "150.000")
    limits = RiskLimits(exposure=ExposureLimits(max_gross_exposure=D(10_000)))
    no_fx = RiskContext(now_ns=T0, prices=state.marks, instruments={USDJPY.id: USDJPY}.get)
    denial = check_order(order(AAA, BUY, 1, price="100"), AAA, state, limits, no_fx)
    assert code(denial) == "FX_RATE_UNAVAILABLE"
    rates = FxRates()
    rates.update(Currency("USD"), Currency("JPY"), D(150))
    with_fx = RiskContext(
        now_ns=T0, prices=state.marks, instruments={USDJPY.id: USDJPY}.get, fx=rates.convert
    )
    # USDJPY: 1000 × 150 JPY = 1,000 USD; AAA: 90 × 100 = 9,000 → exactly 10,000.
    assert check_order(order(AAA, BUY, 90, price="100"), AAA, state, limits, with_fx) is None
    denial = check_order(order(AAA, BUY, 91, price="100"), AAA, state, limits, with_fx)
    assert code(denial) == "MAX_GROSS_EXPOSURE"


def test_gross_exposure_unknown_instrument_uses_account_contract_data() -> None:
    state = make_state([AAA, BBB])
    hold(state, BBB, "10", "50")
    limits = RiskLimits(exposure=ExposureLimits(max_gross_exposure=D(1500)))
    ctx = RiskContext(now_ns=T0, prices={**MARKS})
    assert check_order(order(AAA, BUY, 10, price="100"), AAA, state, limits, ctx) is None
    assert code(check_order(order(AAA, BUY, 11, price="100"), AAA, state, limits, ctx)) == (
        "MAX_GROSS_EXPOSURE"
    )


# Concentration --------------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "expected"), [(25, None), (26, "CONCENTRATION_INSTRUMENT")])
def test_concentration_instrument_fraction_of_equity(quantity: int, expected: str | None) -> None:
    state = make_state([AAA])
    limits = RiskLimits(concentration=ConcentrationLimits(max_per_instrument=D("0.25")))
    ctx = context(state, D(10_000))
    denial = check_order(order(AAA, BUY, quantity, price="100"), AAA, state, limits, ctx)
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(100, None), (101, "CONCENTRATION_SECTOR")])
def test_concentration_sector_sums_sector_members(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, BBB, CCC])
    hold(state, AAA, "100", "100")  # TECH 10,000
    hold(state, CCC, "500", "20")  # ENERGY 10,000
    limits = RiskLimits(concentration=ConcentrationLimits(max_per_sector=D("0.3")))
    ctx = context(state, D(50_000))
    # TECH: 10,000 + 50 × q <= 15,000  <=>  q <= 100
    denial = check_order(order(BBB, SELL, quantity, price="50"), BBB, state, limits, ctx)
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(5, None), (6, "CONCENTRATION_ASSET_CLASS")])
def test_concentration_asset_class(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, GOLD])
    hold(state, AAA, "100", "100")
    limits = RiskLimits(concentration=ConcentrationLimits(max_per_asset_class=D("0.1")))
    ctx = context(state, D(1_000_000))
    # COMMODITY: 2000 × 10 × q <= 100,000  <=>  q <= 5
    denial = check_order(order(GOLD, BUY, quantity, price="2000"), GOLD, state, limits, ctx)
    assert code(denial) == expected


@pytest.mark.parametrize(("quantity", "expected"), [(100, None), (101, "CONCENTRATION_VENUE")])
def test_concentration_venue(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, BBB, CCC])
    hold(state, BBB, "100", "50")  # XNYS 5,000
    hold(state, AAA, "100", "100")  # XNAS 10,000
    limits = RiskLimits(concentration=ConcentrationLimits(max_per_venue=D("0.2")))
    ctx = context(state, D(35_000))
    # XNYS: 5,000 + 20 × q <= 7,000  <=>  q <= 100
    denial = check_order(order(CCC, BUY, quantity, price="20"), CCC, state, limits, ctx)
    assert code(denial) == expected


def test_concentration_group_member_unknown_denied_unavailable() -> None:
    stranger = equity("ZZZ", sector="TECH")
    state = make_state([AAA, stranger])
    hold(state, stranger, "1", "10")
    limits = RiskLimits(concentration=ConcentrationLimits(max_per_sector=D("0.5")))
    state.marks[stranger.id] = D(10)
    ctx = context(state, D(10_000))
    denial = check_order(order(AAA, BUY, 1, price="100"), AAA, state, limits, ctx)
    assert code(denial) == "INSTRUMENT_UNAVAILABLE"


# Correlated clusters --------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "expected"), [(100, None), (101, "CORRELATION_CLUSTER")])
def test_correlation_cluster_exposure_cap(quantity: int, expected: str | None) -> None:
    state = make_state([AAA, BBB, CCC])
    hold(state, AAA, "100", "100")  # 10,000 in the cluster
    hold(state, CCC, "1000", "20")  # outside the cluster
    view = view_from_clusters([[AAA.id, BBB.id]], threshold=0.8)
    limits = RiskLimits(correlation=CorrelationLimits(max_cluster_exposure=D(15_000)))
    ctx = context(state, correlation=view)
    denial = check_order(order(BBB, BUY, quantity, price="50"), BBB, state, limits, ctx)
    assert code(denial) == expected
    assert check_order(order(CCC, BUY, 10_000, price="20"), CCC, state, limits, ctx) is None


def test_correlation_cluster_fraction_of_equity() -> None:
    state = make_state([AAA, BBB])
    view = view_from_clusters([[AAA.id, BBB.id]])
    limits = RiskLimits(correlation=CorrelationLimits(max_cluster_fraction=D("0.5")))
    ctx = context(state, D(10_000), correlation=view)
    assert check_order(order(AAA, BUY, 50, price="100"), AAA, state, limits, ctx) is None
    denial = check_order(order(AAA, BUY, 51, price="100"), AAA, state, limits, ctx)
    assert code(denial) == "CORRELATION_CLUSTER"


def test_correlation_without_view_or_outside_cluster_allowed() -> None:
    state = make_state([AAA, BBB, CCC])
    limits = RiskLimits(correlation=CorrelationLimits(max_cluster_exposure=D(1)))
    assert check_order(order(AAA, BUY, 50, price="100"), AAA, state, limits, context(state)) is (
        None
    )
    ctx = context(state, correlation=view_from_clusters([[AAA.id, BBB.id]]))
    assert check_order(order(CCC, BUY, 50, price="20"), CCC, state, limits, ctx) is None
