"""Review: an OANDA IOC order that fills only in part (the rest cancelled) is not FILLED.

OANDA's IOC is "immediately partially filled or cancelled": the create answers 201 with
an ORDER_FILL for the units it could fill and an ORDER_CANCEL for the rest. The adapter
reported FILLED with the partial quantity from ``place_order`` (a FILLED status yields no
terminal engine event) and read the order back as CANCELLED with nothing filled. It must
report the partial fill and then the cancel of the remainder: CANCELLED with the filled
quantity, as the other adapters do. The fake's ``book.ioc_liquidity`` (opt-in) caps what
an IOC order fills.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from functools import partial

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, VenueId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.execution import ExecutionClient, ExecutionPolicy
from alphintra.store.memory import MemoryJournal
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.oanda import OandaAdapter
from alphintra.venues.oanda.adapter import OANDA_CAPABILITIES
from venues.fakes.oanda import FakeOanda
from venues.oanda.conftest import config_for, order

pytestmark = pytest.mark.asyncio

EURUSD = InstrumentId("EURUSD")
BID = Decimal("1.10000")
ASK = Decimal("1.10002")
VENUE = VenueId("OANDA")


async def _started() -> FakeOanda:
    fake = FakeOanda(heartbeat_s=0.2)
    await fake.start()
    fake.set_quote("EUR_USD", BID, ASK)
    fake.book.ioc_liquidity = Decimal(400)
    return fake


async def test_place_order_reports_partial_fill_then_cancel_of_the_rest() -> None:
    fake = await _started()
    adapter = OandaAdapter(config_for(fake))
    try:
        await adapter.connect()
        placed = await adapter.place_order(
            order("ioc-1", OrderSide.BUY, OrderType.MARKET, quantity="1000", tif=TimeInForce.IOC)
        )
        assert placed.status is OrderStatus.CANCELLED
        assert placed.filled_quantity == Decimal(400)
        assert placed.quantity == Decimal(1000)
        assert placed.average_price == ASK
        assert placed.reason == "INSUFFICIENT_LIQUIDITY"

        read = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("ioc-1"))
        assert read is not None
        assert (read.status, read.filled_quantity, read.average_price) == (
            OrderStatus.CANCELLED,
            Decimal(400),
            ASK,
        )

        fills = await adapter.fills_since(0)
        assert [(f.quantity, f.price) for f in fills] == [(Decimal(400), ASK)]
        assert fake.venue_record()["ioc-1"]["filled"] == Decimal(400)
    finally:
        await adapter.disconnect()
        await fake.stop()
    assert not fake.errors, fake.errors


async def test_stream_reports_the_partial_fill_then_the_cancel() -> None:
    fake = await _started()
    adapter = OandaAdapter(config_for(fake))
    updates: list[VenueOrderState | VenueFill] = []

    async def collect(update: VenueOrderState | VenueFill) -> None:
        updates.append(update)

    try:
        await adapter.connect()
        await adapter.subscribe_order_updates(collect)
        await adapter.place_order(
            order("ioc-2", OrderSide.SELL, OrderType.MARKET, quantity="1000", tif=TimeInForce.IOC)
        )
        for _ in range(100):
            if adapter.last_transaction_id == fake.book.last_id:
                break
            await asyncio.sleep(0.02)
    finally:
        await adapter.disconnect()
        await fake.stop()
    fills = [u for u in updates if isinstance(u, VenueFill)]
    states = [u for u in updates if isinstance(u, VenueOrderState)]
    assert [(f.quantity, f.price) for f in fills] == [(Decimal(400), BID)]
    assert states[-1].status is OrderStatus.CANCELLED
    assert states[-1].filled_quantity == Decimal(400)
    assert updates.index(fills[0]) < updates.index(states[-1])


def _engine() -> TradingEngine:
    instrument = InstrumentRegistry().get("EURUSD")
    return TradingEngine(
        account_id=AccountId("IOC"),
        registry=InstrumentRegistry([instrument]),
        journal=MemoryJournal(),
        clock=LiveClock(),
        venues={VENUE: OANDA_CAPABILITIES},
        default_venue=VENUE,
        limits=RiskLimits(enforce_min_notional=False),
    )


IOC_BUY = OrderRequest(
    instrument_id=EURUSD,
    side=OrderSide.BUY,
    order_type=OrderType.MARKET,
    quantity=Decimal(1000),
    time_in_force=TimeInForce.IOC,
)


async def test_engine_books_the_partial_fill_and_closes_the_order_from_the_stream() -> None:
    """With the stream: the order closes and the fill that follows the cancel is booked.

    Before the fix the stream's ORDER_CANCEL closed the order; this guards that the fill,
    now arriving after place_order already reported the cancel, is still booked.
    """
    fake = await _started()
    adapter = OandaAdapter(config_for(fake))
    engine = _engine()
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    try:
        await adapter.connect()
        await adapter.subscribe_order_updates(client.on_update)
        placed = await client.run_engine(partial(engine.submit, IOC_BUY))
        cid = placed.client_order_id
        # place_order closes the order at once; the fill comes from the stream after it.
        for _ in range(100):
            if adapter.last_transaction_id == fake.book.last_id:
                break
            await asyncio.sleep(0.02)
    finally:
        await adapter.disconnect()
        await fake.stop()
    booked = engine.state.orders[cid]
    assert booked.status is OrderStatus.CANCELLED
    assert booked.filled_quantity == Decimal(400)
    assert engine.state.position_quantity(EURUSD) == Decimal(400)
    assert fake.book.positions["EUR_USD"]["units"] == Decimal(400)


async def test_engine_closes_the_order_from_a_read_back_without_the_stream() -> None:
    """No order-update stream: resolving the order must book the fill and the cancel."""
    fake = await _started()
    adapter = OandaAdapter(config_for(fake))
    engine = _engine()
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    try:
        await adapter.connect()
        placed = await client.run_engine(partial(engine.submit, IOC_BUY))
        cid = placed.client_order_id
        await client.resolve(cid, EURUSD)
    finally:
        await adapter.disconnect()
        await fake.stop()
    booked = engine.state.orders[cid]
    assert booked.status is OrderStatus.CANCELLED
    assert booked.filled_quantity == Decimal(400)
    assert engine.state.position_quantity(EURUSD) == Decimal(400)
