"""Test wiring: a fake TWS, an ``IbAdapter`` connected to it, and the updates it emits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from alphintra.domain.enums import (
    AssetClass,
    InstrumentKind,
    OrderSide,
    OrderType,
    TimeInForce,
)
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import Price, Quantity
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.ib import IbAdapter, IbConfig

from .fake_tws import FakeTws
from .recordings import load

ES_FUTURE = Instrument(
    InstrumentId("ESZ5"),
    "ES@CME:202512",
    AssetClass.INDEX,
    InstrumentKind.FUTURE,
    "ES",
    "USD",
    Decimal("0.25"),
    Decimal(1),
    multiplier=Decimal(50),
)

Update = VenueOrderState | VenueFill

SESSION_START_NS = 1_736_951_400_000_000_000
"""2025-01-15 09:30 New York: the recordings' trading day (their executions follow it)."""


def recorded_day_clock() -> Callable[[], int]:
    """Return a clock that starts at the recordings' session open and runs in real time."""
    origin = time.monotonic_ns()
    return lambda: SESSION_START_NS + time.monotonic_ns() - origin


def registry() -> InstrumentRegistry:
    """Return the default registry plus the ES future the recordings trade."""
    return InstrumentRegistry([ES_FUTURE])


@dataclass
class Session:
    """A fake TWS, the adapter connected to it, and every update the adapter emitted."""

    fake: FakeTws
    adapter: IbAdapter
    updates: list[Update] = field(default_factory=list)

    async def settle(self, count: int, timeout: float = 3.0) -> list[Update]:
        """Wait until at least ``count`` updates arrived; return them all."""
        await wait_until(lambda: len(self.updates) >= count, timeout)
        await asyncio.sleep(0.05)  # let any unexpected extra update arrive too
        return self.updates


async def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def fake_config(port: int, **overrides: object) -> IbConfig:
    """Return a config for the fake TWS with short timeouts and fast reconnects."""
    values: dict[str, object] = {
        "port": port,
        "client_id": 1,
        "connect_timeout_s": 2.0,
        "request_timeout_s": 2.0,
        "ack_timeout_s": 2.0,
        "commission_timeout_s": 2.0,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
        **overrides,
    }
    return IbConfig.from_mapping(values)


@asynccontextmanager
async def ib_session(
    recording: str | None = None, *, fake: FakeTws | None = None, **overrides: object
) -> AsyncIterator[Session]:
    """Start a fake TWS (playing ``recording``), connect an adapter and collect its updates."""
    fake = fake or FakeTws()
    port = await fake.start()
    adapter = IbAdapter(fake_config(port, **overrides), registry(), clock=recorded_day_clock())
    session = Session(fake, adapter)

    async def collect(update: Update) -> None:
        session.updates.append(update)

    try:
        await adapter.connect()
        await adapter.subscribe_order_updates(collect)
        if recording is not None:
            fake.play(load(recording)["steps"])
        yield session
    finally:
        await adapter.disconnect()
        await fake.stop()


def order(
    client_order_id: str,
    instrument: str,
    side: OrderSide,
    order_type: OrderType,
    quantity: str,
    *,
    price: str | None = None,
    trigger: str | None = None,
    tif: TimeInForce = TimeInForce.DAY,
) -> OrderInitialized:
    """Return an ``OrderInitialized`` as the engine would release it."""
    return OrderInitialized(
        account_id=AccountId("ACC-1"),
        client_order_id=ClientOrderId(client_order_id),
        ts_event=1,
        ts_recv=1,
        instrument_id=InstrumentId(instrument),
        side=side,
        order_type=order_type,
        quantity=Quantity(Decimal(quantity)),
        price=Price(Decimal(price)) if price is not None else None,
        trigger_price=Price(Decimal(trigger)) if trigger is not None else None,
        time_in_force=tif,
    )


def summary(update: Update) -> tuple[object, ...]:
    """Return the parts of an update the sequence tests compare."""
    if isinstance(update, VenueFill):
        return ("fill", update.trade_id, update.quantity, update.price, update.fee)
    return ("state", update.status.value, update.filled_quantity)
