"""IB: an order rebuilt from executions alone must not read FILLED when it was cut short.

When IB lists an order nowhere (not in this session's trades, which ib_async clears on a
reconnect, nor open, nor completed orders), ``query_order`` rebuilds it from its
executions. It reported FILLED with the executed shares as the quantity, even for an
order the adapter tracked as 100 shares with 40 filled: filled in part, then cancelled.
A FILLED status yields no terminal engine event, so the engine's order stayed open for
good. Now, with the quantity known, it is CANCELLED with the 40 shares filled.

After a restart the adapter does not know the quantity (executions do not carry it) and
reports FILLED with the executed shares (ib/test_adapter_requests.py, rebuilt_as_filled);
the execution client, which knows the engine's quantity, closes the order as CANCELLED
with what was filled (any venue reporting FILLED short of the quantity is treated alike).
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import cast

import pytest

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderInitialized,
    OrderModified,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.values import Currency, Quantity
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.execution import ExecutionClient, ExecutionPolicy
from alphintra.store.memory import MemoryJournal
from alphintra.venues.adapter import VenueAdapter, VenueFill, VenueOrderState
from alphintra.venues.ib import IbAdapter
from alphintra.venues.ib.adapter import IB_CAPABILITIES

from .ib import tws_messages as m
from .ib.fake_tws import FakeTws
from .ib.recordings import ORDER
from .ib.session import (
    fake_config,
    ib_session,
    order,
    recorded_day_clock,
    registry,
    wait_until,
)

D = Decimal
pytestmark = pytest.mark.asyncio

AAPL = InstrumentId("AAPL")
PERM = 1_811_240_077
EXEC_ID = "0000e0d5.6787c1b9.01.01"


def _execution(cid: str, req_id: str = "-1", order_id: str = ORDER) -> list[str]:
    return m.exec_details(
        m.AAPL,
        order_id=order_id,
        exec_id=EXEC_ID,
        time="20250115 09:41:07 America/New_York",
        side="BOT",
        shares="40",
        price="185.00",
        perm_id=PERM,
        cum_qty="40",
        avg_price="185.00",
        order_ref=cid,
        req_id=req_id,
    )


def _past_executions(fake: FakeTws, cid: str) -> None:
    """IB lists no order for ``cid``, only its execution of 40 (of 100) shares."""
    fake.executions = [
        (_execution(cid, "$REQ_ID", "0"), m.commission_report(EXEC_ID, "1.0", "USD")),
    ]


def _engine() -> TradingEngine:
    return TradingEngine(
        account_id=AccountId("IB-REVIEW"),
        registry=registry(),
        journal=MemoryJournal(),
        clock=LiveClock(),
        venues={VenueId("IB"): IB_CAPABILITIES},
        default_venue=VenueId("IB"),
        limits=RiskLimits(enforce_min_notional=False),
    )


REQUEST = OrderRequest(
    instrument_id=AAPL,
    side=OrderSide.BUY,
    order_type=OrderType.LIMIT,
    quantity=D(100),
    price=D("185.00"),
    time_in_force=TimeInForce.DAY,
)


def _partly_filled_then_gone(fake: FakeTws, cid: str) -> None:
    """The order rests, 40 of 100 shares fill, then the link drops; after the reconnect
    IB lists the order nowhere (its rest was cancelled meanwhile), only the execution."""
    opened = m.open_order(
        ORDER, m.AAPL, action="BUY", quantity="100", order_type="LMT", status="Submitted",
        perm_id=PERM, order_ref=cid, lmt_price="185.00",
    )  # fmt: skip
    _past_executions(fake, cid)
    fake.play(
        [
            {"expect": "placeOrder"},
            {"send": opened},
            {"send": m.order_status(ORDER, "Submitted", remaining="100", perm_id=PERM)},
            {"send": _execution(cid)},
            {"send": m.commission_report(EXEC_ID, "1.0", "USD")},
            {"mark": "filled"},
            {"drop": True},
        ]
    )


async def test_query_order_of_a_tracked_order_cut_short_is_cancelled() -> None:
    fake = FakeTws()
    _partly_filled_then_gone(fake, "O-PART-1")
    async with ib_session(fake=fake) as s:
        await s.adapter.place_order(
            order("O-PART-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, "100", price="185.00")
        )
        await fake.reached("filled")
        await wait_until(lambda: any(isinstance(u, VenueFill) for u in s.updates))
        fake.resume("filled")
        await wait_until(lambda: s.adapter.reconnects >= 1)
        state = await s.adapter.query_order(AAPL, client_order_id=ClientOrderId("O-PART-1"))
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert (state.quantity, state.filled_quantity) == (D(100), D(40))
    assert state.average_price == D("185.00")


async def test_engine_closes_a_partly_filled_order_ib_no_longer_lists_after_a_reconnect() -> None:
    engine = _engine()
    fake = FakeTws()
    cid = ClientOrderId("O-1")  # the engine's first client order ID
    _partly_filled_then_gone(fake, cid)
    adapter = IbAdapter(fake_config(await fake.start()), registry(), clock=recorded_day_clock())
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    try:
        await adapter.connect()
        await adapter.subscribe_order_updates(client.on_update)
        placed = await client.run_engine(partial(engine.submit, REQUEST))
        assert placed.client_order_id == cid
        await fake.reached("filled")
        await wait_until(lambda: engine.state.orders[cid].filled_quantity == D(40))
        fake.resume("filled")
        await wait_until(lambda: adapter.reconnects >= 1)
        await client.resolve(cid, AAPL)  # as reconciliation does: IB lists it nowhere
    finally:
        await adapter.disconnect()
        await fake.stop()
    booked = engine.state.orders[cid]
    assert booked.status is OrderStatus.CANCELLED
    assert booked.filled_quantity == D(40)
    assert engine.state.position_quantity(AAPL) == D(40)


async def test_engine_closes_a_partly_filled_order_ib_no_longer_lists_after_a_restart() -> None:
    engine = _engine()
    cid = ClientOrderId("O-1")
    first = FakeTws()
    _partly_filled_then_gone(first, cid)
    adapter = IbAdapter(fake_config(await first.start()), registry(), clock=recorded_day_clock())
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    try:
        await adapter.connect()
        await adapter.subscribe_order_updates(client.on_update)
        await client.run_engine(partial(engine.submit, REQUEST))
        await first.reached("filled")
        await wait_until(lambda: engine.state.orders[cid].filled_quantity == D(40))
    finally:
        await adapter.disconnect()
        await first.stop()

    # A new process (a new adapter, nothing tracked); IB lists only the execution.
    second = FakeTws()
    _past_executions(second, cid)
    adapter = IbAdapter(fake_config(await second.start()), registry(), clock=recorded_day_clock())
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    try:
        await adapter.connect()
        await client.resolve(cid, AAPL)
    finally:
        await adapter.disconnect()
        await second.stop()
    booked = engine.state.orders[cid]
    assert booked.status is OrderStatus.CANCELLED
    assert booked.filled_quantity == D(40)
    assert engine.state.position_quantity(AAPL) == D(40)


def _state(cid: ClientOrderId, status: OrderStatus, quantity: str, filled: str) -> VenueOrderState:
    return VenueOrderState(
        client_order_id=cid,
        venue_order_id=VenueOrderId("1"),
        instrument_id=AAPL,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        status=status,
        quantity=D(quantity),
        filled_quantity=D(filled),
        price=D("185.00"),
    )


async def test_translate_closes_an_order_the_venue_reports_filled_short_of_its_quantity() -> None:
    """Any venue: FILLED with 40 of 100 is a cancel of the rest; after a modify down to
    60, FILLED with 60 of 60 is the modify (the fills then complete the order)."""
    engine = _engine()
    client = ExecutionClient(engine, cast(VenueAdapter, None))
    order = engine.submit(REQUEST)
    engine.flush()
    cid = order.client_order_id
    engine.on_venue_event(
        OrderAccepted(
            account_id=engine.account_id,
            client_order_id=cid,
            ts_event=1,
            ts_recv=1,
            venue_order_id=VenueOrderId("1"),
        )
    )
    engine.on_venue_event(_fill(engine, cid, "40"))
    (cancel,) = client.translate(_state(cid, OrderStatus.FILLED, "40", "40"))
    assert type(cancel) is OrderCancelled
    assert cancel.reason == "the venue reports the order done with 40 of 100 filled"
    assert client.translate(_state(cid, OrderStatus.FILLED, "100", "100")) == []
    engine.modify(cid, quantity=D(60))
    engine.flush()
    assert engine.state.orders[cid].status is OrderStatus.PENDING_MODIFY
    (modified,) = client.translate(_state(cid, OrderStatus.FILLED, "60", "60"))
    assert type(modified) is OrderModified and modified.quantity == D(60)


def _fill(engine: TradingEngine, cid: ClientOrderId, quantity: str) -> OrderFilled:
    return OrderFilled(
        account_id=engine.account_id,
        client_order_id=cid,
        ts_event=2,
        ts_recv=2,
        venue=VenueId("IB"),
        venue_order_id=VenueOrderId("1"),
        trade_id=TradeId(EXEC_ID),
        instrument_id=AAPL,
        side=OrderSide.BUY,
        last_quantity=Quantity(D(quantity)),
        last_price=D("185.00"),
        fee=D(1),
        fee_currency=Currency("USD"),
        liquidity=LiquiditySide.MAKER,
    )


async def test_translate_waits_for_the_fills_before_closing_an_order_reported_filled_short() -> (
    None
):
    """FILLED with 40 of 100 while the engine has booked none of the 40 (the fills lag,
    or their poll failed): closing the entry now, unfilled, would cancel its bracket's
    stop-loss, and the 40 booked later would be a position without one. The order is
    closed once its fills are in; the stop then protects the 40."""
    engine = _engine()
    client = ExecutionClient(engine, cast(VenueAdapter, None))
    entry, stop = engine.submit_bracket(BracketRequest(entry=REQUEST, stop_loss=D("180.00")))
    engine.flush()
    cid = entry.client_order_id
    engine.on_venue_event(
        OrderAccepted(
            account_id=engine.account_id,
            client_order_id=cid,
            ts_event=1,
            ts_recv=1,
            venue_order_id=VenueOrderId("1"),
        )
    )
    for event in client.translate(_state(cid, OrderStatus.FILLED, "40", "40")):
        engine.on_venue_event(event)
    engine.on_venue_event(_fill(engine, cid, "40"))
    for event in client.translate(_state(cid, OrderStatus.FILLED, "40", "40")):
        engine.on_venue_event(event)
    assert entry.status is OrderStatus.CANCELLED and entry.filled_quantity == D(40)
    assert engine.state.position_quantity(AAPL) == D(40)
    assert stop.is_open and stop.quantity == D(40)


class _FillsAdapter:
    """A venue that accepts every order and lists the fills it is given."""

    venue_id = VenueId("IB")
    capabilities = IB_CAPABILITIES
    rate_limit = None

    def __init__(self) -> None:
        self.fills: list[VenueFill] = []
        self.placed: list[ClientOrderId] = []

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        self.placed.append(order.client_order_id)
        return VenueOrderState(
            client_order_id=order.client_order_id,
            venue_order_id=VenueOrderId(f"V-{order.client_order_id}"),
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            status=OrderStatus.ACCEPTED,
            quantity=order.quantity,
            filled_quantity=D(0),
        )

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        return list(self.fills)


def _venue_fill(cid: ClientOrderId, quantity: str) -> VenueFill:
    return VenueFill(
        trade_id=TradeId(EXEC_ID),
        client_order_id=cid,
        venue_order_id=VenueOrderId("1"),
        instrument_id=AAPL,
        side=OrderSide.BUY,
        quantity=D(quantity),
        price=D("185.00"),
        fee=D(1),
        fee_currency=Currency("USD"),
        liquidity=LiquiditySide.MAKER,
        ts=2,
    )


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED])
async def test_a_streamed_close_before_its_fills_waits_for_them_and_keeps_the_stop(
    status: OrderStatus,
) -> None:
    """The venue's stream says a bracket entry was cancelled (or expired) with 40 of 100
    filled before the 40's own message arrives. Closed at once, unfilled, the entry
    would cancel its stop-loss and the 40 booked later would be unprotected. The client
    holds the close, fetches the fills, books them (the stop is released for 40), then
    closes the entry."""
    engine = _engine()
    adapter = _FillsAdapter()
    client = ExecutionClient(engine, cast(VenueAdapter, adapter))
    entry, stop = await client.run_engine(
        partial(engine.submit_bracket, BracketRequest(entry=REQUEST, stop_loss=D("180.00")))
    )
    cid = entry.client_order_id
    assert entry.status is OrderStatus.ACCEPTED
    adapter.fills.append(_venue_fill(cid, "40"))
    await client.on_update(_state(cid, status, "100", "40"))
    assert entry.status is status and entry.filled_quantity == D(40)
    assert engine.state.position_quantity(AAPL) == D(40)
    assert stop.is_open and stop.quantity == D(40)
    assert stop.client_order_id in adapter.placed
    assert client.awaiting_fills == {}


async def test_a_close_whose_fills_cannot_be_fetched_is_held_until_they_arrive() -> None:
    """No fill to fetch yet: the entry stays open (its close held); the fill's stream
    message then books the 40 and the held close is applied right after it."""
    engine = _engine()
    adapter = _FillsAdapter()
    client = ExecutionClient(engine, cast(VenueAdapter, adapter))
    entry, stop = await client.run_engine(
        partial(engine.submit_bracket, BracketRequest(entry=REQUEST, stop_loss=D("180.00")))
    )
    cid = entry.client_order_id
    await client.on_update(_state(cid, OrderStatus.CANCELLED, "100", "40"))
    assert entry.is_open and cid in client.awaiting_fills
    assert stop.status is OrderStatus.NEW  # still waiting for its entry, not cancelled
    await client.on_update(_venue_fill(cid, "40"))
    assert entry.status is OrderStatus.CANCELLED and entry.filled_quantity == D(40)
    assert stop.is_open and stop.quantity == D(40)
    assert client.awaiting_fills == {}
