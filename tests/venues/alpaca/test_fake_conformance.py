"""The fake speaks Alpaca's wire format: the SDK's own typed models accept its payloads.

The adapter reads raw JSON; here the SDK parses the fake's answers into its pydantic
models (``raw_data=False``), which checks field names, types and enum values against
what the official SDK expects from the real Alpaca.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus as SdkStatus
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order, Position, TradeAccount, TradeUpdate
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)

from venues.fakes.alpaca import FakeAlpaca, FakeBar

pytestmark = pytest.mark.asyncio


async def test_fake_trading_payloads_parse_as_sdk_models() -> None:
    fake = FakeAlpaca()
    await fake.start()
    client = TradingClient(fake.api_key, fake.secret_key, url_override=fake.base_url)
    try:
        await fake.set_quote("SPY", Decimal("450.10"), Decimal("450.20"))
        market = MarketOrderRequest(
            symbol="SPY", qty=2, side="buy", time_in_force="day", client_order_id="conf-1"
        )
        placed = await asyncio.to_thread(client.submit_order, market)
        assert isinstance(placed, Order) and placed.client_order_id == "conf-1"
        limit = LimitOrderRequest(
            symbol="SPY", qty=1, side="buy", time_in_force="gtc", limit_price=440.0
        )
        resting = await asyncio.to_thread(client.submit_order, limit)
        assert isinstance(resting, Order)
        replaced = await asyncio.to_thread(
            client.replace_order_by_id, resting.id, ReplaceOrderRequest(limit_price=441.0)
        )
        assert isinstance(replaced, Order) and replaced.replaces == resting.id
        by_client_id = await asyncio.to_thread(client.get_order_by_client_id, "conf-1")
        assert isinstance(by_client_id, Order) and by_client_id.status is SdkStatus.FILLED
        every = await asyncio.to_thread(
            client.get_orders, GetOrdersRequest(status=QueryOrderStatus.ALL)
        )
        assert isinstance(every, list) and len(every) == 3
        account = await asyncio.to_thread(client.get_account)
        assert isinstance(account, TradeAccount)
        positions = await asyncio.to_thread(client.get_all_positions)
        assert isinstance(positions, list) and isinstance(positions[0], Position)
        await asyncio.to_thread(client.cancel_order_by_id, replaced.id)
    finally:
        client._session.close()
        await fake.stop()


async def test_fake_trade_updates_parse_as_sdk_trade_updates() -> None:
    fake = FakeAlpaca()
    frames: list[bytes] = []
    fake._publish_trade_update = lambda data: frames.append(  # type: ignore[method-assign]
        json.dumps({"stream": "trade_updates", "data": data}).encode()
    )
    fake.account.sink = fake._publish_trade_update
    fake.account.set_quote("SPY", Decimal("450.10"), Decimal("450.20"), None, Decimal(1))
    body = {"symbol": "SPY", "qty": "3", "side": "buy", "type": "market", "time_in_force": "day"}
    fake.account.work(fake.account.submit(body))
    fake.account.set_quote("SPY", Decimal("450.10"), Decimal("450.20"))
    fake.account.cancel(fake.account.submit({**body, "type": "limit", "limit_price": "1"}).id)
    fake._socket.close()
    events = [json.loads(frame) for frame in frames]
    updates = [TradeUpdate(**event["data"]) for event in events]
    assert [u.event for u in updates] == ["new", "partial_fill", "fill", "new", "canceled"]
    assert {event["stream"] for event in events} == {"trade_updates"}


async def test_fake_market_data_payloads_parse_as_sdk_models() -> None:
    fake = FakeAlpaca()
    await fake.start()
    client = StockHistoricalDataClient(fake.api_key, fake.secret_key, url_override=fake.base_url)
    try:
        await fake.set_quote("SPY", Decimal("450.10"), Decimal("450.20"))
        quotes = await asyncio.to_thread(
            client.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols="SPY")
        )
        assert isinstance(quotes, dict)
        assert quotes["SPY"].bid_price == 450.10
        start = 1_381_152_600_000_000_000
        fake.add_bars(
            "SPY",
            [
                FakeBar(
                    start + i * 60_000_000_000,
                    Decimal(168),
                    Decimal(169),
                    Decimal(167),
                    Decimal("168.5"),
                    Decimal(1000),
                )
                for i in range(3)
            ],
        )
        bars = await asyncio.to_thread(
            client.get_stock_bars,
            StockBarsRequest(
                symbol_or_symbols="SPY",
                timeframe=TimeFrame.Minute,
                start=datetime(2013, 10, 7, 13, 30, tzinfo=UTC),
                end=datetime(2013, 10, 7, 13, 40, tzinfo=UTC),
            ),
        )
        assert [bar.close for bar in bars["SPY"]] == [168.5] * 3
    finally:
        client._session.close()
        await fake.stop()
