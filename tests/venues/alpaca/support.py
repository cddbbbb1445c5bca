"""The fake Alpaca with an adapter connected to it, and order builders, for these tests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import Any

from alphintra.domain.enums import OrderSide, OrderType, TimeInForce, TrailingOffsetType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import Price, Quantity
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.alpaca import AlpacaAdapter
from venues.contract.harness_alpaca import alpaca_config
from venues.fakes.alpaca import FakeAlpaca

SPY = InstrumentId("SPY")
QQQ = InstrumentId("QQQ")
BID = Decimal("450.10")
ASK = Decimal("450.20")
_ids = itertools.count(1)


class AlpacaVenue:
    """``async with AlpacaVenue() as venue``: a started fake and a connected adapter."""

    def __init__(
        self, *, fake: dict[str, Any] | None = None, connect: bool = True, **config: Any
    ) -> None:
        self.fake = FakeAlpaca(**(fake or {}))
        registry = InstrumentRegistry()
        self.adapter = AlpacaAdapter(
            alpaca_config(self.fake, **config), [registry.get("SPY"), registry.get("QQQ")]
        )
        self._connect = connect
        self.updates: list[VenueOrderState | VenueFill] = []

    async def __aenter__(self) -> AlpacaVenue:
        await self.fake.start()
        if self._connect:
            await self.adapter.connect()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.adapter.disconnect()
        await self.fake.stop()

    async def quote(self, bid: Decimal = BID, ask: Decimal = ASK, **sizes: Decimal) -> None:
        await self.fake.set_quote("SPY", bid, ask, **sizes)

    async def listen(self) -> None:
        """Subscribe to order updates, collecting them in ``updates``."""

        async def collect(update: VenueOrderState | VenueFill) -> None:
            self.updates.append(update)

        await self.adapter.subscribe_order_updates(collect)

    def fills(self) -> list[VenueFill]:
        return [u for u in self.updates if isinstance(u, VenueFill)]

    def states(self, client_order_id: str) -> list[VenueOrderState]:
        return [
            u
            for u in self.updates
            if isinstance(u, VenueOrderState) and u.client_order_id == client_order_id
        ]


def new_id(prefix: str = "t") -> ClientOrderId:
    return ClientOrderId(f"{prefix}-{next(_ids)}")


def order(
    *,
    side: OrderSide = OrderSide.BUY,
    kind: OrderType = OrderType.MARKET,
    quantity: str = "1",
    price: str | None = None,
    trigger: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    client_order_id: ClientOrderId | None = None,
    instrument_id: InstrumentId = SPY,
    **extra: Any,
) -> OrderInitialized:
    """Return an order to place (SPY, market buy of 1 GTC by default)."""
    return OrderInitialized(
        account_id=AccountId("ACC"),
        client_order_id=client_order_id or new_id(),
        ts_event=0,
        ts_recv=0,
        instrument_id=instrument_id,
        side=side,
        order_type=kind,
        quantity=Quantity(Decimal(quantity)),
        price=Price(Decimal(price)) if price is not None else None,
        trigger_price=Price(Decimal(trigger)) if trigger is not None else None,
        time_in_force=tif,
        **extra,
    )


def trailing(percent: str, **kwargs: Any) -> OrderInitialized:
    return order(
        kind=OrderType.TRAILING_STOP,
        trailing_offset=Decimal(percent),
        trailing_offset_type=TrailingOffsetType.PERCENT,
        **kwargs,
    )


async def eventually(check: Callable[[], bool], timeout_s: float = 3.0) -> None:
    """Wait until ``check()`` is true, or fail after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
