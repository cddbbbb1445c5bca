"""One contract, every venue adapter: each harness module runs the same tests.

Harnesses are discovered from ``harness_*.py`` modules beside this file.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId
from alphintra.domain.values import Price, Quantity
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState

from .harness import ContractHarness

HERE = Path(__file__).resolve().parent
_T = TypeVar("_T")


def _factories() -> list[Any]:
    found: list[Any] = []
    for path in sorted(HERE.glob("harness_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        found.extend(getattr(module, "HARNESSES", []))
    return found


FACTORIES = _factories()
_ids = itertools.count(1)


def _run(harness: ContractHarness, body: Callable[[ContractHarness], Awaitable[_T]]) -> _T:
    async def scenario() -> _T:
        await harness.start()
        try:
            return await body(harness)
        finally:
            await harness.stop()

    return asyncio.run(scenario())


@pytest.fixture(params=FACTORIES, ids=lambda f: getattr(f, "name", f.__name__))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> ContractHarness:
    factory = request.param
    made: ContractHarness = factory(tmp_path)
    return made


def _order(
    harness: ContractHarness,
    side: OrderSide,
    order_type: OrderType,
    price: Decimal | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> OrderInitialized:
    instrument = harness.instrument
    return OrderInitialized(
        account_id=AccountId("CONTRACT"),
        client_order_id=ClientOrderId(f"ct{next(_ids)}x{id(harness) % 10_000}"),
        ts_event=0,
        ts_recv=0,
        instrument_id=instrument.id,
        side=side,
        order_type=order_type,
        quantity=Quantity(harness.order_quantity),
        price=Price(price) if price is not None else None,
        time_in_force=tif,
    )


async def _settled(
    harness: ContractHarness, order: OrderInitialized, want: set[OrderStatus], tries: int = 50
) -> VenueOrderState:
    state = None
    for _ in range(tries):
        state = await harness.adapter.query_order(
            order.instrument_id, client_order_id=order.client_order_id
        )
        if state is not None and state.status in want:
            return state
        await asyncio.sleep(0.02)
    raise AssertionError(f"{order.client_order_id} never reached {want}: last {state}")


_REFERENCE = {"FX": Decimal("1.10000"), "CRYPTO": Decimal("30000"), "COMMODITY": Decimal(2000)}


def _prices(harness: ContractHarness) -> tuple[Decimal, Decimal]:
    """Return a bid and ask two ticks around a plausible price for the instrument."""
    instrument = harness.instrument
    mid = getattr(harness, "reference_price", None) or _REFERENCE.get(
        instrument.asset_class.value, Decimal(100)
    )
    tick = instrument.tick_size
    return mid - tick * 2, mid + tick * 2


def test_contract_market_buy_fills_at_the_ask(harness: ContractHarness) -> None:
    async def body(h: ContractHarness) -> None:
        bid, ask = _prices(h)
        await h.set_quote(bid, ask)
        order = _order(h, OrderSide.BUY, OrderType.MARKET)
        await h.adapter.place_order(order)
        state = await _settled(h, order, {OrderStatus.FILLED})
        assert state.filled_quantity == h.order_quantity
        assert state.average_price == ask
        fills = [
            f
            for f in await h.adapter.fills_since(0, h.instrument.id)
            if f.client_order_id == order.client_order_id
            or f.venue_order_id == state.venue_order_id
        ]
        assert sum((f.quantity for f in fills), Decimal(0)) == h.order_quantity
        assert all(isinstance(f, VenueFill) and f.price == ask for f in fills)
        assert h.venue_record()[order.client_order_id]["filled"] == h.order_quantity

    _run(harness, body)


def test_contract_resting_limit_cancel_is_confirmed(harness: ContractHarness) -> None:
    async def body(h: ContractHarness) -> None:
        bid, ask = _prices(h)
        await h.set_quote(bid, ask)
        far = bid - h.instrument.tick_size * 100
        order = _order(h, OrderSide.BUY, OrderType.LIMIT, price=far)
        await h.adapter.place_order(order)
        state = await _settled(h, order, {OrderStatus.ACCEPTED, OrderStatus.SUBMITTED})
        assert state.filled_quantity == 0
        snapshot = await h.adapter.account()
        assert order.client_order_id in {o.client_order_id for o in snapshot.open_orders}
        await h.adapter.cancel_order(order.client_order_id, order.instrument_id)
        await _settled(h, order, {OrderStatus.CANCELLED})

    _run(harness, body)


def test_contract_resting_limit_fills_when_the_market_crosses(harness: ContractHarness) -> None:
    async def body(h: ContractHarness) -> None:
        bid, ask = _prices(h)
        await h.set_quote(bid, ask)
        limit = bid - h.instrument.tick_size * 10
        order = _order(h, OrderSide.BUY, OrderType.LIMIT, price=limit)
        await h.adapter.place_order(order)
        await _settled(h, order, {OrderStatus.ACCEPTED, OrderStatus.SUBMITTED})
        await h.set_quote(limit - h.instrument.tick_size * 4, limit - h.instrument.tick_size * 2)
        state = await _settled(h, order, {OrderStatus.FILLED})
        assert state.filled_quantity == h.order_quantity

    _run(harness, body)


def test_contract_query_unknown_client_order_id_returns_none(harness: ContractHarness) -> None:
    async def body(h: ContractHarness) -> None:
        found = await h.adapter.query_order(
            h.instrument.id, client_order_id=ClientOrderId("never-sent-123")
        )
        assert found is None

    _run(harness, body)


def test_contract_cancel_of_a_filled_order_is_definitive(harness: ContractHarness) -> None:
    async def body(h: ContractHarness) -> None:
        bid, ask = _prices(h)
        await h.set_quote(bid, ask)
        order = _order(h, OrderSide.SELL, OrderType.MARKET)
        await h.adapter.place_order(order)
        await _settled(h, order, {OrderStatus.FILLED})
        with pytest.raises(VenueError) as refused:
            await h.adapter.cancel_order(order.client_order_id, order.instrument_id)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE

    _run(harness, body)


def test_contract_duplicate_open_client_order_id_is_refused(harness: ContractHarness) -> None:
    async def body(h: ContractHarness) -> None:
        bid, ask = _prices(h)
        await h.set_quote(bid, ask)
        order = _order(h, OrderSide.BUY, OrderType.LIMIT, price=bid - h.instrument.tick_size * 50)
        await h.adapter.place_order(order)
        await _settled(h, order, {OrderStatus.ACCEPTED, OrderStatus.SUBMITTED})
        with pytest.raises(VenueError) as refused:
            await h.adapter.place_order(order)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        record = h.venue_record()
        assert sum(1 for cid in record if cid == order.client_order_id) == 1

    _run(harness, body)


def test_contract_capabilities_are_declared_as_data(harness: ContractHarness) -> None:
    capabilities = harness.adapter.capabilities
    assert OrderType.MARKET in capabilities.order_types
    assert OrderType.LIMIT in capabilities.order_types
    assert capabilities.times_in_force
