"""The ccxt adapter against the local Binance, Kraken and OKX fakes, as contract
harnesses."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from alphintra.domain.enums import AssetClass, InstrumentKind
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.venues.ccxt import CcxtAdapter, CcxtConfig
from venues.fakes.binance import FakeBinance
from venues.fakes.kraken import FakeKraken
from venues.fakes.okx import FakeOkx


def _config(
    exchange_id: str, base_url: str, api_key: str, secret: str, passphrase: str = ""
) -> CcxtConfig:
    return CcxtConfig(
        exchange_id=exchange_id,
        api_key=api_key,
        secret=secret,
        passphrase=passphrase,
        base_url=base_url,
        enable_rate_limit=False,
        timeout_s=5.0,
        poll_interval_s=0.05,
        max_backoff_s=0.5,
    )


class _CcxtHarness:
    """Common plumbing: the fake, the adapter, and the wire-to-ours ID mapping."""

    name = "ccxt"
    venue_symbol = ""
    adapter: CcxtAdapter
    instrument: Instrument
    order_quantity: Decimal
    reference_price = Decimal(30000)
    fake: FakeBinance | FakeKraken | FakeOkx

    async def start(self) -> None:
        await self.fake.start()
        await self.adapter.connect()

    async def stop(self) -> None:
        await self.adapter.disconnect()
        await self.fake.stop()

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.fake.set_quote(self.venue_symbol, bid, ask)

    def venue_record(self) -> dict[str, dict[str, Any]]:
        record: dict[str, dict[str, Any]] = {}
        for wire, entry in self.fake.venue_record().items():
            ours = self.adapter.client_order_id_for(wire) or wire
            record[str(ours)] = entry
        return record


class BinanceHarness(_CcxtHarness):
    """ccxt ``binance`` (spot) against ``FakeBinance``, on BTCUSDT."""

    name = "ccxt-binance"
    venue_symbol = "BTCUSDT"

    def __init__(self, _: Path) -> None:
        self.fake = FakeBinance()
        self.instrument = Instrument(
            InstrumentId("BTCUSDT"),
            "BTCUSDT",
            AssetClass.CRYPTO,
            InstrumentKind.SPOT,
            "BTC",
            "USDT",
            Decimal("0.01"),
            Decimal("0.00001"),
            min_quantity=Decimal("0.00001"),
            min_notional=Decimal(5),
        )
        self.order_quantity = Decimal("0.001")
        self.adapter = CcxtAdapter(
            _config("binance", self.fake.base_url, self.fake.api_key, self.fake.secret)
        )


class KrakenHarness(_CcxtHarness):
    """ccxt ``kraken`` (spot) against ``FakeKraken``, on BTCUSD (XXBTZUSD)."""

    name = "ccxt-kraken"
    venue_symbol = "XXBTZUSD"

    def __init__(self, _: Path) -> None:
        self.fake = FakeKraken()
        self.instrument = Instrument(
            InstrumentId("BTCUSD"),
            "XXBTZUSD",
            AssetClass.CRYPTO,
            InstrumentKind.SPOT,
            "BTC",
            "USD",
            Decimal("0.1"),
            Decimal("0.00000001"),
            min_quantity=Decimal("0.0001"),
            min_notional=Decimal("0.5"),
        )
        self.order_quantity = Decimal("0.001")
        self.adapter = CcxtAdapter(
            _config("kraken", self.fake.base_url, self.fake.api_key, self.fake.secret)
        )


class OkxHarness(_CcxtHarness):
    """ccxt ``okx`` (spot, cash) against ``FakeOkx``, on BTC-USDT."""

    name = "ccxt-okx"
    venue_symbol = "BTC-USDT"

    def __init__(self, _: Path) -> None:
        self.fake = FakeOkx()
        self.instrument = Instrument(
            InstrumentId("BTCUSDT"),
            "BTC-USDT",
            AssetClass.CRYPTO,
            InstrumentKind.SPOT,
            "BTC",
            "USDT",
            Decimal("0.1"),
            Decimal("0.00000001"),
            min_quantity=Decimal("0.00001"),
            min_notional=Decimal(1),
        )
        self.order_quantity = Decimal("0.001")
        self.adapter = CcxtAdapter(
            _config(
                "okx", self.fake.base_url, self.fake.api_key, self.fake.secret, self.fake.passphrase
            )
        )


HARNESSES = [BinanceHarness, KrakenHarness, OkxHarness]
