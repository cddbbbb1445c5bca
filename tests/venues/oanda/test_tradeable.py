"""Prices with ``tradeable: false`` (market closed, a halt) through the real adapter.

OANDA keeps quoting an instrument it does not trade (weekends, halts): the price says
``tradeable: false`` and its bids and asks are indicative. A market order on it is
created and at once cancelled with reason ``MARKET_HALTED``. The adapter still publishes
such prices (they are OANDA's best mark), refuses a new market order while the latest
price it saw says the instrument is not tradeable, reports a ``MARKET_HALTED`` cancel of
a market order as a rejection that says why, and logs each change of tradeability once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import (
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from alphintra.domain.events import OrderRejected
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, VenueId
from alphintra.domain.market import MarketData, QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.execution import ExecutionClient, ExecutionPolicy
from alphintra.store.memory import MemoryJournal
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState
from alphintra.venues.oanda import OANDA_CAPABILITIES, OandaAdapter
from venues.fakes.oanda import FakeOanda

from .conftest import EURUSD, order

pytestmark = pytest.mark.asyncio
BID, ASK = Decimal("1.09998"), Decimal("1.10002")
CLOSED = "oanda_instrument_not_tradeable"
OPEN = "oanda_instrument_tradeable"


async def _until(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _collector() -> tuple[list[Any], Callable[[Any], Awaitable[None]]]:
    seen: list[Any] = []

    async def handler(update: Any) -> None:
        seen.append(update)

    return seen, handler


def _posts(fake: FakeOanda) -> int:
    return sum(r.method == "POST" for r in fake.requests)


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every structlog event, whatever level another test configured."""
    saved = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as captured:
            yield captured
    finally:
        structlog.configure(wrapper_class=saved)


def _transitions(logs: list[MutableMapping[str, Any]]) -> list[tuple[str, str]]:
    return [(e["event"], e["instrument"]) for e in logs if e["event"] in (CLOSED, OPEN)]


