"""Recorded TWS sequences, replayed over a socket into the real ib_async client and the adapter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState

from .recordings import load
from .session import ib_session, order, summary, wait_until

D = Decimal
pytestmark = pytest.mark.asyncio


async def test_market_order_partially_then_fully_filled_emits_fills_before_states() -> None:
    cid = load("market_order_partial_fill")["client_order_id"]
    async with ib_session("market_order_partial_fill") as s:
        state = await s.adapter.place_order(
            order(cid, "AAPL", OrderSide.BUY, OrderType.MARKET, "100")
        )
        assert state.status is OrderStatus.ACCEPTED
        assert state.venue_order_id == "1811237501"
        updates = await s.settle(5)
    assert [summary(u) for u in updates] == [
        ("state", "ACCEPTED", D(0)),
        ("fill", "0000e0d5.6787a1b2.01.01", D(40), D("185.27"), D("1.0")),
        ("state", "PARTIALLY_FILLED", D(40)),
        ("fill", "0000e0d5.6787a1b3.01.01", D(60), D("185.3"), D("0.3")),
        ("state", "FILLED", D(100)),
    ]
    last = updates[-1]
    assert isinstance(last, VenueOrderState)
    assert last.average_price == D("185.288")
    assert last.client_order_id == cid
    fill = updates[1]
    assert isinstance(fill, VenueFill)
    assert fill.client_order_id == cid
    assert fill.fee_currency == "USD"
    assert fill.instrument_id == "AAPL"
    assert fill.ts == 1_736_952_067_000_000_000  # 2025-01-15 09:41:07 New York


async def test_limit_order_cancel_is_confirmed_by_cancelled_state() -> None:
    cid = load("limit_order_cancelled")["client_order_id"]
    async with ib_session("limit_order_cancelled") as s:
        placed = await s.adapter.place_order(
            order(
                cid,
                "EURUSD",
                OrderSide.BUY,
                OrderType.LIMIT,
                "20000",
                price="1.025",
                tif=TimeInForce.GTC,
            )
        )
        assert placed.status is OrderStatus.ACCEPTED
        assert placed.price == D("1.025")
        cancelled = await s.adapter.cancel_order(ClientOrderId(cid), InstrumentId("EURUSD"))
        assert cancelled.status is OrderStatus.CANCELLED
        updates = await s.settle(3)
        sent = s.fake.requests("placeOrder")[0]
    assert [summary(u) for u in updates] == [
        ("state", "ACCEPTED", D(0)),
        ("state", "PENDING_CANCEL", D(0)),
        ("state", "CANCELLED", D(0)),
    ]
    # on the wire: the qualified EUR.USD CASH contract on IDEALPRO, LMT 1.025 GTC, and the
    # client order ID as orderRef
    assert (sent[2], sent[3], sent[4], sent[9]) == ("12087792", "EUR", "CASH", "IDEALPRO")
    assert (sent[16], sent[17], sent[18], sent[19], sent[21], sent[26]) == (
        "BUY",
        "20000",
        "LMT",
        "1.025",
        "GTC",
        cid,
    )


async def test_order_rejected_with_201_raises_definitive_and_emits_rejected() -> None:
    cid = load("rejected_201")["client_order_id"]
    async with ib_session("rejected_201") as s:
        with pytest.raises(VenueError) as refused:
            await s.adapter.place_order(
                order(cid, "AAPL", OrderSide.BUY, OrderType.LIMIT, "50000", price="185.27")
            )
        updates = await s.settle(1)
    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert "YOUR ORDER IS NOT ACCEPTED" in refused.value.message
    assert [summary(u) for u in updates] == [("state", "REJECTED", D(0))]
    rejected = updates[0]
    assert isinstance(rejected, VenueOrderState)
    assert rejected.reason is not None and "201" in rejected.reason


async def test_duplicate_ib_order_id_103_raises_definitive() -> None:
    cid = load("duplicate_order_id_103")["client_order_id"]
    async with ib_session("duplicate_order_id_103") as s:
        with pytest.raises(VenueError) as refused:
            await s.adapter.place_order(order(cid, "AAPL", OrderSide.BUY, OrderType.MARKET, "1"))
        updates = await s.settle(1)
    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert "103" in refused.value.message
    assert [summary(u) for u in updates] == [("state", "REJECTED", D(0))]


async def test_link_lost_1100_then_restored_1102_polls_executions_and_orders() -> None:
    cid = load("link_lost_1100_restored_1102")["client_order_id"]
    async with ib_session("link_lost_1100_restored_1102") as s:
        await s.adapter.place_order(
            order(cid, "AAPL", OrderSide.BUY, OrderType.LIMIT, "50", price="185.0")
        )
        await s.fake.reached("link-down")
        await wait_until(lambda: not s.adapter.connected)
        with pytest.raises(VenueError) as down:
            await s.adapter.fills_since(0)
        assert down.value.kind is VenueErrorKind.TRANSIENT
        s.fake.resume("link-down")
        updates = await s.settle(3)
        assert s.adapter.connected
        executions_request = s.fake.requests("reqExecutions")[0]
        queried = await s.adapter.query_order(
            InstrumentId("AAPL"), client_order_id=ClientOrderId(cid)
        )
    assert [summary(u) for u in updates] == [
        ("state", "ACCEPTED", D(0)),
        ("fill", "0000e0d5.6787a1c0.01.01", D(50), D("185.0"), D("1.0")),
        ("state", "FILLED", D(50)),
    ]
    fill = updates[1]
    assert isinstance(fill, VenueFill) and fill.liquidity.value == "MAKER"
    # polled from the session start (no execution seen before the gap), in UTC
    assert executions_request[5] == "20250115-14:30:00"
    assert queried is not None and queried.status is OrderStatus.FILLED


async def test_socket_drop_reconnects_with_backoff_and_polls_executions() -> None:
    cid = load("socket_dropped_reconnected")["client_order_id"]
    async with ib_session("socket_dropped_reconnected") as s:
        await s.adapter.place_order(
            order(
                cid,
                "XAUUSD",
                OrderSide.BUY,
                OrderType.LIMIT,
                "10",
                price="2650.0",
                tif=TimeInForce.GTC,
            )
        )
        updates = await s.settle(3)
        assert s.adapter.reconnects == 1
        assert s.fake.sessions == 2
    assert [summary(u) for u in updates] == [
        ("state", "ACCEPTED", D(0)),
        ("fill", "0000e0d5.6787a1d0.01.01", D(10), D("2650.0"), D("2.65")),
        ("state", "FILLED", D(10)),
    ]


async def test_execution_before_order_status_is_emitted_before_filled_state() -> None:
    cid = load("execution_before_status")["client_order_id"]
    async with ib_session("execution_before_status") as s:
        state = await s.adapter.place_order(
            order(cid, "AAPL", OrderSide.BUY, OrderType.LIMIT, "100", price="185.5")
        )
        updates = await s.settle(2)
    assert state.status is OrderStatus.FILLED
    assert [summary(u) for u in updates] == [
        ("fill", "0000e0d5.6787a1e0.01.01", D(100), D("185.5"), D("1.0")),
        ("state", "FILLED", D(100)),
    ]


async def test_late_commission_report_holds_fill_and_filled_state_until_it_arrives() -> None:
    cid = load("commission_late")["client_order_id"]
    async with ib_session("commission_late") as s:
        await s.adapter.place_order(order(cid, "ESZ5", OrderSide.BUY, OrderType.MARKET, "2"))
        await s.fake.reached("before-commission")
        await wait_until(lambda: s.adapter.stream.pending_fills == 1)
        before = [summary(u) for u in s.updates]
        s.fake.resume("before-commission")
        updates = await s.settle(3)
        sent = s.fake.requests("placeOrder")[0]
    assert before == [("state", "ACCEPTED", D(0))]
    assert [summary(u) for u in updates] == [
        ("state", "ACCEPTED", D(0)),
        ("fill", "0000f1a2.6787a1f0.01.01", D(2), D("6050.25"), D("4.5")),
        ("state", "FILLED", D(2)),
    ]
    assert (sent[3], sent[4], sent[5], sent[8], sent[9]) == ("ES", "FUT", "20251219", "50", "CME")


async def test_cancel_refused_10148_raises_definitive_restores_and_keeps_the_fill() -> None:
    cid = load("cancel_refused_10148")["client_order_id"]
    async with ib_session("cancel_refused_10148") as s:
        await s.adapter.place_order(
            order(cid, "AAPL", OrderSide.SELL, OrderType.LIMIT, "10", price="185.1")
        )
        with pytest.raises(VenueError) as refused:
            await s.adapter.cancel_order(ClientOrderId(cid), InstrumentId("AAPL"))
        updates = await s.settle(5)
    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert "10148" in refused.value.message
    assert [summary(u) for u in updates] == [
        ("state", "ACCEPTED", D(0)),
        ("state", "PENDING_CANCEL", D(0)),
        ("state", "ACCEPTED", D(0)),  # the refused cancel: ib_async's "Cancelled" is undone
        ("fill", "0000e0d5.6787a200.01.01", D(10), D("185.1"), D("1.0")),
        ("state", "FILLED", D(10)),
    ]
