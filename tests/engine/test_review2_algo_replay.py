"""Review: changed and expiring algo parents rebuild from the journal exactly.

A parent changed mid-run (quantity cut, guard moved: its children refitted) and a GTD
parent expiring are decided by the engine from its inputs; a journal replay, with or
without a snapshot, must rebuild the same state and go on with the same events.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderExpired, OrderModified
from alphintra.engine.replay import take_snapshot
from alphintra.execution.algorithms import PovSpec, TwapSpec
from engine.test_algo_orders import _algo_view, _rebuilt, _Runner, submit_algo
from helpers.csv_rows import SPY_TRADE, ts_ns
from helpers.sim_harness import SimHarness

MINUTE = 60 * 1_000_000_000
DAY = "2013-10-10"


def test_modified_and_expiring_algos_rebuilt_from_journal_continue_identically() -> None:
    start, end = ts_ns(f"{DAY}T14:00:00Z"), ts_ns(f"{DAY}T15:30:00Z")
    h = SimHarness("SPY", SPY_TRADE)
    h.begin(f"{DAY}T14:00:00Z")
    request = h.request(
        OrderSide.BUY,
        OrderType.LIMIT,
        "9000",
        price=Decimal("170.00"),
        time_in_force=TimeInForce.GTD,
        expire_ts=start + 50 * MINUTE,
    )
    twap = h.engine.submit_algo(request, TwapSpec(start_ns=start, end_ns=end, slices=18))
    h.dispatch()
    pov = submit_algo(
        h,
        OrderSide.SELL,
        "5000000",
        PovSpec(participation=Decimal("0.05"), start_ns=start, end_ns=end),
        guard=Decimal("160.00"),
    )
    h.feed_through(f"{DAY}T14:20:00Z")
    assert h.engine.modify(twap.client_order_id, quantity=Decimal(6000))
    assert h.engine.modify(pov.client_order_id, price=Decimal("169.00"))
    h.dispatch()
    h.feed_through(f"{DAY}T14:30:00Z")
    take_snapshot(h.engine, h.journal)
    h.feed_through(f"{DAY}T14:37:00Z")
    h.engine.flush(force=True)

    rebuilt = [_rebuilt(h, use_snapshot=False), _rebuilt(h, use_snapshot=True)]
    for runner in rebuilt:
        assert _algo_view(runner.engine) == _algo_view(h.engine)
    live = _Runner(h.engine, h.venue, h.clock)
    for bar in h.bars[h.cursor : h.cursor + 30]:
        for runner in (live, *rebuilt):
            runner.step(bar)
    assert any(type(e) is OrderExpired for e in live.events)
    for runner in rebuilt:
        assert runner.events == live.events
        assert _algo_view(runner.engine) == _algo_view(live.engine)
    assert (twap.status, twap.quantity) == (OrderStatus.EXPIRED, Decimal(6000))
    assert 0 < twap.filled_quantity < 6000
    assert len([e for e in h.events if type(e) is OrderModified]) >= 2