async def test_untradeable_price_is_still_published_as_a_quote(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_quotes([EURUSD], handler)
    await _until(lambda: len(seen) == 1)

    fake.set_tradeable("EUR_USD", False)
    fake.set_quote("EUR_USD", Decimal("1.08000"), Decimal("1.08040"))  # indicative
    await _until(lambda: len(seen) == 3)

    assert all(isinstance(q, QuoteTick) for q in seen)
    assert (seen[-1].bid, seen[-1].ask) == (Decimal("1.08000"), Decimal("1.08040"))
    polled = await adapter.quote(EURUSD)
    assert (polled.bid, polled.ask) == (Decimal("1.08000"), Decimal("1.08040"))


async def test_market_order_is_refused_while_the_streamed_price_is_untradeable(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_quotes([EURUSD], handler)
    await _until(lambda: len(seen) == 1)
    fake.set_tradeable("EUR_USD", False)
    await _until(lambda: len(seen) == 2)
    posts = _posts(fake)

    with pytest.raises(VenueError) as refused:
        await adapter.place_order(order("closed-1", OrderSide.BUY, OrderType.MARKET))

    error = refused.value
    assert error.kind is VenueErrorKind.DEFINITIVE
    assert error.code == "MARKET_HALTED"
    assert "EUR_USD" in error.message
    assert "not tradeable" in error.message
    assert _posts(fake) == posts  # never sent
    assert "closed-1" not in fake.venue_record()

    # A pending order may rest while the market is closed: it is still sent.
    resting = await adapter.place_order(
        order("closed-limit", OrderSide.BUY, OrderType.LIMIT, price="1.09000")
    )
    assert resting.status is OrderStatus.ACCEPTED

    fake.set_tradeable("EUR_USD", True)
    await _until(lambda: len(seen) == 3)
    filled = await adapter.place_order(order("open-1", OrderSide.BUY, OrderType.MARKET))
    assert filled.status is OrderStatus.FILLED
    assert filled.average_price == ASK


async def test_market_order_is_refused_after_a_polled_untradeable_price(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    fake.set_tradeable("EUR_USD", False)
    await adapter.quote(EURUSD)

    with pytest.raises(VenueError, match="EUR_USD") as refused:
        await adapter.place_order(order("polled-1", OrderSide.SELL, OrderType.MARKET))
    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert "polled-1" not in fake.venue_record()

    fake.set_tradeable("EUR_USD", True)
    await adapter.quote(EURUSD)
    filled = await adapter.place_order(order("polled-2", OrderSide.SELL, OrderType.MARKET))
    assert filled.status is OrderStatus.FILLED


async def test_market_halted_cancel_is_reported_as_a_rejection_that_says_why(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    """The adapter saw no untradeable price: OANDA creates the order and cancels it."""
    updates, handler = _collector()
    await adapter.subscribe_order_updates(handler)
    fake.set_tradeable("EUR_USD", False)

    placed = await adapter.place_order(
        order("halted-1", OrderSide.BUY, OrderType.MARKET, tif=TimeInForce.IOC)
    )

    assert fake.venue_record()["halted-1"]["status"] == "CANCELLED"
    assert placed.status is OrderStatus.REJECTED
    assert placed.filled_quantity == 0
    assert placed.reason is not None
    assert "MARKET_HALTED" in placed.reason
    assert "EUR_USD" in placed.reason
    assert "not tradeable" in placed.reason

    read = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("halted-1"))
    assert read is not None
    assert (read.status, read.reason) == (OrderStatus.REJECTED, placed.reason)

    await _until(lambda: adapter.last_transaction_id == fake.book.last_id)
    states = [u for u in updates if isinstance(u, VenueOrderState)]
    assert states[-1].client_order_id == "halted-1"
    assert (states[-1].status, states[-1].reason) == (OrderStatus.REJECTED, placed.reason)
    assert not [u for u in updates if isinstance(u, VenueFill)]


async def test_tradeability_changes_are_logged_once_per_transition(
    adapter: OandaAdapter, fake: FakeOanda, logs: list[MutableMapping[str, Any]]
) -> None:
    seen, handler = _collector()
    await adapter.subscribe_quotes([EURUSD], handler)
    await _until(lambda: len(seen) == 1)

    fake.set_tradeable("EUR_USD", False)
    for step in range(5):  # indicative ticks while closed
        fake.set_quote("EUR_USD", BID + step * Decimal("0.00001"), ASK)
    await _until(lambda: len(seen) == 7)
    fake.disconnect_streams()  # the reconnect's snapshot is untradeable again
    await _until(lambda: len(seen) == 8)
    await adapter.quote(EURUSD)
    fake.set_tradeable("EUR_USD", True)
    for step in range(3):
        fake.set_quote("EUR_USD", BID + step * Decimal("0.00001"), ASK)
    await _until(lambda: len(seen) == 12)
    fake.set_tradeable("EUR_USD", False)
    await _until(lambda: len(seen) == 13)

    assert _transitions(logs) == [
        (CLOSED, "EUR_USD"),
        (OPEN, "EUR_USD"),
        (CLOSED, "EUR_USD"),
    ]
    closed = next(e for e in logs if e["event"] == CLOSED)
    assert closed["log_level"] == "warning"


def _engine(journal: MemoryJournal) -> TradingEngine:
    instrument = InstrumentRegistry().get("EURUSD")
    venue = VenueId("OANDA")
    return TradingEngine(
        account_id=AccountId("CLOSED"),
        registry=InstrumentRegistry([instrument]),
        journal=journal,
        clock=LiveClock(),
        venues={venue: OANDA_CAPABILITIES},
        default_venue=venue,
        limits=RiskLimits(enforce_min_notional=False),
    )


async def test_engine_marks_the_indicative_price_and_rejects_the_market_order(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    journal = MemoryJournal()
    engine = _engine(journal)
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    quotes: list[MarketData] = []

    async def on_quote(tick: MarketData) -> None:
        quotes.append(tick)
        await client.run_engine(partial(engine.on_market_data, tick))

    await adapter.subscribe_order_updates(client.on_update)
    await adapter.subscribe_quotes([EURUSD], on_quote)
    await _until(lambda: len(quotes) == 1)
    fake.set_tradeable("EUR_USD", False)
    fake.set_quote("EUR_USD", Decimal("1.08000"), Decimal("1.08040"))
    await _until(lambda: len(quotes) == 3)

    buy = OrderRequest(
        instrument_id=InstrumentId("EURUSD"),
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(1000),
    )
    placed = await client.run_engine(partial(engine.submit, buy))

    booked = engine.state.orders[placed.client_order_id]
    assert booked.status is OrderStatus.REJECTED
    engine.flush(force=True)
    rejections = [
        r.event for r in journal.read(engine.account_id) if type(r.event) is OrderRejected
    ]
    assert [r.client_order_id for r in rejections] == [placed.client_order_id]
    assert "EUR_USD" in rejections[0].reason
    assert "not tradeable" in rejections[0].reason
    assert engine.state.marks[EURUSD] == Decimal("1.08020")
    assert placed.client_order_id not in fake.venue_record()


async def test_emulated_trailing_stop_survives_an_indicative_price_while_closed(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    # OANDA has no stand-alone trailing stop: the engine emulates it on the quotes the
    # adapter publishes, indicative ones included. A native stop would wait for the
    # reopen; the emulated one triggers on the closed market's mark, its MARKET release
    # is refused (MARKET_HALTED) and nothing protects the position when OANDA reopens.
    journal = MemoryJournal()
    engine = _engine(journal)
    client = ExecutionClient(engine, adapter, policy=ExecutionPolicy(unknown_checks=1), seed=1)
    quotes: list[MarketData] = []

    async def on_quote(tick: MarketData) -> None:
        quotes.append(tick)
        await client.run_engine(partial(engine.on_market_data, tick))

    await adapter.subscribe_order_updates(client.on_update)
    await adapter.subscribe_quotes([EURUSD], on_quote)
    await _until(lambda: len(quotes) == 1)
    stop = OrderRequest(
        instrument_id=InstrumentId("EURUSD"),
        side=OrderSide.SELL,
        order_type=OrderType.TRAILING_STOP,
        quantity=Decimal(1000),
        trailing_offset=Decimal("0.00100"),
        trailing_offset_type=TrailingOffsetType.PRICE,
    )
    placed = await client.run_engine(partial(engine.submit, stop))
    booked = engine.state.orders[placed.client_order_id]
    assert booked.emulated
    fake.set_tradeable("EUR_USD", False)
    fake.set_quote("EUR_USD", Decimal("1.09700"), Decimal("1.09760"))  # indicative, lower
    await _until(lambda: len(quotes) == 3)
    await asyncio.sleep(0.1)
    fake.set_tradeable("EUR_USD", True)
    await _until(lambda: len(quotes) == 4)
    await asyncio.sleep(0.1)

    assert booked.status is not OrderStatus.REJECTED
