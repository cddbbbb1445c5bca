"""The ccxt adapter wired to a fake exchange, for the tests in this folder."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alphintra.domain.enums import OrderSide, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.values import Price, Quantity
from alphintra.venues.ccxt import CcxtAdapter, CcxtConfig
from alphintra.venues.ccxt.profiles import ExchangeProfile
from venues.fakes.binance import FakeBinance
from venues.fakes.binance_stream import StreamFaults
from venues.fakes.crypto_spot import Faults
from venues.fakes.kraken import FakeKraken

BTCUSDT = InstrumentId("BTCUSDT")
BTCUSD = InstrumentId("BTCUSD")
BID, ASK = Decimal("29999.98"), Decimal("30000.02")
K_BID, K_ASK = Decimal("29999.8"), Decimal("30000.2")
_ids = itertools.count(1)


def fresh_id(prefix: str = "t") -> ClientOrderId:
    """Return a client order ID not used before in this test run."""
    return ClientOrderId(f"{prefix}{next(_ids)}")


def order(
    instrument_id: InstrumentId,
    side: OrderSide = OrderSide.BUY,
    order_type: OrderType = OrderType.MARKET,
    *,
    quantity: str = "0.001",
    price: str | None = None,
    trigger: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    client_order_id: ClientOrderId | None = None,
    **extra: Any,
) -> OrderInitialized:
    """Return an OrderInitialized as the engine would hand it to the adapter."""
    return OrderInitialized(
        account_id=AccountId("CCXT"),
        client_order_id=client_order_id or fresh_id(),
        ts_event=0,
        ts_recv=0,
        instrument_id=instrument_id,
        side=side,
        order_type=order_type,
        quantity=Quantity(Decimal(quantity)),
        price=Price(Decimal(price)) if price is not None else None,
        trigger_price=Price(Decimal(trigger)) if trigger is not None else None,
        time_in_force=tif,
        **extra,
    )


def config(exchange_id: str, base_url: str, api_key: str, secret: str, **extra: Any) -> CcxtConfig:
    """Return the adapter config for a fake: no client throttle, fast polls."""
    values: dict[str, Any] = {
        "exchange_id": exchange_id,
        "api_key": api_key,
        "secret": secret,
        "base_url": base_url,
        "enable_rate_limit": False,
        "timeout_s": 2.0,
        "poll_interval_s": 0.02,
        "max_backoff_s": 0.2,
    }
    values.update(extra)
    return CcxtConfig(**values)


@dataclass
class Binance:
    fake: FakeBinance
    adapter: CcxtAdapter


@dataclass
class Kraken:
    fake: FakeKraken
    adapter: CcxtAdapter


@asynccontextmanager
async def binance(
    *,
    secret: str | None = None,
    faults: Faults | None = None,
    connect: bool = True,
    profile: ExchangeProfile | None = None,
    stream_faults: StreamFaults | None = None,
    weight_limit_per_s: int | None = None,
    **extra: Any,
) -> AsyncIterator[Binance]:
    """Yield a started FakeBinance (quoted) and an adapter connected to it."""
    fake = FakeBinance(
        faults=faults, stream_faults=stream_faults, weight_limit_per_s=weight_limit_per_s
    )
    await fake.start()
    fake.set_quote("BTCUSDT", BID, ASK)
    adapter = CcxtAdapter(
        config("binance", fake.base_url, fake.api_key, secret or fake.secret, **extra),
        profile=profile,
    )
    try:
        if connect:
            await adapter.connect()
        yield Binance(fake, adapter)
    finally:
        await adapter.disconnect()
        await fake.stop()
    assert not fake.errors, fake.errors
    assert not fake.stream.errors, fake.stream.errors


@asynccontextmanager
async def kraken(
    *,
    secret: str | None = None,
    faults: Faults | None = None,
    connect: bool = True,
    profile: ExchangeProfile | None = None,
    **extra: Any,
) -> AsyncIterator[Kraken]:
    """Yield a started FakeKraken (quoted) and an adapter connected to it."""
    fake = FakeKraken(faults=faults)
    await fake.start()
    fake.set_quote("XXBTZUSD", K_BID, K_ASK)
    adapter = CcxtAdapter(
        config("kraken", fake.base_url, fake.api_key, secret or fake.secret, **extra),
        profile=profile,
    )
    try:
        if connect:
            await adapter.connect()
        yield Kraken(fake, adapter)
    finally:
        await adapter.disconnect()
        await fake.stop()
    assert not fake.errors, fake.errors
