"""Fixtures: a fake OANDA on 127.0.0.1 and an adapter connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest_asyncio

from alphintra.domain.enums import OrderSide, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.values import Price, Quantity
from alphintra.venues.oanda import OandaAdapter, OandaConfig
from venues.fakes.oanda import FakeOanda

EURUSD = InstrumentId("EURUSD")


def config_for(fake: FakeOanda, **overrides: object) -> OandaConfig:
    """Return a config that reaches ``fake`` with short timeouts and backoff."""
    values: dict[str, object] = {
        "account_id": fake.book.account_id,
        "token": fake.token,
        "rest_url": fake.base_url,
        "timeout_s": 1.0,
        "stream_timeout_s": 1.0,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
    }
    values.update(overrides)
    return OandaConfig.from_mapping(values)


def order(
    client_order_id: str,
    side: OrderSide,
    order_type: OrderType,
    *,
    quantity: str = "1000",
    price: str | None = None,
    trigger_price: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    instrument: str = "EURUSD",
    reduce_only: bool = False,
) -> OrderInitialized:
    """Return an order as the engine would initialise it."""
    return OrderInitialized(
        account_id=AccountId("TEST"),
        client_order_id=ClientOrderId(client_order_id),
        ts_event=0,
        ts_recv=0,
        instrument_id=InstrumentId(instrument),
        side=side,
        order_type=order_type,
        quantity=Quantity(Decimal(quantity)),
        price=Price(Decimal(price)) if price is not None else None,
        trigger_price=Price(Decimal(trigger_price)) if trigger_price is not None else None,
        time_in_force=tif,
        reduce_only=reduce_only,
    )


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeOanda]:
    venue = FakeOanda(heartbeat_s=0.2)
    await venue.start()
    yield venue
    await venue.stop()
    assert not venue.errors, venue.errors


@pytest_asyncio.fixture
async def adapter(fake: FakeOanda) -> AsyncIterator[OandaAdapter]:
    connected = OandaAdapter(config_for(fake))
    await connected.connect()
    yield connected
    await connected.disconnect()
