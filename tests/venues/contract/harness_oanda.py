"""The OANDA v20 adapter against the local fake OANDA, as a contract harness."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.domain.registry import InstrumentRegistry
from alphintra.venues.oanda import OandaAdapter, OandaConfig
from venues.fakes.oanda import FakeOanda


class OandaHarness:
    """``OandaAdapter`` ↔ ``FakeOanda`` on EURUSD (EUR_USD), 1000 units."""

    name = "oanda"

    def __init__(self, _: Path) -> None:
        self.instrument = InstrumentRegistry().get("EURUSD")
        self.order_quantity = Decimal(1000)
        self.fake = FakeOanda(heartbeat_s=0.5)
        self.adapter: OandaAdapter = OandaAdapter(
            OandaConfig(account_id=self.fake.book.account_id, token=self.fake.token)
        )

    async def start(self) -> None:
        base_url = await self.fake.start()
        self.adapter = OandaAdapter(
            OandaConfig(
                account_id=self.fake.book.account_id,
                token=self.fake.token,
                rest_url=base_url,
                timeout_s=2.0,
                stream_timeout_s=2.0,
                reconnect_initial_s=0.05,
                reconnect_max_s=0.5,
            )
        )
        await self.adapter.connect()

    async def stop(self) -> None:
        await self.adapter.disconnect()
        await self.fake.stop()

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.fake.set_quote("EUR_USD", bid, ask)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        return self.fake.venue_record()


HARNESSES = [OandaHarness]
