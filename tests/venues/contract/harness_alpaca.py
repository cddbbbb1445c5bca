"""The Alpaca adapter against the local fake Alpaca, as a contract harness."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.domain.registry import InstrumentRegistry
from alphintra.venues.alpaca import AlpacaAdapter, AlpacaConfig
from venues.fakes.alpaca import FakeAlpaca


def alpaca_config(fake: FakeAlpaca, **overrides: Any) -> AlpacaConfig:
    """Return a config that points every SDK client of the adapter at ``fake``."""
    settings: dict[str, Any] = {
        "api_key": fake.api_key,
        "secret_key": fake.secret_key,
        "trading_url": fake.base_url,
        "data_url": fake.base_url,
        "stream_url": fake.stream_url,
        "data_stream_url": fake.data_stream_url,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
        "stream_min_backoff_s": 0.05,
        "stream_max_backoff_s": 0.2,
    }
    settings.update(overrides)
    return AlpacaConfig(**settings)


class AlpacaHarness:
    """The fake Alpaca and an ``AlpacaAdapter`` connected to it, on SPY."""

    name = "alpaca"
    reference_price = Decimal("450.00")

    def __init__(self, _: Path) -> None:
        self.instrument = InstrumentRegistry().get("SPY")
        self.order_quantity = Decimal(1)
        self.fake = FakeAlpaca()
        self.adapter = AlpacaAdapter(alpaca_config(self.fake), [self.instrument])

    async def start(self) -> None:
        await self.fake.start()
        await self.adapter.connect()

    async def stop(self) -> None:
        await self.adapter.disconnect()
        await self.fake.stop()

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        await self.fake.set_quote(self.instrument.venue_symbol, bid, ask)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        return self.fake.record()


HARNESSES = [AlpacaHarness]
