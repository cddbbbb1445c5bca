"""Execution quality is stored in ``execution_quality`` by the journal's commits.

Quotes: 100.00 / 100.10 at T0 (mid 100.05), 100.20 / 100.30 at T0 + 5 s (mid 100.25),
100.40 / 100.50 at T0 + 20 s (mid 100.45). A market buy of 2 at T0 fills at the ask
100.10; a market sell of 1 at T0 + 20 s fills at the bid 100.40. Both cost 10 bps
of fees. Slippage against the arrival mid is a cost for both:
(100.10 - 100.05) / 100.05 and (100.45 - 100.40) / 100.45, in bps.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import sqlalchemy as sa

from alphintra.domain.enums import OrderSide
from alphintra.execution.quality import RATIO
from alphintra.reports.queries import ReportStore
from alphintra.store.directory import engine_url
from reports.desk import HORIZON_NS, SEC, T0, Desk

D = Decimal


def _bps(numerator: str, denominator: str) -> Decimal:
    return RATIO.divide(RATIO.multiply(D(numerator), D(10_000)), D(denominator))


async def _buy_then_sell(desk: Desk) -> None:
    await desk.quote(T0, "100.00", "100.10")
    await desk.market(OrderSide.BUY, "2")
    await desk.quote(T0 + 5 * SEC, "100.20", "100.30")
    await desk.quote(T0 + 20 * SEC, "100.40", "100.50")
    await desk.market(OrderSide.SELL, "1")


def test_market_orders_store_order_and_fill_rows_with_buy_and_sell_signs(
    database_url: str,
) -> None:
    desk = Desk(database_url)
    try:
        asyncio.run(_buy_then_sell(desk))
    finally:
        desk.close()
    store = ReportStore.open(database_url)
    try:
        buy, sell = (r.quality for r in store.orders())
    finally:
        store.close()
    assert (buy.side, buy.arrival_mid, buy.average_price) == (
        OrderSide.BUY,
        D("100.05"),
        D("100.10"),
    )
    assert buy.slippage_bps == _bps("0.05", "100.05")
    assert buy.fees == D("0.2002")  # 10 bps of 200.20
    assert buy.fill_rate == 1 and buy.execution_time_ns == 0
    assert buy.spread_cost == D("0.10")  # 2 x (100.10 - 100.05)
    # 10 s after the fill the mid is 100.25 (the quote at T0 + 5 s): the buy pushed it up.
    assert buy.market_impact_bps == _bps("0.20", "100.05")
    assert sell.side is OrderSide.SELL and sell.slippage_bps == _bps("0.05", "100.45")
    assert sell.spread_cost == D("0.05") and sell.price_improvement_bps == 0
    assert sell.market_impact_bps is None  # no quote 10 s after the sell yet
    (fill,) = sell.fills
    assert (fill.price, fill.quantity, fill.venue) == (D("100.40"), D(1), "SIM")


def test_impact_is_measured_at_a_later_commit_once_quotes_reach_the_horizon(
    database_url: str,
) -> None:
    async def scenario(desk: Desk) -> None:
        await _buy_then_sell(desk)
        await desk.quote(T0 + 20 * SEC + HORIZON_NS, "100.00", "100.10")
        await desk.market(OrderSide.SELL, "1")  # its commit re-measures the watched sell

    desk = Desk(database_url)
    try:
        asyncio.run(scenario(desk))
    finally:
        desk.close()
    engine = sa.create_engine(engine_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT side, market_impact_bps FROM execution_quality"
                    " WHERE kind = 'ORDER' ORDER BY ts_ns"
                )
            ).all()
    finally:
        engine.dispose()
    # After the first sell the mid fell from 100.45 to 100.05: the move a seller's impact
    # makes, counted as a cost (positive), as the buy's rise was.
    assert [r[0] for r in rows] == ["BUY", "SELL", "SELL"]
    assert D(str(rows[1][1])) == _bps("0.40", "100.45")
    assert rows[2][1] is None


def test_twap_parent_is_measured_on_its_childrens_fills_and_children_are_marked(
    database_url: str,
) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.quote(T0, "100.00", "100.10")
        await desk.twap(OrderSide.BUY, "2", seconds=10, slices=2)
        for second in range(1, 12):
            await desk.quote(T0 + second * SEC, "100.00", "100.20")

    desk = Desk(database_url)
    try:
        asyncio.run(scenario(desk))
    finally:
        desk.close()
    store = ReportStore.open(database_url)
    try:
        orders = store.orders()
    finally:
        store.close()
    parents = [o for o in orders if not o.is_algo_child]
    children = [o for o in orders if o.is_algo_child]
    (parent,) = parents
    assert parent.algo == "TWAP" and len(children) == 2
    assert [f.price for f in parent.quality.fills] == [D("100.10"), D("100.20")]
    assert parent.quality.execution_time_ns == 5 * SEC
    assert parent.quality.slippage_bps == _bps("0.10", "100.05")  # average 100.15
    assert {c.parent_id for c in children} == {parent.quality.client_order_id}
    # The metrics listener saw each fill once and the parent's completion once.
    completions = [o.quality.client_order_id for o, _, done in desk.observed if done]
    assert completions.count(parent.quality.client_order_id) == 1
    parent_fills = [f for o, fills, _ in desk.observed if o is not None for f in fills]
    assert len(parent_fills) == 4  # two for the children, the same two for the parent
