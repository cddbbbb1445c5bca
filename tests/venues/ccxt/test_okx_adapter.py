"""The ccxt adapter against the OKX fake: signing, client IDs, refusals and fills."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.ccxt import CcxtAdapter
from venues.fakes.okx import FakeOkx

from .support import config, order

pytestmark = pytest.mark.asyncio
BTCUSDT = InstrumentId("BTCUSDT")
BID, ASK = Decimal("29999.9"), Decimal("30000.1")


@asynccontextmanager
async def okx(
    *, secret: str | None = None, connect: bool = True
) -> AsyncIterator[tuple[FakeOkx, CcxtAdapter]]:
    fake = FakeOkx()
    await fake.start()
    fake.set_quote("BTC-USDT", BID, ASK)
    adapter = CcxtAdapter(
        config(
            "okx", fake.base_url, fake.api_key, secret or fake.secret, passphrase=fake.passphrase
        )
    )
    try:
        if connect:
            await adapter.connect()
        yield fake, adapter
    finally:
        await adapter.disconnect()
        await fake.stop()
    assert not fake.errors, fake.errors


async def test_a_wrong_secret_fails_the_signature_check_at_connect() -> None:
    async with okx(secret="not-the-secret", connect=False) as (fake, adapter):
        with pytest.raises(VenueError) as refused:
            await adapter.connect()
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert fake.requests[-1] == ("GET", "/api/v5/asset/currencies")  # signed: refused


async def test_an_engine_client_id_is_mapped_to_okx_letters_and_digits() -> None:
    async with okx() as (fake, adapter):
        cid = ClientOrderId("O-17/strategy_a")
        state = await adapter.place_order(order(BTCUSDT, client_order_id=cid))
        assert state.client_order_id == cid
        assert state.status is OrderStatus.FILLED
        wire = adapter.wire_client_id(cid)
        assert wire.isalnum() and len(wire) == 32
        assert fake.venue_record()[wire]["filled"] == Decimal("0.001")
        again = await adapter.query_order(BTCUSDT, client_order_id=cid)
        assert again is not None and again.average_price == ASK


async def test_fills_carry_exact_prices_and_fees() -> None:
    async with okx() as (fake, adapter):
        placed = order(BTCUSDT, OrderSide.SELL)
        await adapter.place_order(placed)
        fills = await adapter.fills_since(0)
        assert [f.client_order_id for f in fills] == [placed.client_order_id]
        assert fills[0].price == BID
        assert fills[0].fee == fake.book.trades[0].fee == Decimal("0.03")  # OKX sends -0.03
        assert fills[0].fee_currency == "USDT"


async def test_a_post_only_order_that_would_take_is_refused_definitively() -> None:
    async with okx() as (fake, adapter):
        with pytest.raises(VenueError) as refused:
            await adapter.place_order(
                order(BTCUSDT, order_type=OrderType.LIMIT, price="30000.1", post_only=True)
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert not fake.book.orders


async def test_more_fills_than_one_page_are_all_read() -> None:
    async with okx() as (fake, adapter):
        placed = [order(BTCUSDT, OrderSide.BUY if i % 2 else OrderSide.SELL) for i in range(130)]
        for item in placed:
            await adapter.place_order(item)
        fills = await adapter.fills_since(0)
        assert len(fake.book.trades) == 130
        assert sorted(f.trade_id for f in fills) == sorted(t.tid for t in fake.book.trades)
        pages = [p for p in fake.requests if p[1] == "/api/v5/trade/fills-history"]
        assert len(pages) >= 2
