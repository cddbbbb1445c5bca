"""Review finding: the working slice of a closed execution parent counts again.

An emulated iceberg's (or an algo's) leaves stand for its working slice, which the
books leave out. Once the parent is closed (cancelled, expired) its leaves count no
more, but its slice still works at the venue until the venue confirms the cancel (or
for good, if the venue refuses it): it must count then, like any order pending cancel.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import CancelAtVenue, OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.market import QuoteTick
from alphintra.risk.limits import ExposureLimits, RiskLimits
from risk.eurusd_flow import Bench, bench_engine

D = Decimal
T0 = 1_700_000_000 * 10**9


def _start(limits: RiskLimits, resting_sells: int = 0) -> Bench:
    bench = bench_engine(limits, D(10_000_000), T0)
    engine, venue, clock, eurusd = bench
    pip = D("0.00001")
    tick = QuoteTick(eurusd.id, D("1.1") - pip, D("1.1") + pip, D(10**6), D(10**6), clock.now_ns())
    engine.on_market_data(tick)
    venue.on_market_data(tick)
    for k in range(resting_sells):  # far above the market: they rest
        engine.submit(
            OrderRequest(
                instrument_id=eurusd.id,
                side=OrderSide.SELL,
                order_type=OrderType.LIMIT,
                quantity=D(1_000),
                price=D("1.2") + k * pip,
            )
        )
    parent = engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.ICEBERG,
            quantity=D(50_000),
            display_quantity=D(10_000),
            price=D("1.05"),  # far below the market: the slice rests
        )
    )
    for command in engine.flush():
        for report in venue.handle(command):
            engine.on_venue_event(report)
    slices = [o for o in engine.state.open_orders.values() if o.parent_id is not None]
    assert len(slices) == 1 and slices[0].is_open  # accepted by the venue
    engine.cancel(parent.client_order_id)
    assert parent.status is OrderStatus.CANCELLED
    assert slices[0].status is OrderStatus.PENDING_CANCEL  # the venue has not answered
    assert [type(c) for c in engine.flush()] == [CancelAtVenue]
    return bench


def _buy(bench: Bench, quantity: int) -> str | None:
    engine, _, _, eurusd = bench
    order = engine.submit(
        OrderRequest(
            instrument_id=eurusd.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D(quantity),
            price=D("1.05"),
        )
    )
    denial = engine.state.denials.get(order.client_order_id)
    return None if denial is None else denial.reason_code


def test_slice_of_a_cancelled_parent_counts_toward_the_position_limit() -> None:
    bench = _start(RiskLimits(max_position_quantity=D(100_000)))
    # The slice (10,000) can still fill: 10,000 + 100,000 is over the limit.
    assert _buy(bench, 100_000) == "MAX_POSITION_QUANTITY"
    assert _buy(bench, 90_000) is None


def test_slice_of_a_cancelled_parent_counts_in_the_kept_books() -> None:
    """With many working orders the checks read `WorkingBooks` (kept from the events),
    not a scan: the parent's close must bring its slice into them too."""
    bench = _start(RiskLimits(max_position_quantity=D(100_000)), resting_sells=20)
    books = bench[0]._books  # the engine's kept books: what is tested here
    assert books is not None and len(bench[0].state.open_orders) >= books.track_from
    assert _buy(bench, 100_000) == "MAX_POSITION_QUANTITY"
    assert _buy(bench, 90_000) is None


def test_slice_of_a_cancelled_parent_counts_toward_the_portfolio_limits() -> None:
    # 10,000 + 100,000 EURUSD at 1.1 is 121,000 USD of gross exposure, over 115,000.
    bench = _start(RiskLimits(exposure=ExposureLimits(max_gross_exposure=D(115_000))))
    assert _buy(bench, 100_000) == "MAX_GROSS_EXPOSURE"
    assert _buy(bench, 90_000) is None
